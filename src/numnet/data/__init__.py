"""Layer 6: data — datasets, the ``DataLoader``, preprocessing, toy sets and real data (digits, MNIST).

Everything here works on NumPy arrays and depends only on ``numnet.tensor`` and ``numnet.backend``:

* ``Dataset``, ``TensorDataset``, ``Subset``, ``random_split`` — map-style datasets;
* ``DataLoader`` — mini-batches, fast for array-backed datasets, with resumable seeded shuffling;
* ``Sampler``, ``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``,
  ``BatchSampler`` — which samples a loader visits (also reachable as ``numnet.utils.data``);
* ``Standardizer`` / ``standardize``, ``one_hot``, ``train_test_split`` — preprocessing;
* ``make_xor``, ``make_curve``, ``load_gender``, ``make_moons``, ``make_circles``, ``make_spirals``: toys;
* ``load_digits`` (scikit-learn's 8×8 digits), ``load_mnist``, ``load_fashion_mnist`` — real data;
* ``read_idx`` / ``write_idx`` (MNIST's file format), ``read_array_pickle`` (parses the MNIST pickle, never
  unpickles it).
"""

from numnet.data.dataset import Dataset, Subset, TensorDataset, random_split
from numnet.data.digits import load_digits
from numnet.data.idx import IDXError, read_idx, write_idx
from numnet.data.loader import DataLoader, default_collate
from numnet.data.mnist import (
    FASHION_MNIST_CLASSES,
    ChecksumError,
    DatasetNotFoundError,
    MNISTData,
    data_folder,
    download,
    load_fashion_mnist,
    load_mnist,
)
from numnet.data.pickle_parser import PickleParseError, read_array_pickle
from numnet.data.preprocessing import Standardizer, one_hot, standardize, train_test_split
from numnet.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from numnet.data.toy import (
    GENDER_OFFSETS,
    Bunch,
    curve_function,
    curve_linspace,
    load_gender,
    make_circles,
    make_curve,
    make_moons,
    make_spirals,
    make_xor,
)

__all__ = [
    "FASHION_MNIST_CLASSES",
    "GENDER_OFFSETS",
    "BatchSampler",
    "Bunch",
    "ChecksumError",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "IDXError",
    "MNISTData",
    "PickleParseError",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Standardizer",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "curve_function",
    "curve_linspace",
    "data_folder",
    "default_collate",
    "download",
    "load_digits",
    "load_fashion_mnist",
    "load_gender",
    "load_mnist",
    "make_circles",
    "make_curve",
    "make_moons",
    "make_spirals",
    "make_xor",
    "one_hot",
    "random_split",
    "read_array_pickle",
    "read_idx",
    "standardize",
    "train_test_split",
    "write_idx",
]
