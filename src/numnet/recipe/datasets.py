"""Named datasets and data files for the command line, as train / validation / test splits."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from numnet import data

NAMED = ("mnist", "fashion-mnist", "digits", "xor", "moons", "circles", "spirals", "curve", "gender")
# Datasets drawn at random, whose size --samples sets.
GENERATED = ("moons", "circles", "spirals", "curve")
# An integer target column with more distinct labels than this is taken for an ID or a quantity, not
# classes: --task auto asks which it is instead of building a layer with that many outputs.
MAX_AUTO_CLASSES = 1000
# Even with --task classification, no more outputs than this (one output per class is allocated).
MAX_CLASSES = 100_000


class DatasetError(ValueError):
    """A dataset name or file that cannot be used; the message says what to do."""


@dataclass
class Splits:
    """``train``/``validation``/``test`` as (X float32 (N, D), y) pairs; y int64 labels for classification,
    float32 (N, k) for regression. ``validation`` or ``test`` may be None.

    ``image_shape`` is (C, H, W) when the rows are images (mnist, fashion-mnist, digits, an .npz of images),
    None for flat features; ``as_images()`` gives the splits with X shaped (N, C, H, W) for a CNN."""

    name: str
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray] | None
    test: tuple[np.ndarray, np.ndarray] | None
    task: str  # "classification" or "regression"
    num_outputs: int
    feature_names: list[str] | None = None
    image_shape: tuple[int, int, int] | None = None

    def as_images(self) -> Splits:
        """These splits with every X reshaped (views, no copy) from (N, C·H·W) to (N, C, H, W).

        Raises DatasetError when the rows are not images (moons, a CSV of features)."""
        if self.image_shape is None:
            raise DatasetError(
                f"dataset {self.name} has flat features, not images, so a CNN cannot take it; use --model "
                "mlp, or an image dataset (mnist, fashion-mnist, digits, or an .npz whose X is (N, C, H, W))"
            )
        shape = self.image_shape

        def reshaped(split: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
            return None if split is None else (split[0].reshape(len(split[0]), *shape), split[1])

        return replace(
            self, train=reshaped(self.train), validation=reshaped(self.validation), test=reshaped(self.test)
        )

    @property
    def in_features(self) -> int:
        """The number of values in one input sample (C·H·W for images)."""
        return int(np.prod(self.train[0].shape[1:]))

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input sample, e.g. ``(784,)``."""
        return tuple(int(n) for n in self.train[0].shape[1:])


def _classification(name: str, train, validation, test, **extra) -> Splits:
    labels = np.concatenate([s[1] for s in (train, validation, test) if s is not None])
    return Splits(name, train, validation, test, "classification", int(labels.max()) + 1, **extra)


def _split(x: np.ndarray, y: np.ndarray, seed: int, fractions=(0.7, 0.15)) -> tuple:
    order = np.random.default_rng(seed).permutation(len(x))
    n_train, n_val = int(fractions[0] * len(x)), int(fractions[1] * len(x))
    parts = np.split(order, [n_train, n_train + n_val])
    if min(len(p) for p in parts) == 0:
        raise DatasetError(
            f"{len(x)} samples are too few to split into train/validation/test "
            f"({len(parts[0])}/{len(parts[1])}/{len(parts[2])}); use at least 7"
        )
    return tuple((x[p], y[p]) for p in parts)


def load_dataset(
    name: str,
    seed: int = 0,
    target: str | None = None,
    n_samples: int | None = None,
    task: str = "auto",
) -> Splits:
    """A named dataset (see ``NAMED``) or a CSV/NPZ file path. ``task`` (``auto``, ``classification`` or
    ``regression``) says how a file's target column is read; named datasets have their own task."""
    if task not in ("auto", "classification", "regression"):
        raise DatasetError(f"task must be auto, classification or regression, got {task!r}")
    if n_samples is not None and (
        isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1
    ):
        raise DatasetError(f"--samples must be a positive whole number, got {n_samples!r}")
    key = name.lower()
    if key in ("mnist", "fashion-mnist"):
        loader = data.load_mnist if key == "mnist" else data.load_fashion_mnist
        splits = loader()
        return _classification(key, splits.train, splits.validation, splits.test, image_shape=(1, 28, 28))
    if key == "digits":
        x, y = data.load_digits()
        return _classification(key, *_split(x, y, seed), image_shape=(1, 8, 8))
    if key == "xor":
        x, y = data.make_xor()
        return _classification(key, (x, y), None, (x, y))
    if key == "gender":
        gender = data.load_gender()
        return _classification(
            key,
            (gender.data, gender.target),
            None,
            (gender.data, gender.target),
            feature_names=list(gender.feature_names),
        )
    if key in ("moons", "circles", "spirals"):
        maker = {"moons": data.make_moons, "circles": data.make_circles, "spirals": data.make_spirals}[key]
        x, y = maker(n_samples or 1000, seed=seed)
        return _classification(key, *_split(x, y, seed))
    if key == "curve":
        x, y = data.make_curve(n_samples or 1000, seed=seed)
        x_test = np.linspace(0, 1, 100, dtype=np.float32).reshape(-1, 1)
        return Splits(key, (x, y), None, (x_test, data.curve_function(x_test)), "regression", 1)
    path = Path(name)
    if path.suffix.lower() in (".csv", ".npz"):
        return _load_file(path, seed, target, task)
    raise DatasetError(
        f"unknown dataset {name!r}: use one of {', '.join(NAMED)}, or a .csv / .npz file with a target column"
    )


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = set(archive.files)
            pair = next(
                ((a, b) for a, b in (("X", "y"), ("x", "y"), ("data", "target")) if {a, b} <= keys), None
            )
            if pair is None:
                raise DatasetError(f"{path}: an .npz needs arrays named X and y (has {sorted(keys)})")
            x, y = archive[pair[0]], archive[pair[1]]
    except DatasetError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        # NumPy's own message for an object array suggests loading it with pickle: numnet never does that
        pickled = "pickle" in str(exc).lower() or "object" in str(exc).lower()
        raise DatasetError(
            f"{path}: holds Python objects (pickled data), which numnet never loads; save plain numeric "
            "arrays with np.savez(path, X=..., y=...)"
            if pickled
            else f"{path} is not a readable .npz archive ({type(exc).__name__}); write one with np.savez"
        ) from None
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: X and y must be numeric arrays (got {x.dtype} and {y.dtype})")
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise DatasetError(f"{path}: X and y need one row per sample (shapes {x.shape} and {y.shape})")
    return x, y


def _load_file(path: Path, seed: int, target: str | None, task: str = "auto") -> Splits:
    if not path.is_file():
        raise DatasetError(f"data file {path} does not exist")
    image_shape = None
    if path.suffix.lower() == ".npz":
        x, y = _read_npz(path)
        feature_names = None
        if x.ndim in (3, 4) and min(x.shape[1:]) >= 1:  # images (N, H, W) or (N, C, H, W)
            image_shape = tuple(int(n) for n in ((1, *x.shape[1:]) if x.ndim == 3 else x.shape[1:]))
    else:
        x, y, feature_names = _read_csv(path, target)
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    if len(x) < 3:
        raise DatasetError(f"{path}: needs at least 3 rows to split into train/validation/test, has {len(x)}")
    if not np.all(np.isfinite(x)):
        raise DatasetError(f"{path}: the features contain NaN or infinite values; clean or impute them first")
    y = np.asarray(y)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        rows = np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))
        raise DatasetError(
            f"{path}: the target has NaN or infinite values ({len(rows)} rows, the first row {rows[0] + 1}); "
            "drop or fill those rows first"
        )
    whole = y.dtype.kind in "iub" or (y.dtype.kind == "f" and bool(np.all(y == np.round(y))))
    if task == "classification" and not whole:
        raise DatasetError(f"{path}: --task classification needs whole-number class labels 0, 1, 2, …")
    integral = task == "classification" or (
        task == "auto"
        and (y.dtype.kind in "iub" or (y.dtype.kind == "f" and whole and len(np.unique(y)) <= 50))
    )
    if integral:
        if y.ndim > 1 and y.size != len(y):
            raise DatasetError(f"{path}: class labels must be one column, got shape {y.shape}")
        y = y.reshape(-1)
        if y.size and (y.min() < 0 or y.max() >= MAX_CLASSES):
            bad = y.min() if y.min() < 0 else y.max()
            raise DatasetError(
                f"{path}: class labels must be 0, 1, 2, … below {MAX_CLASSES:,}; found {bad}"
                + ("; if the target is a quantity, pass --task regression" if bad > 0 else "")
            )
        labels = y.astype(np.int64)
        classes = int(labels.max()) + 1 if labels.size else 0
        if task == "auto" and classes > MAX_AUTO_CLASSES:
            raise DatasetError(
                f"{path}: the target column holds whole numbers up to {classes - 1:,} "
                f"({len(np.unique(labels)):,} distinct): as classes that is a {classes:,}-output layer. "
                "If it is a quantity, pass --task regression; if they are classes, --task classification"
            )
        train, validation, test = _split(x, labels, seed)
        return _classification(
            path.name, train, validation, test, feature_names=feature_names, image_shape=image_shape
        )
    y = y.astype(np.float32).reshape(len(y), -1)
    train, validation, test = _split(x, y, seed)
    return Splits(path.name, train, validation, test, "regression", y.shape[1], feature_names, image_shape)


def _read_csv(path: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise DatasetError(f"{path}: a CSV needs a header row and at least one data row")
    header, body = rows[0], [row for row in rows[1:] if row]  # csv gives [] for a blank line
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise DatasetError(
                f"{path}: data row {number} has {len(row)} values but the header has {len(header)}"
            )
    column = len(header) - 1 if target is None else _column(header, target, path)
    try:
        table = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(
            f"{path}: every value must be a number ({exc}); encode text columns first"
        ) from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise DatasetError(f"{path}: every row must have {len(header)} values like the header")
    features = [h for i, h in enumerate(header) if i != column]
    return np.delete(table, column, axis=1), table[:, column], features


def _column(header: list[str], target: str, path: Path) -> int:
    if target in header:
        return header.index(target)
    raise DatasetError(f"{path}: no column named {target!r}; columns are {', '.join(header)}")
