"""``torch.utils.data``'s names, so ``from numnet.utils.data import DataLoader, TensorDataset`` works.

A thin re-export: everything lives in ``numnet.data`` (see there for the loader's fast path, seeded
resumable shuffling and the in-process ``num_workers``).
"""

from numnet.data.dataset import Dataset, Subset, TensorDataset, random_split
from numnet.data.loader import DataLoader, default_collate
from numnet.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "random_split",
]
