"""conv2d (both column layouts) and the pooling ops: gradcheck and PyTorch (float64), many configurations.

Each configuration is drawn from a seeded generator so that together they cover stride > 1 with padding,
dilation, groups, rectangular kernels, odd sizes, asymmetric "same" padding and batch 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from numnet import Tensor
from numnet.nn import functional as F
from numnet.ops.conv import col2im, im2col, use_method

from ._oracle import assert_gradcheck, assert_matches_torch, check, distinct

FAMILY = "conv"

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
CONV_CASES = [
    (2, 3, 7, 6, 4, (3, 3), 1, 0, 1, 1),
    (1, 2, 9, 8, 3, (3, 2), 2, 1, 1, 1),  # batch 1, rectangular kernel, stride 2 with padding
    (2, 4, 8, 9, 6, (3, 3), (2, 1), (1, 2), 2, 2),  # groups, dilation, unequal stride/padding
    (3, 1, 5, 5, 2, (5, 5), 1, 0, 1, 1),  # kernel as large as the input: 1×1 output
    (2, 6, 7, 7, 6, (3, 3), 1, 1, 1, 6),  # depthwise
    (2, 2, 6, 7, 3, (2, 4), 1, "same", (2, 1), 1),  # "same" with an odd total padding
    (1, 3, 5, 6, 2, (1, 1), 3, 0, 1, 1),  # 1×1 kernel, stride larger than the kernel
    (2, 2, 6, 5, 4, (3, 3), 1, "valid", 1, 2),
]


def _conv_inputs(rng, case):
    n, c, h, w, o, kernel, stride, padding, dilation, groups = case
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((o, c // groups, *kernel)) * 0.5
    bias = rng.standard_normal(o)
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x, weight, bias, options


def _ours(method, **options):
    def conv(x, w, b):
        with use_method(method):
            return F.conv2d(x, w, b, **options)

    return conv


@pytest.mark.parametrize("method", ["batched", "im2col"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c[:4])) + f"-{c[5:]}")
def test_conv2d_gradcheck_and_torch(rng, case, method):
    x, weight, bias, options = _conv_inputs(rng, case)
    check(
        FAMILY,
        f"conv2d[{method}]",
        _ours(method, **options),
        lambda x, w, b: TF.conv2d(x, w, b, **options),
        x,
        weight,
        bias,
    )


@pytest.mark.parametrize("method", ["batched", "im2col"])
def test_conv2d_without_bias_and_random_configurations(method):
    # 12 further random configurations against PyTorch (outputs and the input and weight gradients)
    rng = np.random.default_rng(7)
    for trial in range(12):
        groups = int(rng.choice([1, 2, 3]))
        c, o = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        h = dilation[0] * (kernel[0] - 1) + 1 + int(rng.integers(0, 5))
        w = dilation[1] * (kernel[1] - 1) + 1 + int(rng.integers(0, 5))
        x = rng.standard_normal((int(rng.integers(1, 4)), c, h, w))
        weight = rng.standard_normal((o, c // groups, *kernel))
        options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        with use_method(method):
            assert_matches_torch(
                FAMILY,
                f"conv2d[{method}, no bias]",
                lambda x, w, options=options: F.conv2d(x, w, None, **options),
                lambda x, w, options=options: TF.conv2d(x, w, None, **options),
                x,
                weight,
                seed=trial,
            )


def test_im2col_and_col2im_are_adjoint(rng):
    # ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for any x, c: col2im is exactly the backward of im2col
    args = ((3, 2), (2, 1), ((1, 1), (2, 0)), (1, 2))
    x = rng.standard_normal((2, 3, 7, 8))
    cols = im2col(x, *args)
    c = rng.standard_normal(cols.shape)
    back = col2im(c, x.shape, *args)
    assert back.shape == x.shape
    assert np.isclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)
    # and one row is the patch the kernel sees at that output position
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 0)))
    ho, wo = (7 + 2 - 3) // 2 + 1, (8 + 2 - 2 * 1 - 1) // 1 + 1
    assert cols.shape == (2 * ho * wo, 3 * 3 * 2)
    n, i, j = 1, 2, 3
    patch = xp[n, :, i * 2 : i * 2 + 3, j : j + 3 : 2]
    np.testing.assert_array_equal(cols[n * ho * wo + i * wo + j], patch.reshape(-1))


def test_conv2d_float32_stays_float32(rng):
    x = Tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(4, np.float32), requires_grad=True)
    for method in ("batched", "im2col"):
        with use_method(method):
            out = F.conv2d(x, w, b, stride=2, padding=1)
            assert out.dtype == np.float32
            out.sum().backward()
            assert x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32
            x.grad = w.grad = b.grad = None


def test_conv2d_unbatched_input(rng):
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    out = F.conv2d(Tensor(x), Tensor(w), padding=1)
    expected = TF.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    assert out.shape == (3, 5, 5)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "options", "message"),
    [
        ((2, 3, 8, 8), (4, 2, 3, 3), {}, "input has 3 channels"),
        ((2, 3, 2, 8), (4, 3, 3, 3), {}, "smaller than the kernel"),
        ((3, 8, 8, 1, 1), (4, 3, 3, 3), {}, "expects input"),
        ((2, 4, 8, 8), (4, 2, 3, 3), {"groups": 3}, "groups"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "same", "stride": 2}, "'same' needs stride 1"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "full"}, "'same' or 'valid'"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, "stride"),
    ],
)
def test_conv2d_bad_input(x_shape, w_shape, options, message):
    with pytest.raises(ValueError, match=message):
        F.conv2d(Tensor(np.zeros(x_shape)), Tensor(np.zeros(w_shape)), **options)


# --- pooling ------------------------------------------------------------------------------------------

# (shape, kernel, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((1, 2, 7, 9), (3, 2), (2, 1), (1, 1), 1, False),
    ((2, 2, 9, 7), 3, 2, 1, 2, False),
    ((2, 1, 7, 7), 2, 2, 0, 1, True),  # ceil mode: a partial last window
    ((1, 2, 8, 7), 3, 2, 1, 1, True),
    ((3, 2, 5, 6), (2, 3), 1, (1, 1), (1, 2), False),  # overlapping windows
]


@pytest.mark.parametrize("case", MAX_CASES, ids=str)
def test_max_pool2d(rng, case):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = distinct(rng, shape)  # no ties within reach of the finite differences
    options = {"stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode}
    check(
        FAMILY,
        "max_pool2d",
        lambda x: F.max_pool2d(x, kernel, **options),
        lambda x: TF.max_pool2d(x, kernel, **options),
        x,
    )


def test_max_pool2d_gradient_goes_to_the_first_maximum():
    # ties everywhere: PyTorch gives each window's gradient to its first maximum in row-major order
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]]])
    for kernel, stride in ((2, 1), (2, 2), (3, 1)):
        assert_matches_torch(
            FAMILY,
            "max_pool2d(ties)",
            lambda x, k=kernel, s=stride: F.max_pool2d(x, k, s),
            lambda x, k=kernel, s=stride: TF.max_pool2d(x, k, s),
            x,
        )


def test_max_pool2d_nan_propagates():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    out = F.max_pool2d(Tensor(x), 2)
    assert np.isnan(out.data).all()


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 3), ((2, 3), (2, 3)), (2, 1), (3, 2)], ids=str)
def test_max_pool2d_ties_and_nans_route_the_gradient_as_pytorch(kernel, stride):
    # Small integers (ties in most windows) and a few NaNs, one window holding two: PyTorch gives a tied
    # window's gradient to its first maximum and a NaN window's to its last NaN. Tiling kernels (2/2, 3/3,
    # (2,3)/(2,3)) take the row-block forward and the no-zeros backward; the others the general taps.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, (2, 3, 12, 12)).astype(np.float64)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = x[1, 2, 5, 7] = x[1, 1, 11, 11] = np.nan
    g = rng.standard_normal(TF.max_pool2d(torch.from_numpy(x), kernel, stride).shape)
    xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_n, out_t = F.max_pool2d(xn, kernel, stride), TF.max_pool2d(xt, kernel, stride)
    np.testing.assert_array_equal(out_n.data, out_t.detach().numpy())  # NaNs in the same places
    out_n.backward(g)
    out_t.backward(torch.from_numpy(g))
    # overlapping windows sum their shares in another order than PyTorch: equal up to rounding
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


# (shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((1, 2, 7, 9), (3, 2), (2, 1), (1, 1), False, True, None),
    ((1, 2, 7, 9), (3, 2), (2, 1), (1, 1), False, False, None),
    ((2, 2, 7, 7), 3, 2, 1, True, True, None),  # ceil mode: the last window clipped to input + padding
    ((2, 2, 7, 7), 3, 2, 1, True, False, None),
    ((2, 1, 6, 5), (2, 3), 1, (1, 1), False, True, 4),
]


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
def test_avg_pool2d(rng, case):
    shape, kernel, stride, padding, ceil_mode, include_pad, divisor = case
    x = rng.standard_normal(shape)
    options = {
        "stride": stride,
        "padding": padding,
        "ceil_mode": ceil_mode,
        "count_include_pad": include_pad,
        "divisor_override": divisor,
    }
    check(
        FAMILY,
        "avg_pool2d",
        lambda x: F.avg_pool2d(x, kernel, **options),
        lambda x: TF.avg_pool2d(x, kernel, **options),
        x,
    )


@pytest.mark.parametrize(
    ("shape", "size"),
    [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), 1), ((2, 2, 4, 6), (6, 5)), ((1, 1, 7, 5), (2, None))],
)
def test_adaptive_avg_pool2d(rng, shape, size):
    x = rng.standard_normal(shape)
    check(
        FAMILY,
        "adaptive_avg_pool2d",
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        x,
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: F.max_pool2d(x, 9), "smaller than the kernel"),
        (lambda x: F.max_pool2d(x, 2, padding=2), "at most half"),
        (lambda x: F.avg_pool2d(x, 0), "kernel_size"),
        (lambda x: F.max_pool2d(x[0, 0], 2), "expects input"),
        (lambda x: F.adaptive_avg_pool2d(x, 0), "output_size"),
    ],
)
def test_pool_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor(np.zeros((2, 3, 5, 5))))


@pytest.mark.parametrize(
    "fn",
    [lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: F.adaptive_avg_pool2d(x, 2)],
)
def test_pool_float32_stays_float32(rng, fn):
    x = Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


# --- batch norm over (N, C, H, W) -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 3, 3, 2)], ids=str)
def test_batch_norm_4d(rng, shape):
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    check(
        FAMILY,
        "batch_norm(N,C,H,W)",
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        lambda x, g, b: TF.batch_norm(x, None, None, g, b, training=True),
        x,
        gamma,
        beta,
    )
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    check(
        FAMILY,
        "batch_norm(N,C,H,W, eval)",
        lambda x, g, b: F.batch_norm(x, mean, var, g, b, training=False),
        lambda x, g, b: TF.batch_norm(x, torch.from_numpy(mean), torch.from_numpy(var), g, b, training=False),
        x,
        gamma,
        beta,
    )


def test_gradcheck_helper_sees_conv_weight_only(rng):
    # the first layer of a net never needs dX: the op must still give the weight and bias gradients
    x = rng.standard_normal((2, 1, 6, 6))
    w, b = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    assert_gradcheck(lambda x, w, b: F.conv2d(x, w, b), x, w, b, requires=[False, True, True])


def test_max_pool2d_infinite_gradient_reaches_only_the_maximum():
    # an inf in the incoming gradient must not turn the other positions of its window into NaN (0·inf)
    x = np.array([[[[1.0, 3.0], [2.0, 0.0]]]])
    g = np.array([[[[np.inf]]]])
    for kernel, stride in ((2, 2), (2, 1)):
        xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        F.max_pool2d(xn, kernel, stride).backward(g)
        TF.max_pool2d(xt, kernel, stride).backward(torch.from_numpy(g))
        np.testing.assert_array_equal(xn.grad, xt.grad.numpy())


def test_pools_random_configurations():
    # 15 random configurations each for max and average pooling against PyTorch (outputs and input grads)
    rng = np.random.default_rng(11)
    for trial in range(15):
        kernel = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        padding = (int(rng.integers(0, kernel[0] // 2 + 1)), int(rng.integers(0, kernel[1] // 2 + 1)))
        dilation = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        ceil_mode = bool(rng.integers(0, 2))
        include_pad = bool(rng.integers(0, 2))
        shape = (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 3)),
            int(rng.integers(5, 10)),
            int(rng.integers(5, 10)),
        )
        x = distinct(rng, shape)
        mx = {"stride": stride, "padding": padding, "dilation": dilation, "ceil_mode": ceil_mode}
        avg = {"stride": stride, "padding": padding, "ceil_mode": ceil_mode, "count_include_pad": include_pad}
        assert_matches_torch(
            FAMILY,
            "max_pool2d(random)",
            lambda x, k=kernel, o=mx: F.max_pool2d(x, k, **o),
            lambda x, k=kernel, o=mx: TF.max_pool2d(x, k, **o),
            x,
            seed=trial,
        )
        assert_matches_torch(
            FAMILY,
            "avg_pool2d(random)",
            lambda x, k=kernel, o=avg: F.avg_pool2d(x, k, **o),
            lambda x, k=kernel, o=avg: TF.avg_pool2d(x, k, **o),
            x,
            seed=trial,
        )
