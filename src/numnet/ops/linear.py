"""The fused affine map y = x·Wᵀ + b (one matrix product plus an in-place bias add), and the same map
followed by an activation in one node (``LinearReLU``, ``LinearSigmoid``), which ``nn.Sequential`` uses for
a ``Linear`` followed by ``ReLU`` or ``Sigmoid``."""

from __future__ import annotations

import numpy as np

from numnet.ops.activation import relu_array, sigmoid_array, sigmoid_backward
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
            # The plain row-broadcast add, not ops.bias.add_bias_: on a product fresh from the GEMM,
            # building add_bias_'s stacked block costs more than its longer inner loop saves (1000×256: 90
            # against 60 µs at 2 threads; the whole inference pass 0.5–1 % slower).
            out += bias
        return out

    def backward(self, grad):
        x, weight, need = self.x, self.weight, self.needs_input_grad
        # Batch dimensions beyond the first fold into it, so each gradient is one matrix product.
        g2, x2 = (
            (grad, x) if grad.ndim == 2 else (grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1]))
        )
        dx = grad @ weight if need[0] else None  # dX = G·W
        dw = g2.T @ x2 if need[1] else None  # dW = Gᵀ·X
        if len(need) == 2:  # apply(x, weight) without a bias: two inputs, two gradients
            return dx, dw
        db = np.add.reduce(g2, 0) if self.has_bias and need[2] else None  # db = Σₙ G
        return dx, dw, db


class LinearReLU(Linear):
    """y = relu(x·Wᵀ + b) as one node: the numbers of ``Linear`` then ``ReLU``, bit for bit, with one array
    fewer (the product is a fresh array that nothing else holds, so it is rectified in place), and the mask
    (out ≠ 0, ReLU's) formed only when a gradient will need it: inference does two passes, not three. (The
    bias is added, then max(0, ·) taken against an array of zeros: one row-broadcast pass and one contiguous
    one, where max(z, −b) + b would spend two broadcast passes, each twice a contiguous one in NumPy.)
    """

    def forward(self, x, weight, bias=None):
        out = Linear.forward(self, x, weight, bias)  # x·Wᵀ + b, a fresh array
        out, self.mask = relu_array(out, out=out, mask=True in self.needs_input_grad)
        return out

    def backward(self, grad):
        # dz = g where z > 0, else 0 (ReLU's backward), then Linear's dX = dz·W, dW = dzᵀ·X, db = Σₙ dz
        return Linear.backward(self, grad * self.mask)


class LinearSigmoid(Linear):
    """y = σ(x·Wᵀ + b) as one node: ``Linear`` then ``Sigmoid``, bit for bit, the sigmoid computed in place
    on the fresh product."""

    def forward(self, x, weight, bias=None):
        self.out = sigmoid_array(Linear.forward(self, x, weight, bias), inplace=True)
        return self.out

    def backward(self, grad):
        # dz = g·σ·(1 − σ) (Sigmoid's backward), then Linear's backward with dz
        return Linear.backward(self, sigmoid_backward(grad, self.out))
