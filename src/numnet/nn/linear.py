"""The affine layer ``Linear`` and the shape-only layers ``Identity`` and ``Flatten``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.module import Module, Parameter
from numnet.ops.linear import Linear as _LinearOp
from numnet.tensor import Tensor


def _positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x·Wᵀ + b:  input (N, …, in_features) → output (N, …, out_features).

    ``weight`` (out_features, in_features) and ``bias`` (out_features,), as in PyTorch.

    Default initialisation, PyTorch's: W and b ~ U(−1/√in_features, 1/√in_features), i.e.
    ``kaiming_uniform_(weight, a=√5)``, drawn from numnet's seeded generator in the default dtype.
    Why this one: it is the scale PyTorch users expect (the same recipe gives the same distributions), and
    a bound shrinking as 1/√fan_in keeps each output's variance independent of the layer's width
    (Var y = in·Var w·Var x = Var x / 3), so activations do not grow with width. Tutorials that use another
    scheme (N(0, 0.01), Xavier, He) call ``numnet.nn.init`` on the weights explicitly after building the
    layer.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        dtype = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"Linear: dtype must be floating point (np.float32 or np.float64), got {dtype}")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw W and b from U(−1/√in, 1/√in) (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # bound = √3·√(2/(1+5))/√in = 1/√in
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_with(_LinearOp, x)

    def forward_with(self, op: type[_LinearOp], x: Tensor) -> Tensor:
        """``op.apply(x, weight, bias)`` for ``ops.Linear`` or one of its fused forms (``ops.LinearReLU``,
        as ``nn.Sequential`` calls it), with this layer's message for an input of the wrong width."""
        # One call into the op, which checks the width (once); only a failure pays for the layer's message.
        try:
            return op.apply(x, self.weight, self.bias)
        except (ValueError, AttributeError, IndexError, TypeError):
            try:
                fits = x.shape[-1] == self.in_features
            except (AttributeError, IndexError):
                fits = False
            if fits:
                raise
        raise ValueError(
            f"Linear(in_features={self.in_features}, out_features={self.out_features}) expects inputs of "
            f"shape (N, {self.in_features}), got {getattr(x, 'shape', type(x).__name__)}"
        )

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional layer). Arguments are ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge dimensions ``start_dim`` … ``end_dim`` into one: (N, C, L) → (N, C·L) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
