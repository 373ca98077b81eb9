"""Batch normalisation over the batch (and length or spatial) axes, with PyTorch's running statistics."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.module import Module, Parameter
from numnet.tensor import Tensor


class BatchNorm1d(Module):
    """y = γ·(x − μ)/√(σ² + ε) + β per feature, for input (N, C) or (N, C, L) → same shape.

    Training mode normalises with the batch's mean and biased variance, and updates the buffers
    ``running_mean``/``running_var`` as ``running ← (1 − momentum)·running + momentum·batch`` using the
    unbiased batch variance, exactly as PyTorch (``momentum=None``: a cumulative average over
    ``num_batches_tracked`` batches). Evaluation mode normalises with the running statistics.
    ``affine=False``: no γ, β (``bias=False``: γ only). ``track_running_stats=False``: no buffers; batch
    statistics in both modes.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        integer = isinstance(num_features, (int, np.integer)) and not isinstance(num_features, bool)
        if not integer or num_features < 1:
            raise ValueError(f"{layer}: num_features must be a positive integer, got {num_features!r}")
        if eps <= 0:
            raise ValueError(f"{layer}: eps must be positive, got {eps}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{layer}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        has_bias = self.affine and bool(bias)
        self.track_running_stats = bool(track_running_stats)
        dtype = backend.get_default_dtype()
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))  # γ
        else:
            self.register_parameter("weight", None)
        if has_bias:
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))  # β
        else:
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        shape = getattr(x, "shape", ())
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects inputs of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {shape}"
            )
        return self._normalize(x)

    def _normalize(self, x: Tensor) -> Tensor:
        """Batch norm over every axis but the channels (axis 1), with the running statistics' bookkeeping."""
        tracking = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if tracking and self.momentum is None:
            factor = 1.0 / (int(self.num_batches_tracked) + 1)  # cumulative moving average over the batches
        # Batch statistics in training, or whenever there are no running ones to use.
        use_batch_stats = self.training or self.running_mean is None
        out = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=factor,
            eps=self.eps,
        )
        if tracking:  # counted after the op, so a rejected batch leaves the count unchanged
            self.num_batches_tracked += 1
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm2d(BatchNorm1d):
    """``BatchNorm1d``'s normalisation per channel of images: input (N, C, H, W) → same shape.

    Each channel's mean and variance are taken over the batch and both spatial axes (N·H·W values); the
    arguments, buffers, running-statistics updates and ``repr`` are those of PyTorch's ``BatchNorm2d``.
    """

    def forward(self, x: Tensor) -> Tensor:
        shape = getattr(x, "shape", ())
        if len(shape) != 4 or shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d({self.num_features}) expects inputs of shape (N, {self.num_features}, H, W), "
                f"got {shape}"
            )
        return self._normalize(x)
