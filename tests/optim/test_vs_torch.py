"""Each optimizer vs torch.optim (the oracle): same start and gradients, same parameters after 20 steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import optim

from .optim_testutils import (
    CONFIGS,
    OPTIMIZERS,
    config_id,
    max_rel_err,
    run_quadratic,
    run_random_gradients,
    start_arrays,
    torch_optimizer,
    twins,
)

STEPS = 20
TOL = 1e-7


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_random_gradients_match_torch(config):
    """Gradients drawn at random and set directly as .grad (some steps leave a parameter without one)."""
    name, kwargs = config
    ours, theirs = run_random_gradients(*OPTIMIZERS[name], kwargs, STEPS)
    assert max_rel_err(ours, theirs) <= TOL


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_quadratic_matches_torch(config):
    """Gradients of f(p) = ½ pᵀAp − bᵀp evaluated at the current parameters, so differences would compound."""
    name, kwargs = config
    ours, theirs, start = run_quadratic(*OPTIMIZERS[name], kwargs, STEPS)
    assert max_rel_err(ours, theirs) <= TOL
    assert any(not np.array_equal(p.data, s) for p, s in zip(ours, start, strict=True))  # it moved


@pytest.mark.parametrize(
    "name,defaults,override",
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "nesterov": True}),
        ("Adagrad", {"lr": 0.1}, {"lr": 0.5, "lr_decay": 0.1}),
        ("RMSprop", {"lr": 0.01}, {"lr": 0.001, "centered": True, "momentum": 0.3}),
        ("Adam", {"lr": 0.01}, {"lr": 0.1, "amsgrad": True, "betas": (0.5, 0.9)}),
        ("AdamW", {"lr": 0.01}, {"lr": 0.05, "weight_decay": 0.5}),
    ],
)
def test_param_groups_with_their_own_options_match_torch(name, defaults, override):
    ours_cls, torch_cls = OPTIMIZERS[name]
    ours, theirs = twins(start_arrays(4))
    opt = ours_cls([{"params": ours[:2]}, {"params": ours[2:], **override}], **defaults)
    ref = torch_optimizer(torch_cls, [{"params": theirs[:2]}, {"params": theirs[2:], **override}], defaults)
    assert opt.param_groups[1]["lr"] == override["lr"]
    assert opt.param_groups[0]["lr"] == defaults["lr"]
    rng = np.random.default_rng(5)
    for _ in range(STEPS):
        for p, q in zip(ours, theirs, strict=True):
            g = np.asarray(rng.standard_normal(p.shape))
            p.grad, q.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        ref.step()
    assert max_rel_err(ours, theirs) <= TOL


# ---------------------------------------------------------------------------------------------------------
# A small MLP built from Tensor ops, trained with each optimizer in numnet and in torch
# ---------------------------------------------------------------------------------------------------------

MLP_CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("Adagrad", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 1e-3}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.05}),
]


def _mlp_data():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((32, 5))
    y = np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2], np.abs(x[:, 3]) - x[:, 4]], axis=1)
    weights = [
        rng.standard_normal((8, 5)) / np.sqrt(5),
        rng.standard_normal(8) * 0.1,
        rng.standard_normal((2, 8)) / np.sqrt(8),
        rng.standard_normal(2) * 0.1,
    ]
    return x, y, weights


@pytest.mark.parametrize("config", MLP_CONFIGS, ids=config_id)
def test_mlp_training_matches_torch(config):
    name, kwargs = config
    ours_cls, torch_cls = OPTIMIZERS[name]
    x, y, weights = _mlp_data()
    ours, theirs = twins(weights)
    opt = ours_cls(ours, **kwargs)
    ref = torch_optimizer(torch_cls, theirs, kwargs)
    xn, yn = numnet.Tensor(x), numnet.Tensor(y)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses, ref_losses = [], []
    for _ in range(STEPS):
        w1, b1, w2, b2 = ours
        out = (xn @ w1.T + b1).relu() @ w2.T + b2
        loss = ((out - yn) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())

        v1, c1, v2, c2 = theirs
        ref_loss = (((xt @ v1.T + c1).relu() @ v2.T + c2 - yt) ** 2).mean()
        ref.zero_grad()
        ref_loss.backward()
        ref.step()
        ref_losses.append(ref_loss.item())
    assert max_rel_err(ours, theirs) <= TOL
    np.testing.assert_allclose(losses, ref_losses, rtol=TOL)
    assert losses[-1] < losses[0]  # it trains
    assert all(p.data.dtype == np.float64 for p in ours)


def test_closure_is_called_and_its_loss_returned():
    ours, _ = twins(start_arrays(7))
    opt = optim.SGD(ours, lr=0.1)
    calls = []

    def closure():
        calls.append(numnet.is_grad_enabled())
        for p in ours:
            p.grad = np.ones_like(p.data)
        return 3.5

    with numnet.no_grad():
        assert opt.step(closure) == 3.5
    assert calls == [True]  # the closure runs with the graph recorded, even inside no_grad
