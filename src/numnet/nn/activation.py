"""Activation layers: element-wise nonlinearities, and softmax / log-softmax along a dimension."""

from __future__ import annotations

from numnet import ops
from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


class ReLU(Module):
    """max(x, 0). Any shape → same shape."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.ReLU.apply(x)  # the op itself: F.relu adds nothing but a call


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise. Any shape → same shape."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ). Any shape → same shape."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.Sigmoid.apply(x)  # the op itself: F.sigmoid adds nothing but a call


class Tanh(Module):
    """tanh(x). Any shape → same shape."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.Tanh.apply(x)  # the op itself: F.tanh adds nothing but a call


class Step(Module):
    """The perceptron's 1[x > 0]. Any shape → same shape. Its gradient is zero: not for backpropagation."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.Step.apply(x)  # the op itself: F.step adds nothing but a call


class Softmax(Module):
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim`` (default the last): (N, C) → (N, C), rows summing to 1."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along ``dim`` (default the last), stable for any logits: (N, C) → (N, C)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
