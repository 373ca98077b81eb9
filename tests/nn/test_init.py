"""nn.init: PyTorch's formulas (gains, fans, bounds), in place, seeded, in the tensor's dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    ("nonlinearity", "param"),
    [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
        ("conv1d", None),
    ],
)
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15
    )


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (6, 3, 2, 2)])
def test_fans_match_pytorch(shape):
    ours = init.calculate_fan_in_and_fan_out(numnet.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.calculate_fan_in_and_fan_out(numnet.zeros(3))


def test_constant_initialisers_work_in_place():
    p = nn.Parameter(np.empty((2, 3), dtype=np.float32))
    array = p.data
    assert init.zeros_(p) is p and p.data is array and not array.any()
    init.ones_(p)
    assert (array == 1).all()
    init.constant_(p, 0.25)
    assert (array == 0.25).all() and array.dtype == np.float32


def big(dtype=np.float32, shape=(400, 300)):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


def test_normal_and_uniform_statistics():
    w = init.normal_(big(), mean=1.0, std=0.1)
    assert abs(w.data.mean() - 1.0) < 0.002 and abs(w.data.std() - 0.1) < 0.002
    w = init.uniform_(big(), -2.0, 3.0)
    assert w.data.min() >= -2 and w.data.max() < 3 and abs(w.data.mean() - 0.5) < 0.02


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(gain):
    fan_in, fan_out = 300, 400
    w = init.xavier_uniform_(big(), gain=gain)
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert w.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    w = init.xavier_normal_(big(), gain=gain)
    assert w.data.std() == pytest.approx(gain * math.sqrt(2 / (fan_in + fan_out)), rel=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_std_matches_pytorch(mode):
    """Same distribution as PyTorch: compare the sample std of ours and of PyTorch's draw."""
    theirs = torch.empty(400, 300)
    torch.manual_seed(0)
    torch.nn.init.kaiming_normal_(theirs, mode=mode, nonlinearity="relu")
    w = init.kaiming_normal_(big(), mode=mode, nonlinearity="relu")
    fan = 300 if mode == "fan_in" else 400
    assert w.data.std() == pytest.approx(math.sqrt(2 / fan), rel=0.02)
    assert w.data.std() == pytest.approx(float(theirs.std()), rel=0.03)
    u = init.kaiming_uniform_(big(), a=0.1, mode=mode)
    bound = math.sqrt(3) * math.sqrt(2 / (1 + 0.1**2)) / math.sqrt(fan)
    assert np.abs(u.data).max() <= bound and np.abs(u.data).max() > 0.99 * bound
    with pytest.raises(ValueError, match="fan_in' or 'fan_out"):
        init.kaiming_uniform_(big(), mode="fan_avg")


def test_linear_default_init_is_pytorchs_uniform_bound():
    layer = nn.Linear(256, 300)
    bound = 1 / math.sqrt(256)
    for p in (layer.weight, layer.bias):
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    theirs = torch.nn.Linear(256, 300)
    assert float(theirs.weight.detach().abs().max()) <= bound  # the same bound in PyTorch
    assert layer.weight.data.std() == pytest.approx(float(theirs.weight.detach().std()), rel=0.03)


def test_draws_come_from_numnets_seeded_generator_in_the_tensor_dtype():
    numnet.manual_seed(42)
    a = nn.Linear(3, 4)
    numnet.manual_seed(42)
    b = nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, nn.Linear(3, 4).weight.data)
    w64 = init.normal_(nn.Parameter(np.zeros((3, 3))), 0, 1)
    assert w64.dtype == np.float64


def test_initialisers_reject_non_float_tensors():
    with pytest.raises(TypeError, match="floating-point Tensor"):
        init.normal_(numnet.Tensor(np.zeros(3, dtype=np.int64)))
    with pytest.raises(ValueError, match="std must be non-negative"):
        init.normal_(big(), std=-1)
