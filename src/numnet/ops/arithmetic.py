"""Arithmetic: + - * / ** @ and negation.

Shapes may broadcast; each backward returns gradients of the broadcast shape and the engine sums them back
to each input's shape (see ``numnet.tensor.unbroadcast``). Mixed dtypes promote as PyTorch's do
(``numnet.tensor.promote``): float32 with an int64 tensor stays float32; Python numbers never promote.
"""

from __future__ import annotations

import numpy as np

from numnet.backend import constant, get_default_dtype
from numnet.tensor import Function, promote


class Add(Function):
    def forward(self, a, b):
        a, b = promote(a, b)
        return np.add(a, b)

    def backward(self, grad):
        # z = a + b  →  dz/da = 1, dz/db = 1
        return grad, grad


class Sub(Function):
    def forward(self, a, b):
        a, b = promote(a, b)
        return np.subtract(a, b)

    def backward(self, grad):
        # z = a − b  →  da = g, db = −g
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        a, b = promote(a, b)
        self.a, self.b = a, b
        return np.multiply(a, b)

    def backward(self, grad):
        # z = a·b  →  da = g·b, db = g·a
        da = grad * self.b if self.needs_input_grad[0] else None
        db = grad * self.a if self.needs_input_grad[1] else None
        return da, db


class Div(Function):
    def forward(self, a, b):
        a, b = promote(a, b)
        if np.result_type(a, b).kind not in "fc":  # integer / integer is true division, in the default float
            a, b = np.asarray(a, dtype=get_default_dtype()), np.asarray(b, dtype=get_default_dtype())
        self.a, self.b = a, b
        return np.divide(a, b)

    def backward(self, grad):
        # z = a / b  →  da = g / b, db = −g·a / b², computed as −(g/b)·(a/b): b² would underflow to 0 for
        # |b| < 1e-154 (and overflow for |b| > 1e154) where the quotients are still finite
        da = grad / self.b if self.needs_input_grad[0] else None
        db = -(grad / self.b) * (self.a / self.b) if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    def forward(self, a):
        return np.negative(a)

    def backward(self, grad):
        return -grad


def _as_operand(value):
    """Lists become arrays (backward formulas do arithmetic on them); Python numbers stay as they are, so
    that they keep the tensor's dtype (NumPy treats a Python float as weak, a NumPy float64 as float64)."""
    return np.asarray(value) if isinstance(value, (list, tuple)) else value


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = promote(_as_operand(a), _as_operand(b))
        self.out = np.power(self.a, self.b)
        return self.out

    def backward(self, grad):
        # z = aᵇ  →  da = g·b·aᵇ⁻¹, db = g·aᵇ·ln a
        # (as PyTorch: da = 0 where b = 0, even at a = 0; db = 0 where a = 0 and b ≥ 0, since aᵇ is then
        # constant in b from the right)
        a, b = self.a, self.b
        da = db = None
        if self.needs_input_grad[0]:
            if np.ndim(b) == 0 and b == 0:
                da = np.zeros_like(grad)
            else:  # where b = 0 the factor b is exact 0 but aᵇ⁻¹ may be inf (0⁻¹): 0, as PyTorch
                with np.errstate(divide="ignore", invalid="ignore"):
                    da = grad * b * np.power(a, b - 1)
                if np.ndim(b) != 0:
                    da = np.where(np.asarray(b) == 0, 0, da).astype(da.dtype, copy=False)
        if self.needs_input_grad[1]:
            a = np.asarray(a, dtype=self.out.dtype)  # ln of a Python base in the output's dtype, not float64
            with np.errstate(divide="ignore", invalid="ignore"):
                db = grad * np.where((a == 0) & (np.asarray(b) >= 0), 0, self.out * np.log(a))
        return da, db


def _check_matmul(a: np.ndarray, b: np.ndarray) -> None:
    """Called only after np.matmul failed: raise a ValueError that names both shapes and what is wrong."""
    a_shape, b_shape = np.shape(a), np.shape(b)
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(
            f"matmul (@): both operands need at least one dimension, got shapes {a_shape} and {b_shape}"
        )
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    which = "first" if len(b_shape) == 1 else "second-to-last"
    if a_shape[-1] != inner_b:
        raise ValueError(
            f"matmul (@): shapes {a_shape} and {b_shape} do not align: the last dimension of the left "
            f"({a_shape[-1]}) must equal the {which} of the right ({inner_b})"
        )
    raise ValueError(
        f"matmul (@): the batch dimensions of shapes {a_shape} and {b_shape} do not broadcast "
        f"({a_shape[:-2]} against {b_shape[:-2]})"
    )


def matmul_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for operands of at least 2 dimensions whose shapes align (MatMul's backward makes them so). Over
    a contracted dimension of length 1 each entry is a single product: matmul computes 0 + a·b, which a
    broadcast multiply plus 0 gives bit for bit (the + 0 turns the product's −0 into matmul's and PyTorch's
    +0); NumPy's matmul costs about 3× as much there on a stack of small matrices (the fit demo's nets)."""
    if a.shape[-1] == 1:
        out = np.multiply(a, b)
        out += constant(0, out.dtype)  # −0 → +0, every other value unchanged
        return out
    return np.matmul(a, b)


class MatMul(Function):
    def forward(self, a, b):
        try:
            out = np.matmul(a, b)
        except ValueError:
            _check_matmul(a, b)  # always raises, with both shapes
            raise
        self.a, self.b = np.asarray(a), np.asarray(b)  # a constant operand may be a list
        return out

    def backward(self, grad):
        # Z = A·B  →  dA = G·Bᵀ, dB = Aᵀ·G  (batch dimensions broadcast; the engine sums them back).
        a, b = self.a, self.b
        if a.ndim == 1 and b.ndim == 1:  # dot product: a scalar
            return grad * b, grad * a
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        da = db = None
        if self.needs_input_grad[0]:
            da = matmul_array(g2, b2.swapaxes(-1, -2))  # the method: np.swapaxes costs 3.5× as much
            if a.ndim == 1:
                da = da[..., 0, :]
        if self.needs_input_grad[1]:
            db = matmul_array(a2.swapaxes(-1, -2), g2)
            if b.ndim == 1:
                db = db[..., 0]
        return da, db
