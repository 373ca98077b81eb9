"""Central-difference gradient checks (float64) of every layer, through its input and its parameters, and of
every loss, through its prediction (and its target, where the target may carry a gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import nn

pytestmark = pytest.mark.usefixtures("float64")


def t64(array, requires_grad=True):
    return numnet.Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def away_from_zero(shape, rng):
    """Values with |x| ≥ 0.1, so that kinks (ReLU, LeakyReLU, Step at 0) are not straddled by ±h."""
    x = rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return t64(x)


def check_module(module, x):
    params = list(module.parameters())
    assert numnet.gradcheck(lambda x, *ps: module(x), [x, *params])


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear(rng, bias, shape):
    layer = nn.Linear(3, 4, bias=bias)
    assert layer.weight.dtype == np.float64
    check_module(layer, t64(rng.standard_normal(shape)))


@pytest.mark.parametrize(
    "module",
    [nn.ReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Step(), nn.Identity()],
    ids=lambda m: type(m).__name__,
)
def test_elementwise_activations(rng, module):
    check_module(module, away_from_zero((4, 5), rng))


@pytest.mark.parametrize("cls", [nn.Softmax, nn.LogSoftmax])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family(rng, cls, dim):
    check_module(cls(dim=dim), t64(rng.standard_normal((4, 5)) * 3))


def test_flatten(rng):
    check_module(nn.Flatten(), t64(rng.standard_normal((2, 3, 4))))
    check_module(nn.Flatten(0, 1), t64(rng.standard_normal((2, 3, 4))))


def test_dropout_with_a_fixed_mask(rng):
    layer = nn.Dropout(0.4)
    x = t64(rng.standard_normal((6, 5)))

    def f(x):
        numnet.manual_seed(7)  # the same mask on every call of the check
        return layer(x)

    assert numnet.gradcheck(f, [x])
    numnet.manual_seed(7)
    out = layer(x).data
    assert (out == 0).any() and (out != 0).any()  # the mask really drops some and keeps some


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_training(rng, shape, affine):
    layer = nn.BatchNorm1d(3, affine=affine)
    if affine:  # non-trivial γ, β so that their gradients and the γ factor in dx are exercised
        layer.weight.data[...] = rng.uniform(0.5, 2.0, 3)
        layer.bias.data[...] = rng.standard_normal(3)
    check_module(layer, t64(rng.standard_normal(shape) * 2 + 1))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm_eval(rng, shape):
    layer = nn.BatchNorm1d(3)
    layer.weight.data[...] = rng.uniform(0.5, 2.0, 3)
    layer.bias.data[...] = rng.standard_normal(3)
    layer.running_mean[...] = rng.standard_normal(3)
    layer.running_var[...] = rng.uniform(0.5, 2.0, 3)
    layer.eval()
    check_module(layer, t64(rng.standard_normal(shape)))


def test_batchnorm_without_running_stats_in_eval_uses_batch_stats(rng):
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    check_module(layer, t64(rng.standard_normal((5, 3))))


def test_a_whole_network(rng):
    net = nn.Sequential(
        nn.Linear(4, 6),
        nn.BatchNorm1d(6),
        nn.Tanh(),
        nn.Linear(6, 5),
        nn.LeakyReLU(0.1),
        nn.Linear(5, 3),
        nn.LogSoftmax(dim=1),
    )
    check_module(net, t64(rng.standard_normal((7, 4))))


# --- losses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse(rng, reduction):
    loss = nn.MSELoss(reduction=reduction)
    y, t = t64(rng.standard_normal((5, 2))), t64(rng.standard_normal((5, 2)))
    assert numnet.gradcheck(loss, [y, t])  # the target requires grad here, so it is checked too


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_with_labels(rng, reduction, label_smoothing):
    loss = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    logits, labels = t64(rng.standard_normal((6, 4)) * 2), rng.integers(0, 4, 6)
    assert numnet.gradcheck(loss, [logits, labels])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_with_probabilities(rng, reduction, label_smoothing):
    loss = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    logits = t64(rng.standard_normal((5, 3)))
    probs = t64(rng.dirichlet(np.ones(3), 5))  # requires grad: dtarget = −(1 − ε)·log p is checked too
    assert numnet.gradcheck(loss, [logits, probs])
    onehot = nn.functional.one_hot(np.array([0, 2, 1, 1, 0]), 3)
    assert numnet.gradcheck(loss, [logits, onehot])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll(rng, reduction):
    loss = nn.NLLLoss(reduction=reduction)
    log_p = t64(rng.standard_normal((6, 4)))
    assert numnet.gradcheck(loss, [log_p, rng.integers(0, 4, 6)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce(rng, reduction):
    loss = nn.BCELoss(reduction=reduction)
    p = t64(rng.uniform(0.05, 0.95, (5, 2)))
    t = t64(rng.uniform(0, 1, (5, 2)))
    assert numnet.gradcheck(loss, [p, t])
    assert numnet.gradcheck(loss, [p, (rng.uniform(size=(5, 2)) > 0.5).astype(np.float64)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(rng, reduction):
    loss = nn.BCEWithLogitsLoss(reduction=reduction)
    x, t = t64(rng.standard_normal((5, 2)) * 3), t64(rng.uniform(0, 1, (5, 2)))
    assert numnet.gradcheck(loss, [x, t])


def test_bce_with_logits_pos_weight(rng):
    loss = nn.BCEWithLogitsLoss(pos_weight=[2.0, 0.5, 1.0])
    assert loss.pos_weight.dtype == np.float64
    x, t = t64(rng.standard_normal((4, 3)) * 3), t64(rng.uniform(0, 1, (4, 3)))
    assert numnet.gradcheck(loss, [x, t])


def test_half_sum_of_squares(rng):
    loss = nn.MSELoss(reduction="sum")
    y, t = t64(rng.standard_normal((4, 1))), rng.standard_normal((4, 1))
    assert numnet.gradcheck(lambda y: loss(y, t) * 0.5, [y])
    y.grad = None
    (loss(y, t) * 0.5).backward()
    np.testing.assert_allclose(y.grad, y.data - t, rtol=1e-12)  # d/dy ½Σ(y − t)² = y − t
