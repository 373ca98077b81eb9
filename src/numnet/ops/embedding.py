"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function


class Embedding(Function):
    """``weight`` (num_embeddings, dim), integer ``indices`` of any shape → (*indices.shape, dim).

    The indices are a constant (first argument, no gradient); ``padding_idx`` rows receive no gradient.
    """

    def forward(self, indices, weight, padding_idx=None):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"embedding: indices must be integers, got dtype {indices.dtype} (use x.astype(np.int64))"
            )
        n = weight.shape[0]
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(
                f"embedding: indices must lie in [0, {n - 1}] for {n} embeddings, "
                f"got [{indices.min()}, {indices.max()}]"
            )
        self.indices, self.shape, self.padding_idx = indices, weight.shape, padding_idx
        return weight[indices]

    def backward(self, grad):
        # out[i] = W[idx[i]]  →  dW[r] = Σ_{i: idx[i] = r} g[i]  (scatter-add), 0 at padding_idx
        if not self.needs_input_grad[1]:
            return None, None
        dw = np.zeros(self.shape, dtype=grad.dtype)
        np.add.at(dw, self.indices.reshape(-1), grad.reshape(-1, self.shape[1]))
        if self.padding_idx is not None:
            dw[self.padding_idx] = 0
        return None, dw
