"""Shape and selection: reshape, transpose, expand, repeat, indexing, gather, concatenate, stack, clone,
dtype cast."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function, Tensor


class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.shape)


class Transpose(Function):
    def forward(self, x, axes=None):
        out = np.transpose(x, axes)  # validates axes
        # kept non-negative: the inverse permutation is argsort of the permutation, which needs 0..n-1
        self.axes = None if axes is None else [a % x.ndim for a in axes]
        return out

    def backward(self, grad):
        # the gradient moves back through the inverse permutation
        if self.axes is None:
            return np.transpose(grad)
        return np.transpose(grad, np.argsort(self.axes))


def _plain_index(index) -> object:
    """Tensors inside an index become arrays (an index carries no gradient)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


plain_index = _plain_index


def _is_advanced(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (np.ndarray, list)) for p in parts)


class GetItem(Function):
    def forward(self, x, index):
        self.index = _plain_index(index)
        self.shape, self.dtype = x.shape, x.dtype
        try:
            return x[self.index]
        except IndexError as exc:
            raise IndexError(f"indexing a tensor of shape {x.shape}: {exc}") from None

    def backward(self, grad):
        # dx is zero except at the selected positions, which receive g; an element picked several times
        # (integer-array indexing with repeats) receives the sum, hence np.add.at rather than assignment.
        dx = np.zeros(self.shape, dtype=grad.dtype)
        if _is_advanced(self.index):
            np.add.at(dx, self.index, grad)
        else:
            dx[self.index] = grad
        return dx


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        try:
            out = np.concatenate(arrays, axis=axis)
        except ValueError as exc:  # AxisError is a ValueError too
            shapes = [np.shape(a) for a in arrays]
            raise ValueError(f"concatenate along axis {axis}: shapes {shapes} do not fit ({exc})") from None
        self.sizes = [np.shape(a)[axis] for a in arrays]
        return out

    def backward(self, grad):
        # each input gets back its own slice of g
        return tuple(np.split(grad, np.cumsum(self.sizes)[:-1], axis=self.axis))


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        try:
            return np.stack(arrays, axis=axis)
        except ValueError as exc:
            shapes = [np.shape(a) for a in arrays]
            raise ValueError(f"stack along axis {axis}: shapes {shapes} ({exc})") from None

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


class Cast(Function):
    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype, copy=False)

    def backward(self, grad):
        return grad.astype(self.dtype, copy=False)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        # z = x (a copy)  →  dx = g
        return grad


class Expand(Function):
    def forward(self, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {x.shape} cannot be expanded to {shape}") from None

    def backward(self, grad):
        # each input element was used once per copy: dx is g summed over the copies, which the engine's
        # unbroadcast does for every op
        return grad


class Repeat(Function):
    def forward(self, x, repeats):
        if len(repeats) < x.ndim:
            raise ValueError(
                f"repeat: give at least one count per dimension (shape {x.shape}), got {tuple(repeats)}"
            )
        self.shape = (1,) * (len(repeats) - x.ndim) + x.shape
        self.repeats = tuple(repeats)
        return np.tile(x.reshape(self.shape), self.repeats)

    def backward(self, grad):
        # out is the input tiled rᵢ times along dim i  →  dx = Σ over the tiles of g
        split = []
        for r, n in zip(self.repeats, self.shape, strict=True):
            split += [r, n]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(self.shape)


class Gather(Function):
    def forward(self, x, axis, index):
        index = np.asarray(index)
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather: the index must be an integer tensor, got dtype {index.dtype}")
        if index.ndim != x.ndim:
            raise ValueError(
                f"gather: index has {index.ndim} dimensions but the input has {x.ndim} (shape {x.shape})"
            )
        self.axis, self.index, self.shape = axis % max(x.ndim, 1), index, x.shape
        try:
            return np.take_along_axis(x, index, axis=self.axis)
        except (IndexError, ValueError) as exc:
            raise IndexError(
                f"gather along dim {axis} of shape {x.shape} with index {index.shape}: {exc}"
            ) from None

    def backward(self, grad):
        # out[…i…] = x[…index[…i…]…]  →  dx[…index[…i…]…] += g[…i…] (an index picked twice gets both)
        dx = np.zeros(self.shape, dtype=grad.dtype)
        positions = list(np.indices(self.index.shape, sparse=True))
        positions[self.axis] = self.index
        np.add.at(dx, tuple(positions), grad)
        return dx
