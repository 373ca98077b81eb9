"""Tensor functions as plain calls (``numnet.exp(x)``, ``numnet.where(c, a, b)``, …), for those that read
better as functions than as methods, and for operations on several tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numnet.ops.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from numnet.ops.arithmetic import Add, Div, MatMul, Mul, Pow, Sub
from numnet.ops.elementwise import (
    Abs,
    Cos,
    Cosh,
    Exp,
    Expm1,
    Log,
    Log1p,
    Maximum,
    Minimum,
    Reciprocal,
    Rsqrt,
    Sign,
    Sin,
    Sinh,
    Sqrt,
    Square,
    Tan,
    Where,
)
from numnet.ops.shape import Concatenate, Stack
from numnet.tensor import Tensor, tensor


def _tensors(name: str, tensors: Sequence[Any]) -> list[Any]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name} expects a non-empty list or tuple of tensors")
    return list(tensors)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _dim(dim: Any, axis: Any) -> Any:
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis (its alias), not both")
        return axis
    return dim


def concatenate(tensors: Sequence[Tensor], dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension (``dim``, default 0; ``axis`` is its alias)."""
    dim = _dim(dim, axis)
    return Concatenate.apply(*_tensors("concatenate", tensors), axis=0 if dim is None else dim)


cat = concatenate


def stack(tensors: Sequence[Tensor], dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dimension (``dim``, default 0)."""
    dim = _dim(dim, axis)
    return Stack.apply(*_tensors("stack", tensors), axis=0 if dim is None else dim)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``.

    Gradients flow to ``a`` and ``b``, not to the condition.
    """
    if isinstance(condition, Tensor):
        condition = condition.data
    return Where.apply(condition, a, b)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:  # mirrors numpy.abs / torch.abs
    return Abs.apply(x)


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit to [min, max]: numbers or tensors (tensor bounds get gradients)."""
    return _as_tensor(input).clamp(min, max)


clip = clamp


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    dim = _dim(dim, axis)
    return Softmax.apply(x, axis=-1 if dim is None else dim)


def log_softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    dim = _dim(dim, axis)
    return LogSoftmax.apply(x, axis=-1 if dim is None else dim)


def step(x: Tensor) -> Tensor:
    """1 where x > 0, else 0. Its gradient is zero everywhere it exists."""
    return Step.apply(x)


# --- element-wise functions (as torch.sin, …) ---------------------------------------------------------------
def sin(input: Tensor) -> Tensor:
    return Sin.apply(input)


def cos(input: Tensor) -> Tensor:
    return Cos.apply(input)


def tan(input: Tensor) -> Tensor:
    return Tan.apply(input)


def sinh(input: Tensor) -> Tensor:
    return Sinh.apply(input)


def cosh(input: Tensor) -> Tensor:
    return Cosh.apply(input)


def square(input: Tensor) -> Tensor:
    return Square.apply(input)


def sign(input: Tensor) -> Tensor:
    return Sign.apply(input)


def log1p(input: Tensor) -> Tensor:
    return Log1p.apply(input)


def expm1(input: Tensor) -> Tensor:
    return Expm1.apply(input)


def rsqrt(input: Tensor) -> Tensor:
    return Rsqrt.apply(input)


def reciprocal(input: Tensor) -> Tensor:
    return Reciprocal.apply(input)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise maximum (ties share the gradient equally)."""
    return Maximum.apply(input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Element-wise minimum (ties share the gradient equally)."""
    return Minimum.apply(input, other)


def pow(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent``; either may be a tensor or a number."""
    return Pow.apply(input, exponent)


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return Add.apply(input, other if alpha == 1 else other * alpha)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    return Sub.apply(input, other if alpha == 1 else other * alpha)


def mul(input: Any, other: Any) -> Tensor:
    return Mul.apply(input, other)


def div(input: Any, other: Any) -> Tensor:
    return Div.apply(input, other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch ``@`` semantics (1-D operands, batch dimensions broadcast)."""
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two 2-D matrices."""
    return _as_tensor(input).mm(mat2)


# --- reductions as functions (``dim``/``keepdim``, ``axis``/``keepdims`` accepted as aliases) --------------
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).sum(dim, keepdim, **kwargs)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).mean(dim, keepdim, **kwargs)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).prod(dim, keepdim, **kwargs)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """``max(x)``, ``max(x, dim)`` → ``(values, indices)``, ``max(x, other)`` (element-wise), as PyTorch."""
    return _as_tensor(input).max(dim, keepdim, **kwargs)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """``min(x)``, ``min(x, dim)`` → ``(values, indices)``, ``min(x, other)``, as PyTorch."""
    return _as_tensor(input).min(dim, keepdim, **kwargs)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _as_tensor(input).amax(dim, keepdim)


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    return _as_tensor(input).amin(dim, keepdim)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).argmax(dim, keepdim, **kwargs)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).argmin(dim, keepdim, **kwargs)


def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).var(dim, unbiased, keepdim, **kwargs)


def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).std(dim, unbiased, keepdim, **kwargs)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _as_tensor(input).logsumexp(dim, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    return _as_tensor(input).norm(p, dim, keepdim)


def cumsum(input: Tensor, dim: int, **kwargs: Any) -> Tensor:
    return _as_tensor(input).cumsum(dim, **kwargs)


def all(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).all(dim, keepdim, **kwargs)


def any(input: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    return _as_tensor(input).any(dim, keepdim, **kwargs)


# --- shape functions -------------------------------------------------------------------------------------
def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return _as_tensor(input).reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return _as_tensor(input).flatten(start_dim, end_dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return _as_tensor(input).unsqueeze(dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return _as_tensor(input).squeeze(dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return _as_tensor(input).transpose(dim0, dim1)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return _as_tensor(input).permute(*dims)


def t(input: Tensor) -> Tensor:
    return _as_tensor(input).t()


def gather(input: Tensor, dim: int, index: Any) -> Tensor:
    return _as_tensor(input).gather(dim, index)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    return _as_tensor(input).masked_fill(mask, value)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    return _as_tensor(tensor).split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return _as_tensor(input).chunk(chunks, dim)


def numel(input: Tensor) -> int:
    return _as_tensor(input).numel()


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def allclose(
    input: Tensor, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    return _as_tensor(input).allclose(other, rtol, atol, equal_nan)


def equal(input: Tensor, other: Tensor) -> bool:
    return _as_tensor(input).equal(other)
