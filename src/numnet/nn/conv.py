"""The convolution layer ``Conv2d`` (PyTorch's arguments, weight layout, initialisation and ``repr``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.module import Module, Parameter
from numnet.tensor import Tensor


def _positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Conv2d(Module):
    """2-D convolution: input (N, in_channels, H, W) (or one (C, H, W) sample) → (N, out_channels, Ho, Wo).

    ``weight`` (out_channels, in_channels/groups, kh, kw) and ``bias`` (out_channels,), as in PyTorch;
    Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1. ``padding``: int, pair, ``"same"`` or
    ``"valid"``; only ``padding_mode="zeros"`` is supported.

    Default initialisation, PyTorch's: ``kaiming_uniform_(weight, a=√5)``, i.e. W ~ U(±1/√fan_in) with
    fan_in = in_channels/groups·kh·kw, and b ~ U(±1/√fan_in); the book's nets re-draw them (weight std 0.01).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.groups = _positive_int("Conv2d", "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both divide by "
                f"groups ({groups})"
            )
        self.kernel_size = F._pair("Conv2d", "kernel_size", kernel_size)
        self.stride = F._pair("Conv2d", "stride", stride)
        self.dilation = F._pair("Conv2d", "dilation", dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Conv2d: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: Any = padding
        else:
            self.padding = F._pair("Conv2d", "padding", padding, minimum=0)
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.padding_mode = padding_mode
        dtype = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if dtype.kind != "f":
            raise ValueError(f"Conv2d: dtype must be floating point (np.float32 or np.float64), got {dtype}")
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W ~ U(±1/√fan_in) (kaiming_uniform with a = √5), b ~ U(±1/√fan_in), as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) not in (3, 4) or shape[-3] != self.in_channels:
            raise ValueError(
                f"{self._describe()} expects inputs of shape (N, {self.in_channels}, H, W) or "
                f"({self.in_channels}, H, W), got {shape if shape is not None else type(x).__name__}"
            )
        try:
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        except ValueError as exc:
            raise ValueError(f"{self._describe()}: {exc}") from None

    def forward_relu_max_pool(self, x: Tensor) -> Tensor | None:
        """max_pool2d(relu(self(x)), 2) as one node (``ops.ConvReLUMaxPool2d``), as ``nn.Sequential`` runs
        this layer followed by ``ReLU`` and ``MaxPool2d(2)``; None where that node does not apply (then
        the caller runs the three layers, and this layer's own call reports a bad input)."""
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) != 4 or shape[1] != self.in_channels:
            return None
        try:
            return F._conv_relu_max_pool2d(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        except ValueError as exc:
            raise ValueError(f"{self._describe()}: {exc}") from None

    def _describe(self) -> str:
        return f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size})"

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
