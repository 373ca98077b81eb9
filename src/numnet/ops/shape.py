"""Shape and selection: reshape, transpose, indexing, concatenate, stack, dtype cast."""

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
