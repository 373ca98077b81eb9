"""The fused affine map y = x·Wᵀ + b (one matrix product plus an in-place bias add)."""

from __future__ import annotations

from numnet.tensor import Function


class Linear(Function):
    """``x`` (N, …, in), ``weight`` (out, in) as in PyTorch, ``bias`` (out,) or None → (N, …, out)."""

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            features = x.shape[-1] if x.ndim else "no"
            raise ValueError(
                f"linear: input of shape {x.shape} has {features} features in its last dimension, "
                f"but the weight {weight.shape} expects {weight.shape[1]}"
            )
        self.x, self.weight, self.has_bias = x, weight, bias is not None
        out = x @ weight.T  # BLAS reads Wᵀ through its strides: no copy
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        x, weight = self.x, self.weight
        g2 = grad.reshape(-1, grad.shape[-1])
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = grad @ weight  # dX = G·W
        if self.needs_input_grad[1]:
            dw = g2.T @ x.reshape(-1, x.shape[-1])  # dW = Gᵀ·X
        if self.has_bias and self.needs_input_grad[2]:
            db = g2.sum(axis=0)  # db = Σₙ G
        # one gradient per input: apply(x, weight) without a bias has two
        return (dx, dw, db)[: len(self.needs_input_grad)]
