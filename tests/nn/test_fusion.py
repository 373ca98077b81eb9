"""``nn.Sequential`` runs a ``Linear`` followed by ``ReLU`` or ``Sigmoid``, and a ``ReLU`` followed by
``MaxPool2d``, as one fused op: the same numbers as the layers one by one (``nn.layer_fusion(False)``) and as
PyTorch, and only for the library's own layers."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

import numnet
from numnet import nn


def mlp(activation: type[nn.Module], dtype) -> nn.Sequential:
    numnet.manual_seed(3)
    layers = [nn.Linear(5, 7, dtype=dtype), activation(), nn.Linear(7, 4, dtype=dtype), activation()]
    return nn.Sequential(*layers, nn.Linear(4, 2, dtype=dtype))


def run(model: nn.Sequential, x: np.ndarray, fused: bool) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    for p in model.parameters():
        p.grad = None
    xt = numnet.tensor(x, requires_grad=True)
    with nn.layer_fusion(fused):
        out = model(xt)
    (out * out).sum().backward()
    return out.data, xt.grad.numpy(), [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("activation", [nn.ReLU, nn.Sigmoid], ids=lambda a: a.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (0, 5)], ids=str)
def test_fused_layers_give_the_unfused_numbers_bit_for_bit(activation, dtype, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    model = mlp(activation, dtype)
    with numnet.no_grad():  # hidden unit 0 of each layer gets z = 0 exactly: the ReLU's kink, mask False
        for layer in (model[0], model[2]):
            layer.weight.data[0] = 0.0
            layer.bias.data[0] = 0.0
    fused, unfused = run(model, x, True), run(model, x, False)
    if activation is nn.ReLU and x.size:  # the kink is really reached, and gives no gradient through unit 0
        assert not fused[2][0][0].any() and not fused[2][1][0]
    np.testing.assert_array_equal(fused[0], unfused[0])
    np.testing.assert_array_equal(fused[1], unfused[1])
    for a, b in zip(fused[2], unfused[2], strict=True):
        np.testing.assert_array_equal(a, b)
    with numnet.no_grad():  # inference: the activation runs in place on the product
        np.testing.assert_array_equal(model(numnet.tensor(x)).data, unfused[0])


@pytest.mark.parametrize("activation", ["ReLU", "Sigmoid"])
def test_fused_layers_match_pytorch(activation):
    x = np.random.default_rng(1).standard_normal((8, 5))
    model = mlp(getattr(nn, activation), np.float64)
    out, dx, grads = run(model, x, True)
    layers = []
    for layer in model:
        if isinstance(layer, nn.Linear):
            t = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            t.weight.data[:] = torch.from_numpy(layer.weight.numpy())
            t.bias.data[:] = torch.from_numpy(layer.bias.numpy())
            layers.append(t)
        else:
            layers.append(getattr(torch.nn, activation)())
    reference = torch.nn.Sequential(*layers)
    xt = torch.tensor(x, requires_grad=True)
    out_t = reference(xt)
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    for ours, theirs in zip(grads, [p.grad.numpy() for p in reference.parameters()], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


def test_only_the_librarys_own_layers_fuse():
    x = numnet.randn(3, 2)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid())
    out = model(x)
    assert out.grad_fn.name == "LinearSigmoid"
    assert out.grad_fn.inputs[0].grad_fn.name == "LinearReLU"
    with nn.layer_fusion(False):
        assert model(x).grad_fn.name == "Sigmoid"
    assert model(x).grad_fn.name == "LinearSigmoid"  # the context restores fusion

    class MyReLU(nn.ReLU):  # a subclass may do anything in forward: it runs as written
        def forward(self, x):
            return super().forward(x) * 2

    custom = nn.Sequential(nn.Linear(2, 3), MyReLU())
    assert custom(x).grad_fn.name == "Mul"
    patched = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    patched[1].forward = lambda x: x  # a forward replaced on the instance is honoured
    assert patched(x).grad_fn.name == "Linear"
    np.testing.assert_array_equal(patched(x).data, patched[0](x).data)


def test_fused_linear_keeps_the_layers_message_for_a_wrong_width():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3\) expects inputs of shape"):
        model(numnet.randn(2, 5))


@pytest.mark.parametrize(
    "patched",
    ["Linear", "ReLU", "Module", "MaxPool2d", "Linear.__call__", "ReLU.__call__", "MaxPool2d.__call__"],
)
def test_a_method_patched_on_the_class_runs_in_every_layer(monkeypatch, patched):
    # Patching a class method (hooks, profilers, logging) must see every layer's call, as in PyTorch and as
    # before fusion existed: Sequential then calls the layers one by one.
    calls = []
    layer, _, method = patched.partition(".")
    cls = {"Linear": nn.Linear, "ReLU": nn.ReLU, "Module": nn.Module, "MaxPool2d": nn.MaxPool2d}[layer]
    name = method or ("__call__" if patched == "Module" else "forward")
    original = getattr(cls, name)

    def spy(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = numnet.randn(2, 4)
    out = model(x)
    expected = {
        "Linear": ["Linear", "Linear"],
        "ReLU": ["ReLU"],
        "Module": ["Sequential", "Linear", "ReLU", "Linear"],
        "MaxPool2d": [],
        "Linear.__call__": ["Linear", "Linear"],
        "ReLU.__call__": ["ReLU"],
        "MaxPool2d.__call__": [],
    }[patched]
    assert calls == expected
    assert out.grad_fn.inputs[0].grad_fn.name == "ReLU"  # unfused
    monkeypatch.undo()
    assert model(x).grad_fn.inputs[0].grad_fn.name == "LinearReLU"  # fused again once the patch is gone


@pytest.mark.parametrize("grad", [True, False], ids=["training", "no_grad"])
def test_fused_linear_relu_gives_pytorchs_bits_signed_zeros_included(grad):
    """relu(x·Wᵀ + b), rectified in place on the product: bit for bit PyTorch's ReLU of the same
    pre-activation, its rectified entries +0 (an (z + b)·[z + b > 0] would give −0), with and without a
    graph."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 9)).astype(np.float32)
    numnet.manual_seed(0)
    layer = nn.Sequential(nn.Linear(9, 33), nn.ReLU())
    with contextlib.nullcontext() if grad else numnet.no_grad():
        out = layer(numnet.tensor(x)).numpy()
    assert (out == 0).mean() > 0.2  # enough rectified entries to see their sign
    z = x @ layer[0].weight.numpy().T + layer[0].bias.numpy()  # the same rounded pre-activation
    expected = torch.relu(torch.from_numpy(z)).numpy()
    np.testing.assert_array_equal(out.view(np.uint32), expected.view(np.uint32))
    assert not np.signbit(out).any()


def test_fused_linear_relu_gives_the_unfused_bits_on_signed_zeros():
    """−0 inputs and a −0 bias, zero and negative pre-activations: the fused layer returns the bits of
    Linear then ReLU and PyTorch's, whatever signed zero the GEMM gives (an (z + b)·[z + b > 0] would turn
    the negatives into −0)."""
    from numnet import ops

    rows = np.array([[0.0, -0.0], [-0.0, -0.0], [1.0, -1.0]], np.float32)
    w = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -2.0], [-3.0, -1.0]], np.float32)
    b = np.full(4, -0.0, np.float32)
    x = np.tile(rows, (50, 1))  # 600 outputs: past zeros_like_cached's 512, so its zeros array
    for grad in (False, True):
        xt, wt, bt = (numnet.tensor(a, requires_grad=grad) for a in (x, w, b))
        fused = ops.LinearReLU.apply(xt, wt, bt).numpy()
        unfused = ops.ReLU.apply(ops.Linear.apply(xt, wt, bt)).numpy()
        np.testing.assert_array_equal(fused.view(np.uint32), unfused.view(np.uint32))
        expected = torch.relu(torch.from_numpy(x @ w.T + b)).numpy()
        np.testing.assert_array_equal(fused.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize(
    "bias",
    [np.array([0.1, -0.1, -0.7], np.float64), np.array([1, -2, 0], np.int64)],
    ids=["float64", "int64"],
)
def test_fused_linear_relu_with_a_bias_of_another_dtype_gives_the_unfused_numbers(bias):
    """A bias of another dtype is added into the product as the unfused Linear adds it (cast to the
    product's dtype), then rectified: the unfused numbers, forward and backward."""
    from numnet import ops

    x = np.array([[-0.1, 0.2, 0.7], [2.0, 0.1, -0.1], [5.0, -3.0, 0.0]], np.float32)
    w = np.eye(3, dtype=np.float32)
    xt, wt = numnet.tensor(x, requires_grad=True), numnet.tensor(w)
    fused = ops.LinearReLU.apply(xt, wt, numnet.tensor(bias))
    unfused = ops.ReLU.apply(ops.Linear.apply(xt, wt, numnet.tensor(bias)))
    assert fused.dtype == unfused.dtype
    np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
    assert (fused.numpy() >= 0).all()
    fused.sum().backward()
    grad_fused = xt.grad.numpy().copy()
    xt.grad = None
    unfused.sum().backward()
    np.testing.assert_array_equal(grad_fused, xt.grad.numpy())


def pooling_input(rng: np.random.Generator, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Values on a coarse grid, so that windows hold ties (among positives, and all-zero windows after the
    ReLU), with a few exact zeros and negatives."""
    return (rng.integers(-4, 5, size=shape) / 2).astype(dtype)


POOLINGS = {
    "2x2": dict(kernel_size=2),
    "3x3 stride 1 pad 1": dict(kernel_size=3, stride=1, padding=1),
    "3x2 stride 2 ceil": dict(kernel_size=(3, 2), stride=2, ceil_mode=True),
    "2x2 dilation 2": dict(kernel_size=2, stride=1, dilation=2),
}


@pytest.mark.parametrize("pooling", POOLINGS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(3, 2, 7, 6), (2, 5, 5), (0, 2, 4, 4)], ids=str)
def test_relu_then_max_pool_gives_the_unfused_numbers_bit_for_bit(pooling, dtype, shape):
    rng = np.random.default_rng(7)
    x = pooling_input(rng, shape, dtype)
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(**POOLINGS[pooling]))
    results = []
    for fused in (True, False):
        xt = numnet.tensor(x, requires_grad=True)
        with nn.layer_fusion(fused):
            out = model(xt)
        node = out.grad_fn if len(shape) == 4 else out.grad_fn.inputs[0].grad_fn  # (C, H, W): a Reshape last
        assert node.name == ("ReLUMaxPool2d" if fused else "MaxPool2d")
        g = np.random.default_rng(8).standard_normal(out.shape).astype(dtype)
        out.backward(numnet.tensor(g))
        results.append((out.numpy(), xt.grad.numpy()))
    (out_f, dx_f), (out_u, dx_u) = results
    np.testing.assert_array_equal(out_f, out_u)
    np.testing.assert_array_equal(dx_f, dx_u)
    if x.size and pooling == "2x2" and len(shape) == 4:  # ties are there: all-zero windows, tied positives
        windows = np.maximum(x, 0)[..., :6, :6].reshape(*x.shape[:-2], 3, 2, 3, 2)
        assert (windows.max(axis=(-3, -1)) == 0).any()
        assert ((windows == windows.max(axis=(-3, -1), keepdims=True)).sum(axis=(-3, -1)) > 1).any()
    with numnet.no_grad():
        np.testing.assert_array_equal(model(numnet.tensor(x)).numpy(), out_u)


@pytest.mark.parametrize("case", ["NaN input", "infinite gradient"])
def test_relu_then_max_pool_agrees_with_the_unfused_layers_on_non_finite_numbers(case):
    x = pooling_input(np.random.default_rng(9), (2, 3, 6, 6), np.float32)
    g = np.ones((2, 3, 3, 3), np.float32)
    if case == "NaN input":
        x[0, 0, 0, 1] = x[1, 2, 4, 4] = np.nan
    else:
        # a window rectified to zeros whose raw maximum is not its first position: the unfused layers send
        # its infinite gradient to the first (rectified) zero, where it meets a zero mask and gives NaN
        x[0, 0, :2, :2] = [[-2.0, -1.0], [-3.0, -4.0]]
        g[0, 0] = np.inf
        g[1, 1, 1, 1] = -np.inf
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    results = []
    for fused in (True, False):
        xt = numnet.tensor(x, requires_grad=True)
        with nn.layer_fusion(fused):
            out = model(xt)
        with np.errstate(invalid="ignore"):  # ∞·0 in the ReLU's backward, fused or not
            out.backward(numnet.tensor(g))
        results.append((out.numpy(), xt.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])  # NaN == NaN here
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.isnan(results[0][0 if case == "NaN input" else 1]).any()
    if case == "infinite gradient":
        assert np.isnan(results[0][1][0, 0, 0, 0]) and results[0][1][0, 0, 0, 1] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.int64], ids=lambda d: np.dtype(d).name)
def test_relu_then_max_pool_of_infinities_and_padding_only_windows_is_the_unfused_result(dtype, monkeypatch):
    """relu(−inf) = 0 before the pooling, so −inf never wins a window; a window that sees only padding
    (dilation 2 skips over a one-row input) is the padding's own −inf (int: the dtype's minimum), not 0."""
    from numnet import ops

    fused_calls = []
    original = ops.ReLUMaxPool2d.forward
    monkeypatch.setattr(
        ops.ReLUMaxPool2d, "forward", lambda self, *a, **k: fused_calls.append(1) or original(self, *a, **k)
    )
    neg = -np.inf if dtype is np.float32 else np.iinfo(dtype).min
    x = np.array([[[[neg, 1, neg, neg], [2, 0, neg, neg]]]], dtype)
    padded = dict(kernel_size=2, stride=1, padding=1, dilation=2)
    cases = [(x, dict(kernel_size=2), [[2, 0]]), (x[:, :, :1, :2], padded, [[neg, neg]])]
    for x_case, pooling, values in cases:
        model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(**pooling))
        with nn.layer_fusion(False):
            expected = model(numnet.tensor(x_case)).numpy()
        calls = len(fused_calls)
        out = model(numnet.tensor(x_case))
        assert len(fused_calls) == calls + 1  # this call ran the fused op
        np.testing.assert_array_equal(out.numpy(), expected)
        np.testing.assert_array_equal(out.numpy()[0, 0], np.array(values, dtype))
        if dtype is np.float32:
            reference = torch.nn.functional.max_pool2d(torch.relu(torch.from_numpy(x_case)), **pooling)
            np.testing.assert_array_equal(out.numpy(), reference.numpy())


@pytest.mark.parametrize("pooling", POOLINGS, ids=str)
def test_relu_then_max_pool_matches_pytorch(pooling):
    x = pooling_input(np.random.default_rng(10), (2, 3, 7, 6), np.float64)
    g = np.random.default_rng(11).standard_normal
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(**POOLINGS[pooling]))
    xt = numnet.tensor(x, requires_grad=True)
    out = model(xt)
    assert out.grad_fn.name == "ReLUMaxPool2d"
    grad = g(out.shape)
    out.backward(numnet.tensor(grad))
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = torch.nn.functional.max_pool2d(torch.relu(x_torch), **POOLINGS[pooling])
    out_torch.backward(torch.from_numpy(grad))
    np.testing.assert_array_equal(out.numpy(), out_torch.detach().numpy())
    if pooling in ("2x2", "3x2 stride 2 ceil"):  # disjoint windows: the same first maxima, bit for bit
        np.testing.assert_array_equal(xt.grad.numpy(), x_torch.grad.numpy())
    else:  # overlapping windows add their shares in another order than PyTorch's
        np.testing.assert_allclose(xt.grad.numpy(), x_torch.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_relu_then_max_pool_fuses_only_the_librarys_own_layers():
    x = numnet.randn(2, 3, 6, 6, requires_grad=True)
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    odd = numnet.randn(2, 3, 7, 7)  # a 5×5 conv output: 2×2 windows do not tile it, so the conv stays apart
    node = cnn(odd).grad_fn
    while node.name != "ReLUMaxPool2d":
        node = node.inputs[0].grad_fn
    assert node.inputs[0].grad_fn.name == "Conv2d"
    patched = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    patched[1].forward = lambda x: x * 1  # a forward replaced on the instance is honoured
    assert patched(x).grad_fn.name == "Mul"
    assert patched(x).grad_fn.inputs[0].grad_fn.name == "ReLU"
    trailing = nn.Sequential(nn.MaxPool2d(2), nn.ReLU())  # a ReLU with nothing after it still runs
    np.testing.assert_array_equal(trailing(x).numpy(), np.maximum(trailing[0](x).numpy(), 0))
    before_linear = nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(108, 2))  # ReLU then another layer
    assert before_linear(x).grad_fn.inputs[0].grad_fn.name == "Reshape"
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2.*expects inputs of shape"):
        nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))(numnet.randn(6, 6))  # the layer's own message


@pytest.mark.parametrize("patched", ["ReLU.__call__", "MaxPool2d.__call__", "F.max_pool2d"])
def test_a_patched_call_sees_every_relu_and_max_pool_of_a_cnn(monkeypatch, patched):
    from numnet.nn import functional as F

    calls = []
    owner, _, name = patched.partition(".")
    target = {"ReLU": nn.ReLU, "MaxPool2d": nn.MaxPool2d, "F": F}[owner]
    original = getattr(target, name)

    def spy(*args, **kwargs):
        calls.append(patched)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, spy)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.ReLU())
    out = cnn(numnet.randn(2, 1, 6, 6, requires_grad=True))
    expected = {"ReLU.__call__": 2, "MaxPool2d.__call__": 1, "F.max_pool2d": 1}[patched]
    assert len(calls) == expected  # nothing fused away: the layers run one by one
    assert out.grad_fn.name == "ReLU"
