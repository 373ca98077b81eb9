"""``nn.Sequential`` runs a ``Linear`` followed by ``ReLU`` or ``Sigmoid`` as one fused op: the same numbers
as the layers one by one (``nn.layer_fusion(False)``) and as PyTorch, and only for the library's own
layers."""

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


@pytest.mark.parametrize("patched", ["Linear", "ReLU", "Module"])
def test_a_method_patched_on_the_class_runs_in_every_layer(monkeypatch, patched):
    # Patching a class method (hooks, profilers, logging) must see every layer's call, as in PyTorch and as
    # before fusion existed: Sequential then calls the layers one by one.
    calls = []
    cls = {"Linear": nn.Linear, "ReLU": nn.ReLU, "Module": nn.Module}[patched]
    name = "__call__" if patched == "Module" else "forward"
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
    }[patched]
    assert calls == expected
    assert out.grad_fn.inputs[0].grad_fn.name == "ReLU"  # unfused
    monkeypatch.undo()
    assert model(x).grad_fn.inputs[0].grad_fn.name == "LinearReLU"  # fused again once the patch is gone


@pytest.mark.parametrize("grad", [True, False], ids=["training", "no_grad"])
def test_fused_linear_relu_gives_pytorchs_bits_signed_zeros_included(grad):
    """relu(x·Wᵀ + b) as max(x·Wᵀ, −b) + b: bit for bit PyTorch's ReLU of the same pre-activation, its
    rectified entries +0 (the unfused (z + b)·0 would give −0), with and without a graph."""
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


@pytest.mark.parametrize(
    "bias",
    [np.array([0.1, -0.1, -0.7], np.float64), np.array([1, -2, 0], np.int64)],
    ids=["float64", "int64"],
)
def test_fused_linear_relu_with_a_bias_of_another_dtype_gives_the_unfused_numbers(bias):
    """max(z, −b) + b is exact only for a bias of the product's own floating dtype; any other bias is added
    first, as the unfused layers do (a float64 −0.1 rounded to float32 would not cancel + 0.1)."""
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
