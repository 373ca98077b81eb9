"""Batch normalisation over the batch axis (and spatial axes, for inputs with more than two dimensions)."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function


class BatchNorm(Function):
    """``x`` (N, C) or (N, C, …); ``gamma``/``beta`` (C,), or None for γ = 1, β = 0.

    In training, normalise with the batch's own mean and (biased) variance and keep them on
    ``self.batch_mean``/``self.batch_var``; when ``running_mean``/``running_var`` arrays are given, update
    them in place from the same statistics (no second pass over the batch):
    ``running ← (1 − momentum)·running + momentum·batch``, with the unbiased variance σ²·m/(m − 1) as PyTorch.
    Otherwise use the given ``mean``/``var`` (arrays or tensors, constants here: running statistics get no
    gradient).
    """

    def forward(
        self,
        x,
        gamma,
        beta,
        mean=None,
        var=None,
        eps=1e-5,
        training=True,
        running_mean=None,
        running_var=None,
        momentum=0.1,
    ):
        if x.ndim < 2:
            raise ValueError(f"batch_norm: input must be (N, C) or (N, C, ...), got shape {x.shape}")
        channels = x.shape[1]
        for name, p in (("weight", gamma), ("bias", beta)):
            if p is not None and np.shape(p) != (channels,):
                raise ValueError(
                    f"batch_norm: input has {channels} channels (shape {x.shape}) but {name} has shape "
                    f"{np.shape(p)}"
                )
        axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        self.axes, self.training = axes, training
        if training:
            if x.size // channels < 2:
                raise ValueError(
                    f"batch_norm: training needs more than one value per channel, got input shape {x.shape}"
                )
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            self.batch_mean, self.batch_var = mean, var
            if running_mean is not None and running_var is not None:
                m = x.size // channels
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += (momentum * m / (m - 1)) * var  # unbiased: Σ(x − μ)² / (m − 1)
        elif mean is None or var is None:
            raise ValueError("batch_norm: evaluation (training=False) needs the running mean and var")
        mean = np.asarray(mean, dtype=x.dtype).reshape(shape)
        var = np.asarray(var, dtype=x.dtype).reshape(shape)
        self.inv_std = 1.0 / np.sqrt(var + eps)
        self.xhat = (x - mean) * self.inv_std
        # x̂ = (x − μ)/√(σ² + ε),  y = γ·x̂ + β
        self.gamma = None if gamma is None else gamma.reshape(shape)
        out = self.xhat if gamma is None else self.xhat * self.gamma
        return out if beta is None else out + beta.reshape(shape)

    def backward(self, grad):
        xhat, axes = self.xhat, self.axes
        need = self.needs_input_grad
        dgamma = (grad * xhat).sum(axis=axes) if need[1] else None  # dγ = Σ g·x̂
        dbeta = grad.sum(axis=axes) if need[2] else None  # dβ = Σ g
        dx = None
        if need[0]:
            dxhat = grad if self.gamma is None else grad * self.gamma
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
        # one gradient per input (mean, var, eps, training, if given positionally, are constants)
        return (dx, dgamma, dbeta, *(None,) * (len(need) - 3))
