"""2-D pooling over (N, C, H, W): max (alone or after a ReLU, fused), average, adaptive average.

A window of kernel (kh, kw) slides with stride (sh, sw) over the input padded by (ph, pw) on each side; the
output at (i, j) pools the padded rows i·sh + p·dh (p < kh) and columns j·sw + q·dw (q < kw). Output size as
PyTorch: Ho = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1, or ⌈…⌉ + 1 with ``ceil_mode``, in which case a last
window that would start in the right/bottom padding only is dropped.

All three backwards loop over the kh·kw kernel taps, each one strided add of an (N, C, Ho, Wo) block (the
same index arithmetic as ``ops.conv.fold``), rather than over the Ho·Wo windows; max pooling's float32 2×2/2
backward, the usual one, runs instead as whole-array passes (``_spread_2x2``, ``_keep_first_hit_2x2``).
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterator

import numpy as np

from numnet.ops.activation import relu_array
from numnet.ops.conv import _window_slices, pad_input
from numnet.tensor import Function

Pair = tuple[int, int]


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size along one axis (see the module docstring)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = math.ceil(span / stride) + 1 if span >= 0 else span // stride + 1
    if (out - 1) * stride >= size + pad:  # the last window would start past the input: drop it
        out -= 1
    return out


def _check_pool(name: str, x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> None:
    if x.ndim != 4:
        raise ValueError(f"{name}: expects input (N, C, H, W), got shape {x.shape}")
    if min(*kernel, *stride, *dilation) < 1:
        raise ValueError(
            f"{name}: kernel_size, stride and dilation must be positive, got {kernel}, {stride}, {dilation}"
        )
    if padding[0] < 0 or padding[1] < 0 or 2 * padding[0] > kernel[0] or 2 * padding[1] > kernel[1]:
        raise ValueError(f"{name}: padding {padding} must be at least 0 and at most half the kernel {kernel}")


class _Pool2d(Function):
    """What max and average pooling share: sizes, the padded input, and the per-tap windows."""

    def _setup(self, name, x, kernel, stride, padding, dilation, ceil_mode, fill):
        _check_pool(name, x, kernel, stride, padding, dilation)
        h, w = x.shape[2:]
        ho = pool_output_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
        wo = pool_output_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
        if ho < 1 or wo < 1:
            raise ValueError(
                f"{name}: the input {x.shape} padded by {padding} is smaller than the kernel {kernel}"
            )
        # ceil_mode can make the last window reach past the symmetric padding: pad that far too.
        extra_h = max(0, (ho - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - (h + 2 * padding[0]))
        extra_w = max(0, (wo - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - (w + 2 * padding[1]))
        pads = ((padding[0], padding[0] + extra_h), (padding[1], padding[1] + extra_w))
        self.x_shape, self.out_hw, self.pads = x.shape, (ho, wo), pads
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        return pad_input(x, pads, fill)

    def _taps(self):
        kh, kw = self.kernel
        for p in range(kh):
            for q in range(kw):
                yield p, q, _window_slices(p, q, self.out_hw, self.stride, self.dilation)

    def _crop(self, dxp):
        (top, _), (left, _) = self.pads
        h, w = self.x_shape[2:]
        return dxp[:, :, top : top + h, left : left + w]


def _running_max(views) -> np.ndarray:
    """The element-wise maximum of ``views`` (same shapes) in a new array, updated in place: np.maximum
    propagates NaN, as PyTorch's max pooling."""
    views = iter(views)
    out = next(views)
    second = next(views, None)
    if second is None:
        return out.copy()
    out = np.maximum(out, second)
    for view in views:
        np.maximum(out, view, out=out)
    return out


# Two float32 bit patterns side by side in one 64-bit word: v · (2³² + 1) = v | v << 32 for v < 2³².
_TWICE_32 = np.uint64(0x1_0000_0001)


def _spread_2x2(a: np.ndarray) -> np.ndarray:
    """float32 (N, C, h, w) → (N, C, 2h, 2w), each value copied bit for bit over its 2×2 block (a new array).

    Why the bit trick: NumPy copies a value into two neighbouring columns with an inner loop of stride 2,
    several times slower than a contiguous pass (``np.repeat`` is slower still). Read as 64-bit words, those
    two columns are one word, which is the value's 32 bits written twice; the row copy is then a broadcast
    of whole rows.
    """
    n, c, h, w = a.shape
    blocks = np.empty((n, c, h, 2, w), dtype=np.uint64)  # (row pair, 2 rows, w two-column words)
    np.multiply(a.view(np.uint32)[:, :, :, None, :], _TWICE_32, out=blocks, dtype=np.uint64)
    return blocks.view(np.float32).reshape(n, c, 2 * h, 2 * w)


# Moves a window row's left byte onto its right one in a 16-bit word (the left byte is the first in memory).
_LEFT_ONTO_RIGHT = np.left_shift if sys.byteorder == "little" else np.right_shift
_ONE_16 = np.uint16(1)


def _keep_first_hit_2x2(hit: np.ndarray) -> None:
    """In place: in each 2×2 window of the bool (N, C, 2h, 2w) ``hit``, keep only the first True in row-major
    order (top left, top right, bottom left, bottom right), as PyTorch routes a tied window's gradient.

    Whole-array passes over 16-bit words, each the (left, right) pair of bytes of one window row, with 0 or 1
    in each byte: a strided pass per window position, as in the tap loop, costs several times as much.
    """
    n, c, rows, columns = hit.shape
    per_row = columns // 2
    words = hit.view(np.uint16).reshape(n * c, rows * per_row)
    right_loses = _LEFT_ONTO_RIGHT(words, 8)  # the left byte's 1 where the right byte sits, nothing else
    np.invert(right_loses, out=right_loses)
    words &= right_loses  # a row now holds one hit at most: its word is 0 or one byte's 1
    # Each word against the word one row below it: a bottom row keeps its hit only if its top row has none.
    top, below = words[:, :-per_row], words[:, per_row:]
    keep = np.subtract(top, _ONE_16)  # 0 → 0xFFFF; a single byte's 1 (1 or 256) → 0 or 255
    np.right_shift(keep, 15, out=keep)  # 1 where the word above has no hit, else 0
    np.negative(keep, out=keep)  # all bits where the word above has no hit, else none
    keep |= _starts_a_window(rows, per_row)  # a top row below the previous window's bottom row: kept as is
    below &= keep


@functools.lru_cache(maxsize=16)
def _starts_a_window(rows: int, per_row: int) -> np.ndarray:
    """0xFFFF at the words of rows 2, 4, … (the rows below a window's bottom row), 0 at rows 1, 3, …; one
    entry per word of rows 1 … rows − 1, read-only."""
    row = np.arange(per_row, rows * per_row) // per_row
    mask = np.where(row % 2 == 0, 0xFFFF, 0).astype(np.uint16)
    mask.flags.writeable = False
    return mask


def first_hits(taps: list[np.ndarray], maximum: np.ndarray) -> Iterator[np.ndarray]:
    """For each of ``taps`` (the window positions, in row-major window order, each shaped as ``maximum``):
    the bool mask of the windows whose first maximum it holds. One buffer, rewritten at each step.

    Every pass writes into a buffer allocated once: taps are often strided views, and each pass over them
    costs several times a contiguous one, so none is spent on temporaries. Never true where the maximum is
    NaN (NaN ≠ NaN).
    """
    hit = np.empty(maximum.shape, dtype=bool)  # this tap holds its window's first maximum
    unclaimed = np.empty(maximum.shape, dtype=bool)  # windows whose first maximum is still to be found
    last = len(taps) - 1
    for k, tap in enumerate(taps):
        np.equal(tap, maximum, out=hit)
        if k == 0:
            np.logical_not(hit, out=unclaimed)
        else:
            hit &= unclaimed
            if k < last:
                unclaimed ^= hit  # hit ⊆ unclaimed here, so this is unclaimed &= ~hit without a temporary
        yield hit


class MaxPool2d(_Pool2d):
    """y[n, c, i, j] = max over the window of xpad (padding counts as −∞, so it never wins).

    The gradient goes to the first maximum of each window, in row-major order of the window (as PyTorch);
    ties elsewhere in the window get nothing. A NaN in a window is its maximum (it propagates), and the
    window's last NaN receives the gradient (PyTorch's scan replaces its maximum at every NaN).

    Forward: the running maximum over the kh·kw taps, each tap one strided (N, C, Ho, Wo) view of the
    input (no window copy, no argmax); windows whose rows tile the input reduce each block of rows first.
    Backward: the taps again in row-major order; a tap equal to the maximum, in a window no earlier tap has
    claimed, receives that window's gradient. Windows of 2×2 that tile the input in float32 get the same
    numbers from contiguous passes: the maximum and the gradient spread over their windows, one comparison,
    and the first hit of each window kept.
    """

    def forward(self, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        self.xp = xp = self._setup("max_pool2d", x, kernel, stride, padding, dilation, ceil_mode, fill)
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        (ho, wo), (n, c, _, wp) = self.out_hw, xp.shape
        if dh == 1 and sh == kh and kh > 1:
            # Window rows tile the input (the usual 2×2/2 pooling): reduce each block of kh rows first. Those
            # rows are whole contiguous lines, so the kh − 1 maxima run at full SIMD speed; only the kw column
            # taps below are strided. The maximum is the same in any order (NaN propagates either way).
            blocks = xp[:, :, : ho * kh].reshape(n, c, ho, kh, wp)
            rows_max = _running_max(blocks[:, :, :, p] for p in range(kh))
            out = _running_max(rows_max[..., q * dw : q * dw + (wo - 1) * sw + 1 : sw] for q in range(kw))
        else:
            out = _running_max(xp[:, :, rows, columns] for _, _, (rows, columns) in self._taps())
        self.out = out
        return out

    def backward(self, grad):
        return self._route(grad, bool(np.isfinite(grad).all()))

    def _route(self, grad, finite):
        """dx: each window's gradient to its first maximum; ``finite``: whether ``grad`` is all finite."""
        xp, out = self.xp, self.out
        nan_windows = np.isnan(out) if xp.dtype.kind == "f" else None  # windows whose maximum is NaN
        has_nan = nan_windows is not None and bool(nan_windows.any())
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho, wo = self.out_hw
        disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1  # windows do not overlap
        # Windows that tile the padded input exactly write every position of dx once: no zeros needed.
        tiled = dh == dw == 1 and sh == kh and sw == kw and (ho * sh, wo * sw) == xp.shape[2:]
        if tiled and (kh, kw) == (2, 2) and finite and not has_nan and xp.dtype == grad.dtype == np.float32:
            # The usual 2×2/2 pooling in float32, in contiguous passes instead of the strided taps below
            # (SimpleConvNet's (100, 30, 24, 24): 3.2–3.7 → 2.3 ms): hit = (x == m spread over its window),
            # cut to each window's first hit, then dx = (g spread over its window)·hit, as the taps give.
            hit = np.equal(xp, _spread_2x2(out))
            _keep_first_hit_2x2(hit)
            dxp = _spread_2x2(grad)
            np.multiply(dxp, hit, out=dxp)
            return self._crop(dxp)
        dxp = np.empty(xp.shape, dtype=grad.dtype) if tiled else np.zeros(xp.shape, dtype=grad.dtype)
        taps = [(rows, columns) for _, _, (rows, columns) in self._taps()]
        hits = first_hits([xp[:, :, rows, columns] for rows, columns in taps], out)
        for (rows, columns), hit in zip(taps, hits, strict=True):
            target = dxp[:, :, rows, columns]
            if disjoint and finite:  # each input position belongs to one window at most: a plain write
                np.multiply(grad, hit, out=target)  # g·hit; 10× faster than np.where(hit, g, 0)
            else:  # g·hit would be NaN where g is ±inf or NaN and hit is 0
                share = grad * hit if finite else np.where(hit, grad, 0)
                if disjoint:
                    target[...] = share
                else:
                    target += share
        if has_nan:  # a window holding NaN: PyTorch's scan takes every NaN it meets, so its last NaN wins
            unclaimed = nan_windows
            for _, _, (rows, columns) in reversed(list(self._taps())):
                hit = np.isnan(xp[:, :, rows, columns]) & unclaimed
                unclaimed &= ~hit
                dxp[:, :, rows, columns] += np.where(hit, grad, 0)
        return self._crop(dxp)


class ReLUMaxPool2d(MaxPool2d):
    """y = maxpool(relu(x)) as one node, computed as relu(maxpool(x)): the numbers of ``ReLU`` then
    ``MaxPool2d`` with the rectification on the pooled array, a quarter of the input under 2×2 pooling, so
    the full-size ReLU pass, its mask and its backward pass are not spent (``nn.Sequential`` uses it for a
    ``ReLU`` followed by ``MaxPool2d``, as in SimpleConvNet's conv → ReLU → pool).

    Why the numbers are the same: relu is monotone, so the window maximum of relu(x) is relu of the window
    maximum of x (NaN propagates through both; relu(−inf) = 0). Where that maximum m is positive, the first
    maximum of the rectified window is the first maximum of x (no value ≤ 0 can tie with m), and both give
    it g; where m ≤ 0, the unfused backward sends g to a position whose ReLU mask is 0, and this one sends
    g·0: zeros. Two cases need the unfused order itself: a window of padding only (possible with dilation),
    whose maximum is the padding's −∞ in the unfused layers, not relu(−∞); and a gradient holding ±inf or
    NaN, whose g·0 = NaN the unfused layers put at the first maximum of the rectified window (its first
    input position when m ≤ 0), so that backward runs ReLU's and MaxPool2d's backward one after the other.
    The sign of a zero may differ from the unfused layers'.

    It keeps its input x, not a rectified copy (that copy is the pass it saves): x changed in place under
    ``no_grad`` before the backward changes the gradient, as for every op that keeps its input.
    """

    def forward(self, x, kernel=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        self.x, self.options = x, (kernel, stride, padding, dilation, ceil_mode)
        pooled = MaxPool2d.forward(self, x, kernel, stride, padding, dilation, ceil_mode)  # self.out = m
        out, self.mask = relu_array(pooled)  # a new array: the backward compares the taps with m itself
        if dilation != (1, 1) and padding != (0, 0):  # only then can a window miss the input entirely
            padding_only = self._padding_only_windows()
            if padding_only.any():
                out[..., padding_only] = -np.inf if out.dtype.kind == "f" else np.iinfo(out.dtype).min
        return out

    def backward(self, grad):
        if not np.isfinite(grad).all():
            return self._backward_unfused(grad)
        # dm = g where m > 0, else 0 (ReLU's backward on the pooled array; finite, as g is), then MaxPool2d's
        return self._route(grad * self.mask, True)

    def _backward_unfused(self, grad):
        """ReLU's backward after MaxPool2d's on relu(x), as the unfused layers compute it."""
        rectified, mask = relu_array(self.x)
        pool = MaxPool2d()
        pool.needs_input_grad = self.needs_input_grad
        pool.forward(rectified, *self.options)
        return pool.backward(grad) * mask  # ∞·0 = NaN where the ReLU's mask is 0, as unfused

    def _padding_only_windows(self):
        """(Ho, Wo) bool: the windows none of whose taps meets the input (rows or columns all padding)."""
        (top, _), (left, _) = self.pads
        axes = zip(
            self.x_shape[2:], self.out_hw, self.kernel, self.stride, self.dilation, (top, left), strict=True
        )
        meets = []
        for size, n_out, k, s, d, pad in axes:
            taps = (np.arange(n_out) * s - pad)[:, None] + np.arange(k) * d  # unpadded index of each tap
            meets.append(((taps >= 0) & (taps < size)).any(axis=1))
        return ~(meets[0][:, None] & meets[1][None, :])


class AvgPool2d(_Pool2d):
    """y[n, c, i, j] = Σ window xpad / divisor, padding counting as 0.

    Divisor as PyTorch: the window clipped to the padded input (H + 2·ph, relevant with ceil_mode) when
    ``count_include_pad``, else the window clipped to the input itself; ``divisor_override`` replaces both.
    It factors into a row count times a column count: d[i, j] = dₕ[i]·d_w[j].
    """

    def forward(
        self,
        x,
        kernel=(2, 2),
        stride=(2, 2),
        padding=(0, 0),
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        xp = self._setup("avg_pool2d", x, kernel, stride, padding, (1, 1), ceil_mode, 0)
        out = np.zeros((*x.shape[:2], *self.out_hw), dtype=x.dtype)
        for _, _, (rows, columns) in self._taps():
            out += xp[:, :, rows, columns]
        if divisor_override is not None:
            if divisor_override == 0:
                raise ValueError("avg_pool2d: divisor_override must not be 0")
            self.divisor = np.asarray(divisor_override, dtype=x.dtype)
        else:
            sizes = [
                self._counts(n, k, s, pad, m, count_include_pad)
                for n, k, s, pad, m in zip(x.shape[2:], kernel, stride, padding, self.out_hw, strict=True)
            ]
            self.divisor = np.multiply.outer(*sizes).astype(x.dtype)
        out /= self.divisor
        return out

    @staticmethod
    def _counts(size: int, kernel: int, stride: int, pad: int, out: int, include_pad: bool) -> np.ndarray:
        # window i covers unpadded positions [i·s − pad, i·s − pad + k), clipped to [−pad, size + pad) …
        start = np.arange(out) * stride - pad
        end = np.minimum(start + kernel, size + pad)
        if include_pad:
            return end - start
        return np.minimum(end, size) - np.maximum(start, 0)  # … or to the input [0, size)

    def backward(self, grad):
        # y = Σ window / d  →  every input position of window (i, j) receives g[i, j] / d[i, j]
        scaled = grad / self.divisor
        (top, bottom), (left, right) = self.pads
        h, w = self.x_shape[2:]
        dxp = np.zeros((*self.x_shape[:2], h + top + bottom, w + left + right), dtype=grad.dtype)
        for _, _, (rows, columns) in self._taps():
            dxp[:, :, rows, columns] += scaled
        return self._crop(dxp)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i is 1/len on [⌊i·size/out⌋, ⌈(i + 1)·size/out⌉), PyTorch's bins."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start = (i * size) // out
        end = -((-(i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class AdaptiveAvgPool2d(Function):
    """(N, C, H, W) → (N, C, Ho, Wo) for any output size: bin i spans rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1.

    The bins are separable, so the pooling is two small matrix products: y = A_H · x · A_Wᵀ per (n, c), with
    A (out, size) holding 1/bin-length on each bin; backward dx = A_Hᵀ · g · A_W.
    """

    def forward(self, x, output_size=(1, 1)):
        if x.ndim != 4:
            raise ValueError(f"adaptive_avg_pool2d: expects input (N, C, H, W), got shape {x.shape}")
        ho = x.shape[2] if output_size[0] is None else output_size[0]
        wo = x.shape[3] if output_size[1] is None else output_size[1]
        if ho < 1 or wo < 1 or x.shape[2] < 1 or x.shape[3] < 1:
            raise ValueError(
                f"adaptive_avg_pool2d: output size {(ho, wo)} and input {x.shape} must be positive"
            )
        self.a_h = _adaptive_matrix(x.shape[2], ho, x.dtype)
        self.a_w = _adaptive_matrix(x.shape[3], wo, x.dtype)
        return self.a_h @ x @ self.a_w.T  # broadcast over (N, C)

    def backward(self, grad):
        return self.a_h.T @ grad @ self.a_w
