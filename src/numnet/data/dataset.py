"""Datasets: anything with ``__len__`` and ``__getitem__``, plus the array-backed ``TensorDataset``.

``TensorDataset`` keeps its arrays whole, so ``DataLoader`` can gather a batch with one gather of rows per
array instead of collating samples one by one. ``Subset`` of a ``TensorDataset`` keeps that fast path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet import backend
from numnet.tensor import Tensor

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of a map-style dataset: ``len(ds)`` samples, ``ds[i]`` for ``0 <= i < len(ds)``.

    Subclasses implement ``__len__`` and ``__getitem__``. An item is usually a tuple ``(x, y)`` of arrays or
    numbers; ``DataLoader`` stacks the fields of several items into batches.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _as_array(value: Any, position: int) -> np.ndarray:
    if isinstance(value, Tensor):
        array = value.data
    else:
        array = np.asarray(value)
    if array.ndim == 0:
        raise ValueError(
            f"TensorDataset: array {position} is a scalar; every array needs a first (sample) axis"
        )
    if array.dtype == object:
        raise TypeError(f"TensorDataset: array {position} has dtype object; give numeric arrays")
    return array


class TensorDataset(Dataset):
    """Samples are rows of several arrays that share their first dimension.

    ``TensorDataset(X, y)`` with ``X`` of shape ``(N, ...)`` and ``y`` of shape ``(N, ...)``: item ``i`` is
    the tuple ``(X[i], y[i])`` of Tensors (views of the rows, no gradient), as in PyTorch. Arrays and
    ``Tensor`` s are kept without a copy (a tensor's ``.data``), dtypes unchanged; ``.arrays`` is the tuple of
    NumPy arrays, ``.tensors`` the same as Tensors. (``DataLoader`` gathers whole batches from ``.arrays``
    directly, never item by item.)

    Raises ``ValueError`` naming the lengths when the first dimensions differ.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        converted = tuple(_as_array(a, i) for i, a in enumerate(arrays))
        lengths = [a.shape[0] for a in converted]
        if len(set(lengths)) != 1:
            raise ValueError(
                f"TensorDataset: all arrays must have the same first dimension, got lengths {lengths}"
            )
        self.arrays: tuple[np.ndarray, ...] = converted

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as Tensors sharing their memory (the PyTorch attribute)."""
        return tuple(Tensor(a) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple([Tensor._wrap(a[index], False) for a in self.arrays])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order (``indices``: a sequence of ints)."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.ndim != 1:
            raise ValueError(f"Subset: indices must be one-dimensional, got shape {idx.shape}")
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be integers, got dtype {idx.dtype}")
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} samples")
        self.dataset = dataset
        self.indices: np.ndarray = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {type(self.dataset).__name__} with {len(self.dataset)})"


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    values = list(lengths)
    if not values:
        raise ValueError("random_split: give at least one length or fraction")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        counts = [int(v) for v in values]
        if any(c < 0 for c in counts):
            raise ValueError(f"random_split: lengths must be non-negative, got {counts}")
        if sum(counts) != n:
            raise ValueError(f"random_split: lengths {counts} sum to {sum(counts)}, not the dataset's {n}")
        return counts
    fractions = [float(v) for v in values]
    if any(not 0.0 <= f <= 1.0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: give integer lengths summing to {n} or fractions in [0, 1] summing to 1, "
            f"got {values}"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):  # hand out the remainder one by one, as PyTorch does
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset: Any, lengths_or_fractions: Sequence[float], generator: Any = None, seed: int | None = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset`` s.

    ``lengths_or_fractions``: integer lengths that sum to ``len(dataset)``, or fractions that sum to 1 (the
    floors, with the remainder handed out one each from the first split on). The permutation comes from
    ``generator`` (a ``numpy.random.Generator``, or an integer seed) or ``np.random.default_rng(seed)`` when
    either is given, else from numnet's generator (``numnet.backend.get_rng()``, so ``numnet.manual_seed``
    covers it).
    """
    from numnet.data.sampler import as_generator

    n = len(dataset)
    counts = _split_lengths(n, lengths_or_fractions)
    rng = as_generator(generator, "random_split")
    if rng is None:
        rng = np.random.default_rng(seed) if seed is not None else backend.get_rng()
    perm = rng.permutation(n)
    splits = []
    start = 0
    for count in counts:
        splits.append(Subset(dataset, perm[start : start + count]))
        start += count
    return splits
