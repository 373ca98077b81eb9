"""The layers added for PyTorch code (issue 12) against torch in float64 and numnet.gradcheck: LayerNorm,
GELU, SiLU, ELU, Softplus, Embedding; their reprs and default initialisation; nn.utils; Module.to."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import numnet
from numnet import nn
from numnet.nn import functional as F
from ops._oracle import assert_gradcheck, check

pytestmark = pytest.mark.usefixtures("float64")
FAMILY = "nn-torch"


@pytest.fixture
def rng():
    return np.random.default_rng(12)


def _compare_module(ours: nn.Module, theirs: torch.nn.Module, x: np.ndarray, seed: int = 0) -> None:
    """Same weights (ours copied into theirs) → same output, input gradient and parameter gradients."""
    theirs = theirs.double()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    xo, xt = numnet.Tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-7, atol=1e-12)
    g = np.random.default_rng(seed).standard_normal(yo.shape)
    yo.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-7, atol=1e-12)
    params_t = dict(theirs.named_parameters())
    assert {n for n, _ in ours.named_parameters()} == set(params_t)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, params_t[name].grad.numpy(), rtol=1e-7, atol=1e-12, err_msg=name)


# --- activations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    [
        ("gelu", lambda x: F.gelu(x), lambda x: torch.nn.functional.gelu(x)),
        ("gelu-tanh", lambda x: F.gelu(x, "tanh"), lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
        ("silu", F.silu, torch.nn.functional.silu),
        ("elu", F.elu, torch.nn.functional.elu),
        ("elu(0.5)", lambda x: F.elu(x, 0.5), lambda x: torch.nn.functional.elu(x, 0.5)),
        ("softplus", F.softplus, torch.nn.functional.softplus),
        (
            "softplus(2, 3)",
            lambda x: F.softplus(x, beta=2.0, threshold=3.0),
            lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0),
        ),
    ],
)
def test_smooth_activations_match_torch(rng, name, ours, theirs):
    x = rng.uniform(-4, 4, size=(5, 7))
    x[0, :3] = [-40.0, 40.0, 1.6]  # far tails (and βx past the softplus threshold)
    check(FAMILY, name, ours, theirs, x)


def test_activation_modules_reprs_and_values():
    assert repr(nn.GELU()) == repr(torch.nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU("tanh")) == repr(torch.nn.GELU("tanh"))
    assert repr(nn.SiLU()) == repr(torch.nn.SiLU())
    assert repr(nn.ELU()) == repr(torch.nn.ELU()) and repr(nn.ELU(0.3)) == repr(torch.nn.ELU(0.3))
    assert repr(nn.ELU(inplace=True)) == repr(torch.nn.ELU(inplace=True))
    assert repr(nn.Softplus()) == repr(torch.nn.Softplus())
    assert repr(nn.Softplus(2, 5)) == repr(torch.nn.Softplus(2, 5))
    assert repr(nn.ELU(1)) == repr(torch.nn.ELU(1))
    x = np.linspace(-3, 3, 13)
    for ours, theirs in [
        (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.SiLU(), torch.nn.SiLU()),
        (nn.ELU(0.7), torch.nn.ELU(0.7)),
        (nn.Softplus(0.5, 1.0), torch.nn.Softplus(0.5, 1.0)),
    ]:
        _compare_module(ours, theirs, x)
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")


def test_gelu_keeps_float32():
    x = numnet.Tensor(np.linspace(-2, 2, 5, dtype=np.float32))
    assert (
        F.gelu(x).dtype == np.float32 and F.softplus(x).dtype == np.float32 and F.elu(x).dtype == np.float32
    )


# --- LayerNorm ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "normalized", "options"),
    [
        ((4, 6), 6, {}),
        ((3, 2, 5), (5,), {"eps": 1e-3}),
        ((2, 3, 4), (3, 4), {}),
        ((4, 5), [5], {"bias": False}),
        ((4, 5), 5, {"elementwise_affine": False}),
    ],
)
def test_layer_norm_matches_torch(rng, shape, normalized, options):
    ours, theirs = nn.LayerNorm(normalized, **options), torch.nn.LayerNorm(normalized, **options)
    assert repr(ours) == repr(theirs)
    for p in ours.parameters():  # non-trivial γ, β
        p.data[...] = rng.standard_normal(p.shape)
    _compare_module(ours, theirs, rng.standard_normal(shape) * 3 + 1)


def test_layer_norm_gradcheck_and_defaults(rng):
    layer = nn.LayerNorm((3,))
    assert np.array_equal(layer.weight.data, np.ones(3)) and np.array_equal(layer.bias.data, np.zeros(3))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    assert_gradcheck(lambda x, w, b: F.layer_norm(x, (3,), w, b), rng.standard_normal((4, 3)), w, b)
    assert_gradcheck(lambda x: F.layer_norm(x, 3), rng.standard_normal((2, 2, 3)))
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(4,\)"):
        nn.LayerNorm(4)(numnet.randn(2, 3))
    with pytest.raises(ValueError, match="positive integer"):
        nn.LayerNorm(0)


# --- Embedding ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_matches_torch(rng, padding_idx):
    ours = nn.Embedding(7, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(7, 3, padding_idx=padding_idx).double()
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        assert np.all(ours.weight.data[padding_idx] == 0)
    theirs.load_state_dict({"weight": torch.from_numpy(ours.weight.data.copy())})
    idx = np.array([[0, 2, 6, 2], [6, 6, 1, 0]])
    yo, yt = ours(numnet.tensor(idx)), theirs(torch.from_numpy(idx))
    np.testing.assert_array_equal(yo.data, yt.detach().numpy())
    g = rng.standard_normal(yo.shape)
    yo.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12, atol=0)


def test_embedding_init_from_pretrained_and_errors():
    numnet.manual_seed(3)
    table = nn.Embedding(2000, 10).weight.data
    assert abs(table.mean()) < 0.02 and abs(table.std() - 1) < 0.02  # N(0, 1), as PyTorch
    pretrained = np.arange(6.0).reshape(3, 2)
    frozen = nn.Embedding.from_pretrained(pretrained)
    assert not frozen.weight.requires_grad and np.array_equal(frozen(np.array([2])).data, [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(pretrained, freeze=False).weight.requires_grad
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 2\]"):
        frozen(np.array([3]))
    with pytest.raises(TypeError, match="indices must be integers"):
        frozen(np.array([1.0]))
    assert_gradcheck(lambda w: F.embedding(np.array([1, 1, 0]), w), np.random.default_rng(0).random((3, 2)))


# --- nn.utils ----------------------------------------------------------------------------------------------


def _grad_twins(rng):
    arrays = [rng.standard_normal((3, 4)) * 2, rng.standard_normal(5)]
    ours = [numnet.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    for i, (p, q) in enumerate(zip(ours, theirs, strict=True)):
        g = rng.standard_normal(p.shape)
        p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
        if i == 1:
            p.grad *= 10
            q.grad *= 10
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(rng, norm_type, max_norm):
    ours, theirs = _grad_twins(rng)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, numnet.Tensor)
    assert total.item() == pytest.approx(total_t.item(), rel=1e-12)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_and_value(rng):
    ours, theirs = _grad_twins(rng)
    ours[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([numnet.Tensor([1.0], requires_grad=True)], 1.0).item() == 0.0
    ours, theirs = _grad_twins(rng)
    assert nn.utils.clip_grad_value_(ours, 0.3) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.3)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(p.grad, q.grad.numpy())


def test_parameters_to_vector_and_back(rng):
    net = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (11,) and np.array_equal(vec.data[:6], net[0].weight.data.reshape(-1))
    (vec * vec).sum().backward()
    assert np.allclose(net[0].weight.grad, 2 * net[0].weight.data)
    weight = net[0].weight
    nn.utils.vector_to_parameters(numnet.Tensor(np.arange(11.0)), net.parameters())
    assert net[0].weight is weight and net[1].bias.data[0] == 10.0
    with pytest.raises(ValueError, match="has 3 elements but the parameters have 11"):
        nn.utils.vector_to_parameters(numnet.Tensor(np.zeros(3)), net.parameters())


# --- Module.to ---------------------------------------------------------------------------------------------


def test_module_to_accepts_cpu_and_dtypes():
    net = nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2))
    weight = net[0].weight
    assert net.to("cpu") is net and net.cpu() is net and net.to(device="cpu:0") is net
    assert net.to("cpu", np.float32) is net and weight.dtype == np.float32 and weight is net[0].weight
    net.to(numnet.zeros(1, dtype=np.float64))
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.to(torch.device("cpu")) is net  # any device object whose .type is "cpu"
    with pytest.raises(ValueError, match=r"CPU only.*'cuda'"):
        net.to("cuda")
    with pytest.raises(ValueError, match="CPU only"):
        net.to(torch.device("meta"))
    with pytest.raises(TypeError, match="not a dtype or a device"):
        net.to("banana")


# --- regressions from the differential fuzzer (issue 12) ----------------------------------------------------


@pytest.mark.parametrize(("ours", "theirs"), [(F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)])
def test_softmax_of_0d_and_empty_inputs_as_torch(ours, theirs):
    for shape, dim in [((), 0), ((), -1), ((2, 0), 1), ((0, 3), 0), ((0, 3), -1)]:
        x = numnet.Tensor(np.full(shape, 0.7), requires_grad=True)
        xt = torch.full(shape, 0.7, dtype=torch.float64, requires_grad=True)
        y, yt = ours(x, dim), theirs(xt, dim)
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-15)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), atol=1e-15)


def test_flatten_of_0d_input_as_torch():
    x = numnet.Tensor(np.float64(3.0), requires_grad=True)
    assert F.flatten(x).shape == tuple(torch.flatten(torch.tensor(3.0)).shape) == (1,)
    assert nn.Flatten(0)(x).shape == (1,)
    with pytest.raises(ValueError, match="do not fit"):
        nn.Flatten()(x)  # start_dim=1 is out of range for a 0-d input, in torch too
