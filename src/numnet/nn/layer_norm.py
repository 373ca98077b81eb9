"""``LayerNorm``: normalization over each sample's trailing dimensions (transformers, RNNs)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn.module import Module, Parameter
from numnet.tensor import Tensor


class LayerNorm(Module):
    """y = (x − μ)/√(σ² + ε)·γ + β, μ and the biased σ² over the last ``len(normalized_shape)`` dimensions.

    Input (…, *normalized_shape) → same shape. ``elementwise_affine`` gives the learnable ``weight`` γ
    (ones) and, unless ``bias=False``, ``bias`` β (zeros), both shaped ``normalized_shape``. Unlike batch
    norm, the statistics are per sample, so training and evaluation compute the same thing.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (int(normalized_shape),)
        shape = tuple(normalized_shape)
        bad = [d for d in shape if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1]
        if not shape or bad:
            raise ValueError(
                f"LayerNorm: normalized_shape must be a positive integer or a tuple of them, got {shape!r}"
            )
        self.normalized_shape = tuple(int(d) for d in shape)
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        dtype = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """γ ← 1, β ← 0."""
        if self.weight is not None:
            self.weight.data[...] = 1
        if self.bias is not None:
            self.bias.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
