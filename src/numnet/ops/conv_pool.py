"""Convolution → ReLU → 2×2 max pooling as one node, the convolution's outputs ordered by window corner.

``nn.Sequential`` runs a ``Conv2d`` followed by ``ReLU`` and ``MaxPool2d(2)`` (SimpleConvNet's first three
layers) as this node. Under 2×2/2 pooling, conv output (i, j) = (2i' + r, 2j' + s) is corner k = 2r + s of
pooling window (i', j'). In the usual row-major layout a corner is a stride-2 view of the conv output, and
NumPy runs passes over such views several times slower than over contiguous memory. Each conv output is one
dot product of a filter with a column of the input's patches, whatever its place, so here the columns are
grouped by corner: the product runs on N·4 blocks (sample n, corner k) of the Ho/2·Wo/2 positions, and gives
y[n, k] as one contiguous (O, Ho/2, Wo/2) array::

    y[n, k, o, i', j'] = Σ_{c,p,q} w[o, c, p, q]·xpad[n, c, (2i' + r)·sh + p·dh, (2j' + s)·sw + q·dw]
    m = max(max(y₀, y₂), max(y₁, y₃))   the window maximum, in the order of MaxPool2d's tiled path
    out = relu(m + b[o])

    backward: dm = g·[out ≠ 0]          ReLU's backward on the pooled array, as ReLUMaxPool2d's
              dy_k = dm·[y_k = m and y_j ≠ m for every corner j < k]   (the first maximum, row-major)
              db[o] = Σ_{n,i',j'} dm     (= Σ dy: each window's dm goes to one corner)
              then the convolution's backward on dy, in the same blocks (dW, dx)

The bias comes after the pooling because b[o] is the same for the four corners of a window:
max_k(y_k + b) = max_k(y_k) + b, and with rounding too, since rounding to nearest never reverses an order.
So the output is the same bits as the bias added to the product, with the add and db's sum on a quarter
of the values (SimpleConvNet's node, forward and backward: 8.5–9.1 → 7.3–8.2 ms at 2 threads). The one
difference: two corners that differ by less than the rounding of y + b tie after the add, where PyTorch's
pooling sends the gradient to the first of them, and this node to the larger, the conv output's true
maximum. A bias holding NaN or ±inf is added to the product, so that it meets each corner as it would
in the layers apart.

The numbers: the dot products of ``Conv2d`` then ``ReLUMaxPool2d``, in GEMMs of another size, which BLAS
may round differently (on SimpleConvNet's shapes the outputs came out the same bits); the weight, bias and
input gradients sum the same products in another order. So they agree with the separate layers' to
rounding, not bit for bit (both are checked against PyTorch); given y, the routing is the same but for
the ties the bias makes (above).
A NaN window maximum or a gradient holding ±inf or NaN takes ``ReLUMaxPool2d``'s backward on the conv
output put back in row-major order.
"""

from __future__ import annotations

import numpy as np

from numnet.ops.activation import relu_array
from numnet.ops.bias import add_bias_
from numnet.ops.conv import Conv2d, Padding, Pair, fold, output_size, unfold
from numnet.ops.pooling import ReLUMaxPool2d, first_hits

CORNERS = 4  # of a 2×2 window, in row-major order: (0, 0), (0, 1), (1, 0), (1, 1)


def tiles_2x2(
    input_hw: tuple[int, int], kernel: tuple[int, int], stride: Pair, padding: Padding, dilation: Pair
) -> bool:
    """Whether a convolution of an input of spatial size ``input_hw`` has an output with even sides of at
    least 2, which 2×2/2 windows tile exactly (the case ``ConvReLUMaxPool2d`` computes)."""
    sizes = (
        output_size(size, k, s, sum(pad), d)
        for size, k, s, pad, d in zip(input_hw, kernel, stride, padding, dilation, strict=True)
    )
    return all(size >= 2 and size % 2 == 0 for size in sizes)


class ConvReLUMaxPool2d(Conv2d):
    """maxpool₂ₓ₂(relu(conv2d(x, weight, bias))) as one node; arguments as ``Conv2d`` (its ``"batched"``
    column layout). The convolution's output sides must be even (``tiles_2x2``): ``nn.Sequential`` runs the
    three layers apart otherwise. Output (N, O, Ho/2, Wo/2)."""

    def forward(
        self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1
    ):
        # A finite bias is added after the pooling, to a quarter of the values (the module docstring says why
        # that gives the same numbers); a NaN or infinite one to the product, to meet each corner as it would
        late = bias is not None and bool(np.isfinite(bias).all())
        self.late_bias = bias.copy() if late else None  # the fallback's value, whatever the bias becomes
        product = Conv2d.forward(
            self, x, weight, None if late else bias, stride, padding, dilation, groups, "batched"
        )
        self.has_bias = bias is not None
        n, o, ho, wo = product.shape
        self.corners = corners = product.reshape(n, CORNERS, o, -1)  # y_k = corners[:, k], (N, O, P) each
        self.m = m = np.maximum(corners[:, 0], corners[:, 2])  # the left column's maximum, the right one's,
        np.maximum(m, np.maximum(corners[:, 1], corners[:, 3]), out=m)  # the window's: MaxPool2d's order
        if late:
            z = add_bias_(np.empty_like(m), bias, 1, source=m)  # m + b, new: the backward needs m itself
            out, self.mask = relu_array(z, out=z)
        else:
            out, self.mask = relu_array(m)
        return out.reshape(n, o, ho // 2, wo // 2)

    def _unfold(self, xp):
        (ho, wo) = self.out_hw
        if ho % 2 or wo % 2:
            raise ValueError(
                f"conv_relu_max_pool2d: the convolution's output {ho}×{wo} must have even sides to tile "
                "into 2×2 windows; run Conv2d, ReLU and MaxPool2d as separate layers"
            )
        n, c = xp.shape[:2]
        half = (ho // 2, wo // 2)
        cols = np.empty((n, 2, 2, c, *self.kernel, *half), dtype=xp.dtype)
        for r, s, shifted in self._corners_of(xp):
            unfold(shifted, self.kernel, half, self._corner_stride(), self.dilation, out=cols[:, r, s])
        # B = N·4 blocks (sample, corner) of P = Ho/2·Wo/2 positions
        return cols.reshape(n * CORNERS, self.groups, -1, half[0] * half[1])

    def _fold(self, dcols, padded_hw):
        n, c = self.x_shape[:2]
        half = (self.out_hw[0] // 2, self.out_hw[1] // 2)
        by_corner = dcols.reshape(n, 2, 2, c, *self.kernel, *half)
        dxp = np.zeros((n, c, *padded_hw), dtype=dcols.dtype)
        for r, s, shifted in self._corners_of(dxp):
            fold(by_corner[:, r, s], None, half, self._corner_stride(), self.dilation, out=shifted)
        return dxp

    def _corners_of(self, padded):
        """(r, s, ``padded`` shifted by (r·sh, s·sw)) for each window corner: corner (r, s) of window (i', j')
        reads xpad at ((2i' + r)·sh + p·dh, (2j' + s)·sw + q·dw), the shifted input under twice the stride."""
        sh, sw = self.stride
        for r in range(2):
            for s in range(2):
                yield r, s, padded[:, :, r * sh :, s * sw :]

    def _corner_stride(self):
        return (2 * self.stride[0], 2 * self.stride[1])

    def backward(self, grad):
        corners, m = self.corners, self.m
        if not np.isfinite(grad).all() or np.isnan(m).any():
            return Conv2d.backward(self, self._backward_unfused(grad))
        dm = grad.reshape(m.shape) * self.mask  # ReLU's backward on the pooled array (finite: g is)
        dy = np.empty(corners.shape, dtype=grad.dtype)
        for k, hit in enumerate(first_hits([corners[:, k] for k in range(CORNERS)], m)):
            np.multiply(dm, hit, out=dy[:, k])
        need = self.needs_input_grad
        # db[o] = Σ dy[n, k, o, p] = Σ dm[n, o, p]: each window sends its dm to one corner
        db = dm.sum(axis=(0, 2)) if self.has_bias and need[2] else None
        dx, dw = self._backward_batched(dy, need)
        return (dx, dw, db)[: len(need)]

    def _backward_unfused(self, grad):
        """dy from ``ReLUMaxPool2d``'s backward on the conv output in row-major order (NaN maxima, or a
        gradient holding ±inf or NaN), returned corner-major."""
        n, o = grad.shape[:2]
        ho2, wo2 = grad.shape[2:]
        rows = (
            self.corners.reshape(n, 2, 2, o, ho2, wo2).transpose(0, 3, 4, 1, 5, 2).reshape(n, o, 2 * ho2, -1)
        )
        if self.late_bias is not None:  # the conv output with its bias, as the separate layers see it
            rows = rows + self.late_bias.reshape(-1, 1, 1)
        pool = ReLUMaxPool2d()
        pool.needs_input_grad = (True,)
        pool.forward(rows)
        dy = pool.backward(grad).reshape(n, o, ho2, 2, wo2, 2).transpose(0, 3, 5, 1, 2, 4)
        return np.ascontiguousarray(dy).reshape(self.corners.shape)
