"""Activation functions. Each backward reuses what the forward kept: a mask for ReLU, the output for
sigmoid, tanh and softmax, so no exponential is computed twice."""

from __future__ import annotations

import numpy as np

from numnet.backend import constant, zeros_like_cached
from numnet.tensor import Function


def relu_array(
    x: np.ndarray, out: np.ndarray | None = None, mask: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """(max(0, x), the backward's mask or None if not ``mask``), as PyTorch's ReLU: NaN stays NaN, −inf and
    negatives give +0 (−0 stays −0 where the CPU's max returns its second operand for two zeros, as x86's
    does). The mask is relu(x) ≠ 0, i.e. not x ≤ 0: PyTorch's backward passes g everywhere but where x ≤ 0,
    so a NaN input passes its gradient too. x·[x > 0], used before, gave NaN for −inf (−inf·0), −0 for every
    negative and no gradient at NaN. The zero is an array of zeros where that is faster
    (``zeros_like_cached``: NumPy's maximum against a 0-d zero is ≈ 4× slower on large contiguous arrays).
    ``out=x`` rectifies in place."""
    # a NumPy scalar gets its dtype's 0-d zero there (a Python 0 would turn a bool one into int64)
    zero = zeros_like_cached(x) if isinstance(x, (np.ndarray, np.generic)) else 0
    out = np.maximum(zero, x, out=out)
    return out, (out != 0 if mask else None)


class ReLU(Function):
    def forward(self, x):
        out, self.mask = relu_array(x)
        return out

    def backward(self, grad):
        # relu(x) = max(x, 0)  →  dx = g where x > 0, else 0.
        # (A tutorial bug multiplies g by x here instead of by 1: the derivative of x is 1, not x.)
        return grad * self.mask


class LeakyReLU(Function):
    def forward(self, x, negative_slope=0.01):
        self.slope = np.where(x > 0, 1, negative_slope).astype(x.dtype, copy=False)
        return x * self.slope

    def backward(self, grad):
        # f(x) = x for x > 0, a·x otherwise  →  dx = g·(1 or a)
        return grad * self.slope


def sigmoid_array(x: np.ndarray, inplace: bool = False) -> np.ndarray:
    """σ(x) = 1 / (1 + e⁻ˣ), without overflow warnings for very negative x (e⁻ˣ = inf gives σ = 0, exact).

    ``inplace``: overwrite ``x`` (an array of its own, such as a product just computed) instead of allocating.
    """
    with np.errstate(over="ignore"):
        out = np.asarray(np.negative(x, out=x if inplace else None))  # asarray: 0-d gives a NumPy scalar
        np.exp(out, out=out)
    out += constant(1, out.dtype)
    return np.reciprocal(out, out=out)


def sigmoid_backward(grad: np.ndarray, y: np.ndarray) -> np.ndarray:
    """σ'(x) = σ(x)·(1 − σ(x)), from the saved output y = σ(x): dx = g·σ·(1 − σ)."""
    dx = grad * y
    dx *= constant(1, y.dtype) - y  # in place on the fresh product (the same two roundings as g·σ·(1 − σ))
    return dx


class Sigmoid(Function):
    def forward(self, x):
        self.out = sigmoid_array(x)
        return self.out

    def backward(self, grad):
        return sigmoid_backward(grad, self.out)


class Tanh(Function):
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        # tanh'(x) = 1 − tanh²(x)
        y = self.out
        return grad * (1 - y * y)


def max_keepdims(x: np.ndarray, axis: int) -> np.ndarray:
    """``x.max(axis=axis, keepdims=True)``, faster for the logits of a classifier.

    For (N, C) rows of few classes along axis 1 (MNIST's (128, 10)), NumPy's row-wise reduction runs one
    short loop of C elements per row; the maximum of the C columns of the transposed copy is C − 1
    element-wise comparisons of N-long contiguous lines at SIMD speed: 6.7 → 2.2 µs on (128, 10) float32,
    the copy included. The same maximum, NaN included (np.maximum propagates it in any order); only the
    sign of a zero maximum may differ, which shifting by it cannot turn into a different probability.
    """
    if x.ndim == 2 and axis in (1, -1) and 1 <= x.shape[1] <= 32 and x.shape[0] >= 16:
        return np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return x.max(axis=axis, keepdims=True)


def softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x): shifting by the max cannot change the result but
    keeps every exponent ≤ 0, so nothing overflows. Along a zero-length axis the result is empty too."""
    if x.size == 0:
        return np.empty_like(x)
    shifted = np.asarray(x - max_keepdims(x, axis))  # an array even for 0-d x, for out=
    out = np.exp(shifted, out=shifted)
    out /= out.sum(axis=axis, keepdims=True)
    return out


def log_softmax_array(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x) = (x − max x) − log Σ exp(x − max x), stable for any logits."""
    if x.size == 0:
        return np.empty_like(x)
    shifted = x - max_keepdims(x, axis)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


class Softmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        self.out = softmax_array(x, axis)
        return self.out

    def backward(self, grad):
        # y = softmax(x)  →  dx = y ⊙ (g − Σ(g ⊙ y))  (the Jacobian diag(y) − y·yᵀ applied to g)
        y = self.out
        return y * (grad - (grad * y).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        out = log_softmax_array(x, axis)
        self.out = out
        return out

    def backward(self, grad):
        # y = log softmax(x)  →  dx = g − softmax(x)·Σg, with softmax(x) = exp(y)
        return grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True)


class Step(Function):
    """The step function 1[x > 0] of the perceptron. Its derivative is 0 almost everywhere, which is why
    backpropagation needs smooth activations: no gradient flows through it."""

    def forward(self, x):
        return (x > 0).astype(x.dtype if x.dtype.kind == "f" else np.int64)

    def backward(self, grad):
        return np.zeros_like(grad)
