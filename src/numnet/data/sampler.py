"""Samplers: which samples a ``DataLoader`` visits, in which order (``torch.utils.data``'s classes).

A sampler is an iterable of sample indices with a ``__len__``; ``BatchSampler`` groups one into lists of
indices. The ``DataLoader`` reads a sampler's whole epoch of indices at once and still gathers each batch of
an array-backed dataset with one gather of rows per array.

``generator`` (for the random ones): a ``numpy.random.Generator``, an integer seed (a generator is made from
it once, when the sampler is built), or None for numnet's global generator (``numnet.manual_seed`` covers it).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from numnet import backend

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "as_generator",
]


def as_generator(generator: Any, name: str) -> np.random.Generator | None:
    """``generator`` as a ``numpy.random.Generator`` (None stays None: numnet's global generator)."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool) and generator >= 0:
        return np.random.default_rng(int(generator))
    raise TypeError(
        f"{name}: generator must be a numpy.random.Generator, a non-negative integer seed or None, "
        f"got {type(generator).__name__}"
    )


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return backend.get_rng() if generator is None else generator


def _positive_int(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: {key} must be a positive integer, got {value!r}")
    return int(value)


class Sampler:
    """Base class: subclasses implement ``__iter__`` (sample indices) and usually ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) − 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the samples each epoch, or ``num_samples`` draws with ``replacement``."""

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = (
            None if num_samples is None else _positive_int("RandomSampler", "num_samples", num_samples)
        )
        self.generator = as_generator(generator, "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, rng = len(self.data_source), _rng(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, self.num_samples).tolist())
        rounds = -(-self.num_samples // n) if n else 0  # num_samples > n: several permutations back to back
        order = np.concatenate([rng.permutation(n) for _ in range(rounds)]) if rounds else np.zeros(0, int)
        return iter(order[: self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices``, in a new random order each epoch."""

    def __init__(self, indices: Iterable[int], generator: Any = None) -> None:
        self.indices = np.asarray(list(indices), dtype=np.int64)
        self.generator = as_generator(generator, "SubsetRandomSampler")

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices[_rng(self.generator).permutation(len(self.indices))].tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with replacement by
    default: the usual way to rebalance classes)."""

    def __init__(
        self, weights: Any, num_samples: int, replacement: bool = True, generator: Any = None
    ) -> None:
        w = np.asarray(weights.data if hasattr(weights, "data") else weights, dtype=np.float64)
        if w.ndim != 1 or not w.size or np.any(w < 0) or not np.isfinite(w).all() or w.sum() == 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be a 1-D sequence of finite, non-negative "
                "numbers, not all zero"
            )
        self.weights = w
        self.num_samples = _positive_int("WeightedRandomSampler", "num_samples", num_samples)
        self.replacement = bool(replacement)
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {self.num_samples} samples without replacement from "
                f"{np.count_nonzero(w)} with non-zero weight"
            )
        self.generator = as_generator(generator, "WeightedRandomSampler")

    def __iter__(self) -> Iterator[int]:
        p = self.weights / self.weights.sum()
        draws = _rng(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int("BatchSampler", "batch_size", batch_size)
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(f"BatchSampler: drop_last must be True or False, got {drop_last!r}")
        self.drop_last = bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
