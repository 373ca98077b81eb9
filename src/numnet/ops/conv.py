"""2-D convolution (cross-correlation, as PyTorch's ``conv2d``), by lowering it to one matrix product.

Shapes: input ``x`` (N, C, H, W), ``weight`` (O, C/groups, kh, kw), ``bias`` (O,) → output (N, O, Ho, Wo)::

    y[n, o, i, j] = b[o] + Σ_{c ∈ group(o), p < kh, q < kw} w[o, c, p, q]·xpad[n, c, i·sh + p·dh, j·sw + q·dw]

with ``xpad`` the input padded by zeros (top/bottom, left/right), stride (sh, sw) and dilation (dh, dw). The
output size along an axis (PyTorch's formula; the effective kernel of a dilated kernel spans d·(k − 1) + 1):

    Ho = ⌊(H + pad_top + pad_bottom − dh·(kh − 1) − 1) / sh⌋ + 1

im2col: for every output position (i, j), copy the patch of input the kernel sees into one column; then all
positions at once are one GEMM, W (O, C·kh·kw) · cols (C·kh·kw, Ho·Wo). The backward reuses the same columns:

    dW = dY · colsᵀ      (summed over the batch)
    dcols = Wᵀ · dY      then col2im scatter-adds each column back onto the input positions it was copied
                         from (a position seen by several windows receives the sum of their gradients).

Two layouts of the columns live here; both are tested against PyTorch:

* ``"im2col"`` — the textbook reference (Deep Learning from Scratch, ch. 7): ``im2col`` gives a matrix of one
  row per output position (N·Ho·Wo, C·kh·kw), the product is ``cols · Wᵀ`` and the result is transposed back
  to (N, O, Ho, Wo).
* ``"batched"`` — the default, (C·kh·kw)-major per sample: the columns are (N, C·kh·kw, Ho·Wo), built with
  kh·kw strided copies and no transpose, and the product ``W · cols[n]`` is one batched matmul whose result
  is already (N, O, Ho·Wo), i.e. (N, O, Ho, Wo) with no copy. It was measured fastest on SimpleConvNet-sized
  inputs (see ``benchmarks/workloads/cnn_formulations.py`` for the numbers and the formulations tried).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from numnet.ops.bias import add_bias_
from numnet.tensor import Function

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))

METHODS = ("batched", "im2col")
_default_method = "batched"


def default_method() -> str:
    """The column layout a ``Conv2d`` without a ``method`` uses now (``"batched"`` unless ``use_method``)."""
    return _default_method


@contextlib.contextmanager
def use_method(method: str) -> Iterator[None]:
    """``with use_method("im2col"):`` every ``Conv2d`` created in the block uses that column layout."""
    global _default_method
    if method not in METHODS:
        raise ValueError(f"conv2d: method must be one of {METHODS}, got {method!r}")
    previous, _default_method = _default_method, method
    try:
        yield
    finally:
        _default_method = previous


def output_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """⌊(size + pad_total − dilation·(kernel − 1) − 1) / stride⌋ + 1 (≤ 0 when the kernel does not fit)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def pad_input(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """``x`` (N, C, H, W) with ``padding`` rows/columns of ``value`` around H and W (``x`` itself if none)."""
    (top, bottom), (left, right) = padding
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _window_slices(p: int, q: int, out_hw: Pair, stride: Pair, dilation: Pair) -> tuple[slice, slice]:
    """The input rows and columns that kernel tap (p, q) meets over all output positions.

    Output row i reads padded row i·sh + p·dh, so for i = 0 … Ho − 1 those rows are the strided slice
    p·dh, p·dh + sh, …, p·dh + (Ho − 1)·sh; likewise for the columns.
    """
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (
        slice(p * dh, p * dh + (ho - 1) * sh + 1, sh),
        slice(q * dw, q * dw + (wo - 1) * sw + 1, sw),
    )


def unfold(
    xp: np.ndarray,
    kernel: Pair,
    out_hw: Pair,
    stride: Pair,
    dilation: Pair,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Patches of the padded input ``xp`` (N, C, Hp, Wp) → (N, C, kh, kw, Ho, Wo), contiguous (or written
    into ``out`` of that shape, which may be a strided view).

    ``cols[n, c, p, q, i, j] = xp[n, c, i·sh + p·dh, j·sw + q·dw]``: one strided copy per kernel tap (kh·kw
    copies of an (N, C, Ho, Wo) block), instead of one small copy per output position.
    """
    n, c = xp.shape[:2]
    kh, kw = kernel
    cols = np.empty((n, c, kh, kw, *out_hw), dtype=xp.dtype) if out is None else out
    for p in range(kh):
        for q in range(kw):
            rows, columns = _window_slices(p, q, out_hw, stride, dilation)
            cols[:, :, p, q] = xp[:, :, rows, columns]
    return cols


def fold(
    cols: np.ndarray,
    padded_hw: Pair,
    out_hw: Pair,
    stride: Pair,
    dilation: Pair,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The adjoint of ``unfold``: (N, C, kh, kw, Ho, Wo) → (N, C, Hp, Wp), summing where windows overlap
    (into new zeros, or added to ``out``, which may be a view)."""
    n, c, kh, kw = cols.shape[:4]
    xp = np.zeros((n, c, *padded_hw), dtype=cols.dtype) if out is None else out
    for p in range(kh):
        for q in range(kw):
            rows, columns = _window_slices(p, q, out_hw, stride, dilation)
            xp[:, :, rows, columns] += cols[:, :, p, q]
    return xp


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair) -> np.ndarray:
    """The textbook matrix of patches: (N, C, H, W) → (N·Ho·Wo, C·kh·kw), one row per output position.

    Row n·Ho·Wo + i·Wo + j holds the C·kh·kw input values the kernel sees when its output is at (n, i, j),
    in the order of the weight's (C, kh, kw) axes, so ``im2col(x) · W.reshape(O, −1)ᵀ`` is the convolution.
    """
    xp = pad_input(x, padding)
    out_hw = (
        output_size(x.shape[2], kernel[0], stride[0], sum(padding[0]), dilation[0]),
        output_size(x.shape[3], kernel[1], stride[1], sum(padding[1]), dilation[1]),
    )
    cols = unfold(xp, kernel, out_hw, stride, dilation)  # (N, C, kh, kw, Ho, Wo)
    n = x.shape[0]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * out_hw[0] * out_hw[1], -1)


def col2im(
    cols: np.ndarray,
    input_shape: tuple[int, int, int, int],
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    dilation: Pair,
) -> np.ndarray:
    """The adjoint of ``im2col``: (N·Ho·Wo, C·kh·kw) → (N, C, H, W), each value added back to every input
    position it was copied from, then the padding cut off."""
    n, c, h, w = input_shape
    (top, bottom), (left, right) = padding
    out_hw = (
        output_size(h, kernel[0], stride[0], top + bottom, dilation[0]),
        output_size(w, kernel[1], stride[1], left + right, dilation[1]),
    )
    blocks = cols.reshape(n, *out_hw, c, *kernel).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, Ho, Wo)
    xp = fold(blocks, (h + top + bottom, w + left + right), out_hw, stride, dilation)
    return xp[:, :, top : top + h, left : left + w]


class Conv2d(Function):
    """``x`` (N, C, H, W), ``weight`` (O, C/groups, kh, kw), ``bias`` (O,) or None → (N, O, Ho, Wo).

    ``stride``/``dilation`` are (rows, columns) pairs, ``padding`` ((top, bottom), (left, right)); the
    functional form ``nn.functional.conv2d`` turns ints, ``"same"`` and ``"valid"`` into these. Groups split
    the C input channels and the O filters into ``groups`` equal parts; filter block g sees channel block g
    only. ``method``: ``"batched"`` or ``"im2col"`` (the textbook layout; see the module docstring); None
    takes the current default (``"batched"``, or whatever ``use_method`` set).
    """

    def forward(
        self,
        x,
        weight,
        bias=None,
        stride=(1, 1),
        padding=((0, 0), (0, 0)),
        dilation=(1, 1),
        groups=1,
        method=None,
    ):
        if x.ndim != 4 or weight.ndim != 4:
            raise ValueError(
                f"conv2d: expects input (N, C, H, W) and weight (O, C/groups, kh, kw), got input {x.shape} "
                f"and weight {weight.shape}"
            )
        n, c, h, w = x.shape
        o, cg, kh, kw = weight.shape
        if groups < 1 or c % groups or o % groups or cg * groups != c:
            raise ValueError(
                f"conv2d: input has {c} channels (shape {x.shape}) but the weight {weight.shape} with "
                f"groups={groups} expects {cg * groups}; both channel counts must divide by groups"
            )
        if bias is not None and np.shape(bias) != (o,):
            raise ValueError(f"conv2d: bias must have shape ({o},), got {np.shape(bias)}")
        method = _default_method if method is None else method
        if method not in METHODS:
            raise ValueError(f"conv2d: method must be one of {METHODS}, got {method!r}")
        ho = output_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        wo = output_size(w, kw, stride[1], sum(padding[1]), dilation[1])
        if ho < 1 or wo < 1:
            raise ValueError(
                f"conv2d: the input {x.shape} padded by {padding} is smaller than the kernel {(kh, kw)} "
                f"(dilation {dilation}); pad it or use a smaller kernel"
            )
        self.x_shape, self.out_hw, self.groups, self.method = x.shape, (ho, wo), groups, method
        self.stride, self.padding, self.dilation, self.kernel = stride, padding, dilation, (kh, kw)
        self.weight, self.has_bias = weight, bias is not None
        if method == "im2col":
            return self._forward_im2col(x, weight, bias)
        self.cols = cols = self._unfold(pad_input(x, padding))  # (B, groups, Cg·kh·kw, P), B·P = N·Ho·Wo
        w_mat = weight.reshape(groups, o // groups, cg * kh * kw)  # (groups, Og, Cg·kh·kw)
        out = np.matmul(w_mat, cols)  # (B, groups, Og, P): y[b, g] = W[g] · cols[b, g]
        if bias is not None:
            add_bias_(out.reshape(cols.shape[0], o, -1), bias, 1)
        return out.reshape(n, o, ho, wo)  # (N, O, Ho, Wo) for the row-major columns of ``_unfold``

    def _unfold(self, xp):
        """The columns of the padded input as (B, groups, Cg·kh·kw, P) blocks, one product each: here B = N
        samples of P = Ho·Wo positions in row-major order, cols (N, C, kh, kw, Ho, Wo) reshaped for free
        (channels of group g are the g-th block of C). A subclass may split and order the positions
        otherwise: every output is one dot product of a filter with a column, whatever its place."""
        cols = unfold(xp, self.kernel, self.out_hw, self.stride, self.dilation)
        return cols.reshape(xp.shape[0], self.groups, -1, self.out_hw[0] * self.out_hw[1])

    def _fold(self, dcols, padded_hw):
        """The adjoint of ``_unfold``: dcols (B, groups, Cg·kh·kw, P) → d(padded input) (N, C, Hp, Wp)."""
        n, c = self.x_shape[:2]
        dcols = dcols.reshape(n, c, *self.kernel, *self.out_hw)
        return fold(dcols, padded_hw, self.out_hw, self.stride, self.dilation)

    def _forward_im2col(self, x, weight, bias):
        n, o, groups = x.shape[0], weight.shape[0], self.groups
        (ho, wo), og = self.out_hw, o // groups
        cols = im2col(x, self.kernel, self.stride, self.padding, self.dilation)  # (N·Ho·Wo, C·kh·kw)
        # Group g owns the column block of its channels: columns [g·Cg·kh·kw, (g + 1)·Cg·kh·kw).
        self.cols = cols.reshape(cols.shape[0], groups, -1).transpose(1, 0, 2)  # (groups, N·Ho·Wo, Cg·kh·kw)
        w_mat = weight.reshape(groups, og, -1)
        out = np.matmul(self.cols, w_mat.transpose(0, 2, 1))  # (groups, N·Ho·Wo, Og) = cols · Wᵀ
        out = out.reshape(groups, n, ho, wo, og).transpose(1, 0, 4, 2, 3).reshape(n, o, ho, wo)
        if bias is not None:
            add_bias_(out, bias, 1)
        return out

    def backward(self, grad):
        need = self.needs_input_grad
        db = None
        if self.has_bias and need[2]:  # db[o] = Σ_{n,i,j} g, over the blocks the product ran on
            blocks = grad.shape[0] if self.method == "im2col" else self.cols.shape[0]
            db = grad.reshape(blocks, self.weight.shape[0], -1).sum(axis=(0, 2))
        if self.method == "im2col":
            dx, dw = self._backward_im2col(grad, need)
        else:
            dx, dw = self._backward_batched(grad, need)
        return (dx, dw, db)[: len(need)]

    def _backward_batched(self, grad, need):
        h, w = self.x_shape[2:]
        weight, groups, cols = self.weight, self.groups, self.cols
        o, cg, kh, kw = weight.shape
        og = o // groups
        g = grad.reshape(cols.shape[0], groups, og, cols.shape[3])  # dY in the blocks of the columns
        dw = dx = None
        if need[1]:
            # dW[g] = Σ_b dY[b, g] · cols[b, g]ᵀ: one small GEMM per block, then a sum over the blocks of
            # (groups, Og, Cg·kh·kw) blocks (measured faster than einsum or one transposed GEMM here)
            dw = np.matmul(g, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
        if need[0]:
            w_mat = weight.reshape(groups, og, cg * kh * kw)
            dcols = np.matmul(w_mat.transpose(0, 2, 1), g)  # (B, groups, Cg·kh·kw, P) = Wᵀ · dY
            (top, bottom), (left, right) = self.padding
            dxp = self._fold(dcols, (h + top + bottom, w + left + right))
            dx = dxp[:, :, top : top + h, left : left + w]
        return dx, dw

    def _backward_im2col(self, grad, need):
        weight, groups, cols = self.weight, self.groups, self.cols
        o = weight.shape[0]
        og = o // groups
        n, _, ho, wo = grad.shape
        # dY as rows per output position, per group: (groups, N·Ho·Wo, Og)
        g = grad.reshape(n, groups, og, ho * wo).transpose(1, 0, 3, 2).reshape(groups, n * ho * wo, og)
        dw = dx = None
        if need[1]:
            dw = np.matmul(g.transpose(0, 2, 1), cols).reshape(weight.shape)  # dW = dYᵀ · cols
        if need[0]:
            dcols = np.matmul(g, weight.reshape(groups, og, -1))  # (groups, N·Ho·Wo, Cg·kh·kw) = dY · W
            dcols = dcols.transpose(1, 0, 2).reshape(n * ho * wo, -1)
            dx = col2im(dcols, self.x_shape, self.kernel, self.stride, self.padding, self.dilation)
        return dx, dw
