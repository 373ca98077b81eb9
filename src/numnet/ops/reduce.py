"""Reductions: sum, mean, max, min over all elements or along axes."""

from __future__ import annotations

import math

import numpy as np

from numnet.tensor import Function


def _normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints, negatives allowed) as sorted non-negative axes.

    A 0-d tensor accepts axis 0 or -1 (as PyTorch) and has nothing to reduce: ().
    """
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    try:
        normalized = tuple(sorted(_one_axis(a, ndim) for a in axes))
    except TypeError as exc:
        raise TypeError(f"axis must be an int, a tuple of ints or None, got {axis!r}") from exc
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return normalized if ndim else ()


def _one_axis(a, ndim: int) -> int:
    if isinstance(a, (float, bool, np.floating)):
        raise TypeError(f"axis {a!r} is not an int")
    a = int(a)
    if not -max(ndim, 1) <= a < max(ndim, 1):
        raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimension(s)")
    return a % max(ndim, 1)


def _expand_to_input(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Put back the reduced axes (as length 1) so ``grad`` broadcasts against the input."""
    if not keepdims and axes:
        grad = np.expand_dims(grad, axes)
    return grad


class Sum(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.shape = keepdims, x.shape
        return np.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        # z = Σ x  →  dx = g, copied to every summed position
        return np.broadcast_to(_expand_to_input(grad, self.axes, self.keepdims), self.shape)


class Mean(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.shape = keepdims, x.shape
        self.count = math.prod(x.shape[a] for a in self.axes)
        if self.count == 0:
            raise ValueError(f"mean of an empty selection (shape {x.shape}, axis {axis})")
        return np.add.reduce(x, axis=self.axes, keepdims=keepdims) / self.count

    def backward(self, grad):
        # z = (1/n)·Σ x  →  dx = g / n
        return np.broadcast_to(_expand_to_input(grad / self.count, self.axes, self.keepdims), self.shape)


class _Extreme(Function):
    """max / min. Ties share the gradient equally (as torch.amax), so the result does not depend on order."""

    reduce = staticmethod(np.max)

    def forward(self, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError(f"{self.name.lower()} of an empty tensor (shape {x.shape})")
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.x = keepdims, x
        self.out = self.reduce(x, axis=self.axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, grad):
        # dx = g where x equals the extreme (shared among ties), 0 elsewhere
        mask = self.x == self.out
        count = mask.sum(axis=self.axes, keepdims=True)
        share = (_expand_to_input(grad, self.axes, self.keepdims) / count).astype(self.x.dtype, copy=False)
        return mask * share


class Max(_Extreme):
    reduce = staticmethod(np.max)


class Min(_Extreme):
    reduce = staticmethod(np.min)
