"""Tensor functions as plain calls (``numnet.exp(x)``, ``numnet.where(c, a, b)``, …), for those that read
better as functions than as methods, and for operations on several tensors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numnet.ops.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from numnet.ops.elementwise import Abs, Clip, Exp, Log, Sqrt, Where
from numnet.ops.shape import Concatenate, Stack
from numnet.tensor import Tensor


def _tensors(name: str, tensors: Sequence[Any]) -> list[Any]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name} expects a non-empty list or tuple of tensors")
    return list(tensors)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*_tensors("concatenate", tensors), axis=axis)


cat = concatenate


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    return Stack.apply(*_tensors("stack", tensors), axis=axis)


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


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return Clip.apply(x, low=min, high=max)


clamp = clip


def relu(x: Tensor) -> Tensor:
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return LogSoftmax.apply(x, axis=axis)


def step(x: Tensor) -> Tensor:
    """1 where x > 0, else 0. Its gradient is zero everywhere it exists."""
    return Step.apply(x)
