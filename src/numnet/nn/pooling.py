"""Pooling layers over (N, C, H, W): ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` (PyTorch's
arguments and ``repr``), and channel dropout ``Dropout2d``."""

from __future__ import annotations

from functools import partial
from typing import Any

from numnet import ops
from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


def _int_or_tuple(value: Any) -> Any:
    """Keep an int; make a list (a JSON config's pair) a tuple, so the ``repr`` is PyTorch's."""
    return tuple(value) if isinstance(value, list) else value


def _check_input(layer: Module, x: Any) -> None:
    shape = getattr(x, "shape", None)
    if shape is None or len(shape) not in (3, 4):
        got = shape if shape is not None else type(x).__name__
        raise ValueError(f"{layer!r} expects inputs of shape (N, C, H, W) or (C, H, W), got {got}")


def _run(layer: Module, fn: Any, x: Tensor, **kwargs: Any) -> Tensor:
    _check_input(layer, x)
    try:
        return fn(x, **kwargs)
    except ValueError as exc:
        raise ValueError(f"{layer!r} on input {x.shape}: {exc}") from None


class MaxPool2d(Module):
    """Window maxima: (N, C, H, W) → (N, C, Ho, Wo); ``stride`` defaults to ``kernel_size``; padding counts
    as −∞. The gradient goes to each window's first maximum, as PyTorch."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        if return_indices:
            raise ValueError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size = _int_or_tuple(kernel_size)
        self.stride = self.kernel_size if stride is None else _int_or_tuple(stride)
        self.padding, self.dilation = _int_or_tuple(padding), _int_or_tuple(dilation)
        self.ceil_mode = bool(ceil_mode)
        self.return_indices = False
        F._pool_args("MaxPool2d", self.kernel_size, self.stride, self.padding)  # reject bad arguments now
        F._pair("MaxPool2d", "dilation", dilation)

    def forward(self, x: Tensor) -> Tensor:
        return self._pool(F.max_pool2d, x, self.dilation)

    def forward_with(self, op: type[ops.MaxPool2d], x: Tensor) -> Tensor:
        """This layer's pooling through ``op``: ``ops.MaxPool2d``, or ``ops.ReLUMaxPool2d`` (the pooling of
        relu(x) in one node, as ``nn.Sequential`` calls it for a ``ReLU`` followed by this layer)."""
        pool = partial(F._pool2d, "max_pool2d", op)
        return self._pool(pool, x, F._pair("max_pool2d", "dilation", self.dilation))

    def halves(self) -> bool:
        """Whether this is plain 2×2 pooling with stride 2 (no padding, dilation or ceil_mode): the pooling
        ``nn.Sequential`` fuses with a Conv2d and ReLU before it."""
        kernel, stride, padding = F._pool_args("MaxPool2d", self.kernel_size, self.stride, self.padding)
        dilation = F._pair("MaxPool2d", "dilation", self.dilation)
        return kernel == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1) and not self.ceil_mode

    def _pool(self, fn: Any, x: Tensor, dilation: Any) -> Tensor:
        return _run(
            self,
            fn,
            x,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=dilation,
            ceil_mode=self.ceil_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Window means: (N, C, H, W) → (N, C, Ho, Wo); ``stride`` defaults to ``kernel_size``; zero padding
    counts in the divisor when ``count_include_pad`` (the default), as PyTorch."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = _int_or_tuple(kernel_size)
        self.stride = self.kernel_size if stride is None else _int_or_tuple(stride)
        self.padding, self.ceil_mode = _int_or_tuple(padding), bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override
        F._pool_args("AvgPool2d", self.kernel_size, self.stride, self.padding)

    def forward(self, x: Tensor) -> Tensor:
        return _run(
            self,
            F.avg_pool2d,
            x,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            ceil_mode=self.ceil_mode,
            count_include_pad=self.count_include_pad,
            divisor_override=self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average to a fixed ``output_size`` whatever the input's H, W (PyTorch's bins):
    (N, C, H, W) → (N, C, *output_size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size if isinstance(output_size, int) else tuple(output_size)

    def forward(self, x: Tensor) -> Tensor:
        return _run(self, F.adaptive_avg_pool2d, x, output_size=self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Dropout2d(Module):
    """Channel dropout: in training, zero each whole channel of (N, C, H, W) with probability ``p`` and
    scale the rest by 1/(1 − p); evaluation returns the input as is."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1], got {p}")
        self.p, self.inplace = float(p), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        _check_input(self, x)
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
