"""Reductions: sum, mean, max, min, prod, var, logsumexp, the 2-norm over all elements or along axes, and
the cumulative sum."""

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


def _spread(grad: np.ndarray, axes: tuple[int, ...], keepdims: bool, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` at every reduced position of an input of ``shape``: a read-only view, no copy (PyTorch's
    ``expand``). A reduction over everything (a loss's sum or mean) has a 0-d gradient, whose view is made
    directly, zero strides over its one element: ``np.broadcast_to`` costs 3× as much (~2.5 µs a step)."""
    if type(grad) is not np.ndarray:  # a NumPy or Python scalar from a custom backward
        grad = np.asarray(grad)
    if grad.ndim == 0:
        view = np.ndarray(shape, grad.dtype, grad, 0, (0,) * len(shape))
        view.flags.writeable = False  # as broadcast_to's: every position is the same element
        return view
    return np.broadcast_to(_expand_to_input(grad, axes, keepdims), shape)


class Sum(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.shape = keepdims, x.shape
        return np.add.reduce(x, axis=self.axes, keepdims=keepdims)  # np.sum's reduction, minus its wrapper

    def backward(self, grad):
        # z = Σ x  →  dx = g, copied to every summed position
        return _spread(grad, self.axes, self.keepdims, self.shape)


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
        return _spread(grad / self.count, self.axes, self.keepdims, self.shape)


class _Extreme(Function):
    """max / min. Ties share the gradient equally (as torch.amax), so the result does not depend on order."""

    reduce = staticmethod(np.max)

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        if x.size == 0 and (x.ndim == 0 or any(x.shape[a] == 0 for a in self.axes)):
            raise ValueError(
                f"{self.name.lower()} over an empty dimension (shape {x.shape}, dim {axis}): there is no "
                "extreme of nothing; reduce over a dimension of nonzero length"
            )
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


def _to_last(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``x`` with ``axes`` moved to the end and merged into one: shape (kept…, n)."""
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    return moved.reshape((*moved.shape[: len(kept)], -1))


def _from_last(y: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_to_last``: back to ``shape``."""
    kept = [a for a in range(len(shape)) if a not in axes]
    order = kept + list(axes)
    y = y.reshape(tuple(shape[a] for a in order))
    return np.transpose(y, np.argsort(order))


class Prod(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.x = keepdims, x
        return np.prod(x, axis=self.axes, keepdims=keepdims)

    def backward(self, grad):
        # z = Π xᵢ  →  dxᵢ = g·Π_{j≠i} xⱼ, as (product of those before i)·(product of those after i): exact
        # where some xⱼ are 0, where g·z/xᵢ would divide by zero
        x, axes = self.x, self.axes
        if not axes:
            return grad
        flat = _to_last(x, axes)
        ones = np.ones((*flat.shape[:-1], 1), dtype=x.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = _from_last(before * after, x.shape, axes)
        return _expand_to_input(grad, axes, self.keepdims) * others


class Var(Function):
    def forward(self, x, axis=None, keepdims=False, correction=1):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.shape = keepdims, x.shape
        n = math.prod(x.shape[a] for a in self.axes)
        self.divisor = max(n - correction, 0)
        self.centered = x - np.mean(x, axis=self.axes, keepdims=True) if n else x
        with np.errstate(divide="ignore", invalid="ignore"):  # n ≤ correction: inf or nan, as PyTorch
            return np.sum(self.centered * self.centered, axis=self.axes, keepdims=keepdims) / self.divisor

    def backward(self, grad):
        # v = Σ (xᵢ − x̄)² / (n − c)  →  dxᵢ = g·2(xᵢ − x̄)/(n − c)  (the x̄ terms sum to zero)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _expand_to_input(grad, self.axes, self.keepdims) * (2 / self.divisor) * self.centered


class LogSumExp(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.x = keepdims, x
        if x.size == 0:
            self.out = np.full(np.sum(x, axis=self.axes, keepdims=True).shape, -np.inf, dtype=x.dtype)
        else:
            m = np.max(x, axis=self.axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0)  # all −inf (or an inf) along the axis: no shift
            self.out = m + np.log(np.sum(np.exp(x - m), axis=self.axes, keepdims=True))
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, grad):
        # z = log Σ eˣ  →  dx = g·eˣ⁻ᶻ (the softmax)
        with np.errstate(invalid="ignore"):
            return _expand_to_input(grad, self.axes, self.keepdims) * np.exp(self.x - self.out)


class Norm2(Function):
    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims, self.x = keepdims, x
        self.out = np.sqrt(np.sum(x * x, axis=self.axes, keepdims=True))
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, grad):
        # z = √Σ x²  →  dx = g·x / z, and 0 where z = 0 (as PyTorch's subgradient)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(self.out == 0, 0, self.x / self.out)
        return _expand_to_input(grad, self.axes, self.keepdims) * scaled


class CumSum(Function):
    def forward(self, x, axis):
        self.axis = _one_axis(axis, x.ndim) if x.ndim else None
        return np.cumsum(x, axis=self.axis).reshape(x.shape)

    def backward(self, grad):
        # zᵢ = Σ_{j≤i} xⱼ  →  dxⱼ = Σ_{i≥j} gᵢ: the cumulative sum of g taken from the end
        if self.axis is None:
            return grad
        flipped = np.flip(grad, axis=self.axis)
        return np.flip(np.cumsum(flipped, axis=self.axis), axis=self.axis)
