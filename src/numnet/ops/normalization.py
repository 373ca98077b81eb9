"""Batch normalisation over the batch axis (and spatial axes, for inputs with more than two dimensions)."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function


class BatchNorm(Function):
    """``x`` (N, C) or (N, C, …); ``gamma``/``beta`` (C,). In training, normalise with the batch's own mean and
    (biased) variance and keep them on ``self.batch_mean``/``self.batch_var``; otherwise use ``mean``/``var``."""

    def forward(self, x, gamma, beta, mean=None, var=None, eps=1e-5, training=True):
        if x.ndim < 2:
            raise ValueError(f"batch_norm: input must be (N, C) or (N, C, ...), got shape {x.shape}")
        if x.shape[1] != gamma.shape[0]:
            raise ValueError(f"batch_norm: input has {x.shape[1]} channels (shape {x.shape}) but the layer has {gamma.shape[0]}")
        axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.axes, self.training = axes, training
        if training:
            if x.size // x.shape[1] < 2:
                raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {x.shape}")
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            self.batch_mean, self.batch_var = mean, var
        self.inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False).reshape(shape)
        self.xhat = (x - np.asarray(mean, dtype=x.dtype).reshape(shape)) * self.inv_std
        self.gamma = gamma.reshape(shape)
        return self.xhat * self.gamma + beta.reshape(shape)

    def backward(self, grad):
        xhat, axes = self.xhat, self.axes
        dgamma = (grad * xhat).sum(axis=axes)  # dγ = Σ g·x̂
        dbeta = grad.sum(axis=axes)  # dβ = Σ g
        dxhat = grad * self.gamma
        if self.training:
            # x̂ depends on x also through the batch mean and variance:
            # dx = (1/m)·inv_std·(m·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)),  m = values per channel
            m = grad.size // grad.shape[1]
            dx = (
                m * dxhat
                - dxhat.sum(axis=axes, keepdims=True)
                - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True)
            ) * (self.inv_std / m)
        else:
            dx = dxhat * self.inv_std  # statistics are constants in evaluation
        return dx, dgamma, dbeta
