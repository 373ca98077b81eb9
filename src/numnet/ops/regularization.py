"""Dropout (inverted): units are dropped with probability p during training and the survivors scaled by
1/(1 − p), so the expected activation is unchanged and evaluation needs no rescaling."""

from __future__ import annotations

import numpy as np

from numnet import backend
from numnet.tensor import Function


class Dropout(Function):
    def forward(self, x, p=0.5):
        if not 0 <= p < 1:
            raise ValueError(f"dropout: p must be in [0, 1), got {p}")
        draw_dtype = np.float32 if x.dtype == np.float32 else np.float64
        keep = backend.get_rng().random(x.shape, dtype=draw_dtype) >= p  # kept with probability 1 − p
        self.mask = keep.astype(x.dtype) / np.asarray(1 - p, dtype=x.dtype)
        return x * self.mask

    def backward(self, grad):
        # y = x·m  →  dx = g·m (the same mask, same scale)
        return grad * self.mask
