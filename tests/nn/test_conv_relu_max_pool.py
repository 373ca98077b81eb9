"""Conv2d → ReLU → MaxPool2d(2) as one node (``ops.ConvReLUMaxPool2d``, the corner-major column layout):
the output and the gradients against PyTorch and against the three layers run apart, ties, NaN and ±inf,
every convolution option the node takes, and the rules by which ``nn.Sequential`` uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import nn, ops
from numnet.ops.conv import use_method

CONVS = {  # (in, out, kernel, Conv2d options, input H × W): each conv output has even sides
    "5x5 SimpleConvNet": (1, 6, 5, {}, (12, 12)),
    "3x3 padding 1": (3, 4, 3, {"padding": 1}, (6, 8)),
    "3x3 padding same": (2, 4, 3, {"padding": "same"}, (6, 6)),
    "3x3 stride 2": (2, 3, 3, {"stride": 2}, (9, 13)),
    "2x3 dilation 2": (2, 3, (2, 3), {"dilation": 2}, (6, 8)),
    "groups 2, no bias": (4, 6, 3, {"groups": 2, "bias": False}, (6, 6)),
    "stride (1, 2), padding (2, 0)": (1, 2, 3, {"stride": (1, 2), "padding": (2, 0)}, (4, 9)),
}


def layers(case: str, dtype=np.float64):
    c_in, c_out, kernel, options, hw = CONVS[case]
    numnet.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, kernel, dtype=dtype, **options)
    return nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2)), (2, c_in, *hw)


def run(model, x, grad):
    """(output, dx, dW, db) of ``model`` on ``x`` with upstream gradient ``grad``."""
    for p in model.parameters():
        p.grad = None
    xt = numnet.tensor(x, requires_grad=True)
    out = model(xt)
    out.backward(numnet.tensor(grad))
    conv = model[0]
    return (
        out,
        xt.grad.numpy(),
        conv.weight.grad.numpy(),
        None if conv.bias is None else conv.bias.grad.numpy(),
    )


def torch_run(model, x, grad):
    conv = model[0]
    xt = torch.tensor(x, requires_grad=True)
    weight = torch.tensor(conv.weight.numpy(), requires_grad=True)
    bias = None if conv.bias is None else torch.tensor(conv.bias.numpy(), requires_grad=True)
    y = torch.nn.functional.conv2d(xt, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
    out = torch.nn.functional.max_pool2d(torch.relu(y), 2)
    out.backward(torch.from_numpy(grad))
    return (
        out.detach().numpy(),
        xt.grad.numpy(),
        weight.grad.numpy(),
        None if bias is None else bias.grad.numpy(),
    )


def assert_close(ours, theirs, rtol):
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.abs(b).max())))


@pytest.mark.parametrize("case", CONVS)
def test_the_fused_node_matches_pytorch_and_the_layers_apart(case):
    model, shape = layers(case)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    out = model(numnet.tensor(x))
    assert out.grad_fn.name == "ConvReLUMaxPool2d"
    grad = rng.standard_normal(out.shape)
    fused = run(model, x, grad)
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    assert apart[0].grad_fn.name == "MaxPool2d"
    # the same dot products, in GEMMs of other sizes (which may round differently), and sums in another order
    np.testing.assert_allclose(fused[0].numpy(), apart[0].numpy(), rtol=1e-14, atol=1e-15)
    assert_close(fused[1:], apart[1:], 1e-13)
    expected = torch_run(model, x, grad)
    np.testing.assert_allclose(fused[0].numpy(), expected[0], rtol=1e-13, atol=1e-14)
    assert_close(fused[1:], expected[1:], 1e-12)


@pytest.fixture
def unfused_backward_calls(monkeypatch):
    """How often ConvReLUMaxPool2d took the separate layers' backward instead of its corner passes."""
    calls = []
    original = ops.ConvReLUMaxPool2d._backward_unfused

    def counted(self, grad):
        calls.append(grad.shape)
        return original(self, grad)

    monkeypatch.setattr(ops.ConvReLUMaxPool2d, "_backward_unfused", counted)
    return calls


def test_tied_windows_send_the_gradient_to_their_first_maximum(unfused_backward_calls):
    """Rows of zeros make constant conv outputs (the bias alone), so every window ties in all four corners;
    between them, ties in the other corners. A gradient sent to the wrong corner moves dx and dW by O(1)."""
    model, shape = layers("3x3 padding 1")
    rng = np.random.default_rng(2)
    x = rng.integers(-1, 2, size=shape).astype(np.float64)  # −1, 0, 1: many equal conv outputs
    x[:, :, 1:4] = 0
    with numnet.no_grad():
        model[0].weight.data[...] = rng.integers(-1, 2, size=model[0].weight.shape)
        model[0].bias.data[...] = [1.0, 0.0, -1.0, 2.0]
    out = model(numnet.tensor(x))
    assert out.grad_fn.name == "ConvReLUMaxPool2d"
    y = torch.nn.functional.conv2d(
        torch.from_numpy(x),
        torch.from_numpy(model[0].weight.numpy()),
        torch.from_numpy(model[0].bias.numpy()),
        padding=1,
    ).numpy()
    corners = y.reshape(2, 4, 3, 2, 4, 2)
    window_max = corners.max(axis=(3, 5), keepdims=True)
    ties = (corners == window_max).sum(axis=(3, 5))
    assert (ties == 4).any() and (ties == 2).any() and (ties == 1).any()  # the cases the test is about
    grad = rng.standard_normal(out.shape)
    fused = run(model, x, grad)
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    assert unfused_backward_calls == []  # the corner passes ran, not the fallback
    expected = torch_run(model, x, grad)
    np.testing.assert_array_equal(fused[0].numpy(), expected[0])  # small integers: exact
    assert_close(fused[1:], apart[1:], 1e-14)
    assert_close(fused[1:], expected[1:], 1e-14)


def test_simpleconvnet_shapes_in_float32_match_the_layers_apart(unfused_backward_calls):
    """SimpleConvNet's first layers on MNIST-like images (a flat background: every window there ties)."""
    numnet.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2))
    rng = np.random.default_rng(3)
    x = np.zeros((8, 1, 28, 28), np.float32)
    x[:, :, 6:22, 8:20] = rng.random((8, 1, 16, 12), dtype=np.float32)
    grad = rng.standard_normal((8, 30, 12, 12)).astype(np.float32)
    fused = run(model, x, grad)
    assert fused[0].grad_fn.name == "ConvReLUMaxPool2d" and fused[0].dtype == np.float32
    assert unfused_backward_calls == []
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    np.testing.assert_allclose(fused[0].numpy(), apart[0].numpy(), rtol=1e-6, atol=1e-7)
    assert_close(fused[1:], apart[1:], 1e-5)
    assert_close(fused[1:], torch_run(model, x, grad)[1:], 1e-5)


@pytest.mark.parametrize("where", ["NaN input", "inf gradient", "NaN gradient"])
def test_nan_and_infinite_values_take_the_separate_layers_backward(where, unfused_backward_calls):
    model, shape = layers("3x3 padding 1")
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape)
    grad = rng.standard_normal((2, 4, 3, 4))
    if where == "NaN input":
        x[0, 1, 2, 3] = np.nan
    else:
        grad[1, 2, 0, 1] = np.inf if where == "inf gradient" else np.nan
    fused = run(model, x, grad)
    assert fused[0].grad_fn.name == "ConvReLUMaxPool2d"
    assert unfused_backward_calls == [grad.shape]  # the fallback ran, once
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    for ours, theirs in zip((fused[0].numpy(), *fused[1:]), (apart[0].numpy(), *apart[1:]), strict=True):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))  # the same NaNs …
        finite = np.isfinite(theirs)
        np.testing.assert_allclose(ours[finite], theirs[finite], rtol=1e-13, atol=1e-13)  # … and numbers
    expected = torch_run(model, x, grad)
    np.testing.assert_array_equal(np.isnan(fused[1]), np.isnan(expected[1]))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_bias_meets_each_corner_as_in_the_layers_apart(value, unfused_backward_calls):
    """A finite bias is added after the pooling; a NaN or infinite one must reach every corner, as it does
    when the bias is added to the conv output: with +inf every corner ties, and the gradient goes to the
    first, not to the conv output's largest."""
    model, shape = layers("3x3 padding 1")
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    with numnet.no_grad():
        model[0].bias.data[1] = value
    grad = rng.standard_normal((2, 4, 3, 4))
    fused = run(model, x, grad)
    assert fused[0].grad_fn.name == "ConvReLUMaxPool2d"
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    expected = torch_run(model, x, grad)
    # a NaN bias makes NaN maxima (the fallback's case); ±inf ones leave the corner passes to run
    assert unfused_backward_calls == ([grad.shape] if np.isnan(value) else [])
    ours_all, apart_all = (fused[0].numpy(), *fused[1:]), (apart[0].numpy(), *apart[1:])
    for ours, layers_apart, theirs in zip(ours_all, apart_all, expected, strict=True):
        for other in (layers_apart, theirs):
            np.testing.assert_array_equal(np.isnan(ours), np.isnan(other))
            finite = np.isfinite(other)
            np.testing.assert_array_equal(np.isfinite(ours), finite)
            np.testing.assert_allclose(ours[finite], other[finite], rtol=1e-12, atol=1e-12)


def test_the_fallback_uses_the_bias_of_the_forward_when_it_changes_before_the_backward():
    """An in-place change of the bias between forward and backward (an optimizer step, say) must not reach
    the backward: the layers apart never read the bias there. Here the forward's windows are all below zero
    (ReLU gives 0 everywhere); with the later bias 10 they would not be."""

    def go(fuse):
        conv = nn.Conv2d(1, 1, 1, dtype=np.float64)
        with numnet.no_grad():
            conv.weight.data[...] = 1.0
            conv.bias.data[...] = 0.0
        model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))
        with nn.layer_fusion(fuse):
            x = numnet.tensor(np.array([[[[-0.25, -0.5], [-1.0, -2.0]]]]), requires_grad=True)
            out = model(x)
            with numnet.no_grad():
                conv.bias.data[...] = 10.0
            with np.errstate(invalid="ignore"):  # inf·0 where ReLU cut: NaN, in both ways of running it
                out.backward(numnet.tensor(np.array([[[[np.inf]]]])))  # non-finite: the fallback runs
        return out.grad_fn.name, x.grad.numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy()

    fused, apart = go(True), go(False)
    assert fused[0] == "ConvReLUMaxPool2d" and apart[0] == "MaxPool2d"
    for ours, theirs in zip(fused[1:], apart[1:], strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_corners_tied_only_by_the_bias_send_the_gradient_to_the_larger_one():
    """The bias is added after the pooling: corners 0.25 and 0.5 both round to 2⁵³ once 2⁵³ is added, so
    the layers apart (and PyTorch) see a tie and take the first corner; the fused node takes the conv
    output's true maximum, 0.5. The output is the same either way."""
    conv = nn.Conv2d(1, 1, 1, dtype=np.float64)
    with numnet.no_grad():
        conv.weight.data[...] = 1.0
        conv.bias.data[...] = 2.0**53
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2))
    x = np.array([[[[0.25, 0.5], [0.0, 0.0]]]])
    grad = np.ones((1, 1, 1, 1))
    fused = run(model, x, grad)
    assert fused[0].grad_fn.name == "ConvReLUMaxPool2d"
    with nn.layer_fusion(False):
        apart = run(model, x, grad)
    assert fused[0].item() == apart[0].item() == 2.0**53
    np.testing.assert_array_equal(fused[1], [[[[0.0, 1.0], [0.0, 0.0]]]])  # the larger corner
    np.testing.assert_array_equal(fused[2], [[[[0.5]]]])  # dW = x at that corner
    np.testing.assert_array_equal(apart[1], [[[[1.0, 0.0], [0.0, 0.0]]]])  # the first of the tied ones
    np.testing.assert_array_equal(torch_run(model, x, grad)[1], apart[1])
    np.testing.assert_array_equal(fused[3], apart[3])  # db = 1 either way


def grad_fns(out):
    names, node = [], out.grad_fn
    while node is not None:
        names.append(node.name)
        inputs = [t for t in node.inputs if isinstance(t, numnet.Tensor) and t.grad_fn is not None]
        node = inputs[0].grad_fn if inputs else None
    return names


def test_sequential_fuses_only_a_plain_2x2_pool_on_an_even_conv_output():
    x6 = numnet.randn(2, 3, 6, 6, requires_grad=True)
    fused = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    assert grad_fns(fused(x6)) == ["Linear", "Reshape", "ConvReLUMaxPool2d"]
    odd = numnet.randn(2, 3, 7, 7)  # a 5×5 conv output
    assert grad_fns(fused(odd))[-2:] == ["ReLUMaxPool2d", "Conv2d"]
    for pool in (
        nn.MaxPool2d(2, stride=1),
        nn.MaxPool2d(3),
        nn.MaxPool2d(2, padding=1),
        nn.MaxPool2d(2, ceil_mode=True),
    ):
        assert grad_fns(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), pool)(x6)) == ["ReLUMaxPool2d", "Conv2d"]
    with use_method("im2col"):  # the textbook layout keeps its own product
        assert grad_fns(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))(x6))[-1] == "Conv2d"
    patched = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    patched[0].forward = lambda x: x[:, :2, :4, :4] * 1  # a forward replaced on the instance is honoured
    assert grad_fns(patched(x6)) == ["ReLUMaxPool2d", "Mul", "GetItem"]
    unbatched = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    np.testing.assert_array_equal(unbatched(x6[0]).numpy(), unbatched(x6[:1]).numpy()[0])


def test_a_conv_and_relu_not_followed_by_the_pool_run_as_written():
    x = numnet.randn(2, 3, 6, 6)
    conv = nn.Conv2d(3, 4, 3)
    alone = nn.Sequential(conv)
    with_relu = nn.Sequential(conv, nn.ReLU())
    then_flatten = nn.Sequential(conv, nn.ReLU(), nn.Flatten())
    two_convs = nn.Sequential(conv, nn.Conv2d(4, 4, 1), nn.ReLU(), nn.MaxPool2d(2))
    y = conv(x).numpy()
    np.testing.assert_array_equal(alone(x).numpy(), y)
    np.testing.assert_array_equal(with_relu(x).numpy(), np.maximum(y, 0))
    np.testing.assert_array_equal(then_flatten(x).numpy(), np.maximum(y, 0).reshape(2, -1))
    assert grad_fns(two_convs(x.requires_grad_()))[:2] == ["ConvReLUMaxPool2d", "Conv2d"]


def test_a_bad_input_gets_the_conv_layers_own_message():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4, kernel_size=\(3, 3\)\) expects inputs of shape"):
        model(numnet.randn(2, 2, 6, 6))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4, kernel_size=\(3, 3\)\).*smaller than the kernel"):
        model(numnet.randn(2, 3, 2, 2))
