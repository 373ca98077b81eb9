"""Layer normalization over the trailing dimensions of each sample (Ba, Kiros & Hinton, 2016)."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function


class LayerNorm(Function):
    """y = (x − μ)/√(σ² + ε)·γ + β, with μ and the biased σ² over the last ``len(normalized_shape)`` axes.

    ``x`` (…, *normalized_shape); ``weight`` γ and ``bias`` β shaped ``normalized_shape`` or None.
    """

    def forward(self, x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
        k = len(normalized_shape)
        if k == 0 or x.shape[x.ndim - k :] != tuple(normalized_shape) or x.ndim < k:
            raise ValueError(
                f"layer_norm: input of shape {x.shape} does not end in normalized_shape "
                f"{tuple(normalized_shape)}; normalize over its trailing dimensions"
            )
        self.axes = tuple(range(x.ndim - k, x.ndim))
        self.lead = tuple(range(x.ndim - k))
        mean = x.mean(axis=self.axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axis=self.axes, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + eps)
        self.x_hat = centered * self.inv_std
        self.weight, self.has_bias = weight, bias is not None
        out = self.x_hat if weight is None else self.x_hat * weight
        return out + bias if bias is not None else out

    def backward(self, grad):
        x_hat, need = self.x_hat, self.needs_input_grad
        dx = None
        if need[0]:
            # dx̂ = g·γ;  dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / √(σ² + ε)   (means over the normalized axes)
            dx_hat = grad if self.weight is None else grad * self.weight
            dx = (
                dx_hat
                - dx_hat.mean(axis=self.axes, keepdims=True)
                - x_hat * (dx_hat * x_hat).mean(axis=self.axes, keepdims=True)
            ) * self.inv_std
        # dγ = Σ_lead g·x̂,  dβ = Σ_lead g
        dw = np.add.reduce(grad * x_hat, axis=self.lead) if self.weight is not None and need[1] else None
        db = np.add.reduce(grad, axis=self.lead) if self.has_bias and need[2] else None
        return dx, dw, db
