"""NAdam, RAdam, Adamax and Adadelta against torch.optim (30 steps, several option sets, float64), and
their state_dict round trip through JSON + npz (no pickle), bit-exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import optim

from .optim_testutils import (
    config_id,
    load_checkpoint,
    max_rel_err,
    run_quadratic,
    run_random_gradients,
    save_checkpoint,
    start_arrays,
)

STEPS = 30
TOL = 1e-7

NEW = {
    "NAdam": (optim.NAdam, torch.optim.NAdam),
    "RAdam": (optim.RAdam, torch.optim.RAdam),
    "Adamax": (optim.Adamax, torch.optim.Adamax),
    "Adadelta": (optim.Adadelta, torch.optim.Adadelta),
}

CONFIGS = [
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.02, "betas": (0.8, 0.99), "momentum_decay": 0.01, "eps": 1e-6, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6, "maximize": True}),  # ρₜ > 5 from step 2 on
    ("RAdam", {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-4, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 2.0, "eps": 1e-4, "maximize": True}),
]


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_random_gradients_match_torch(config):
    name, kwargs = config
    ours, theirs = run_random_gradients(*NEW[name], kwargs, STEPS)
    assert max_rel_err(ours, theirs) <= TOL


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_quadratic_matches_torch(config):
    """Gradients at the current parameters of ½pᵀAp − bᵀp: differences would compound over the 30 steps."""
    name, kwargs = config
    ours, theirs, start = run_quadratic(*NEW[name], kwargs, STEPS)
    assert max_rel_err(ours, theirs) <= TOL
    assert any(not np.array_equal(p.data, s) for p, s in zip(ours, start, strict=True))  # it moved


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_state_dict_round_trip_through_json_is_bit_exact(config, tmp_path):
    name, kwargs = config
    cls = NEW[name][0]

    def run(opt, params, steps):
        for k in steps:
            rng = np.random.default_rng(100 + k)
            for p in params:
                p.grad = rng.standard_normal(p.shape)
            opt.step()

    straight = [numnet.Tensor(a, requires_grad=True) for a in start_arrays(5)]
    run(cls(straight, **kwargs), straight, range(10))
    first = [numnet.Tensor(a, requires_grad=True) for a in start_arrays(5)]
    opt1 = cls(first, **kwargs)
    run(opt1, first, range(5))
    save_checkpoint(opt1.state_dict(), tmp_path)
    resumed = [numnet.Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = cls(resumed, **{**kwargs, "lr": 123.0})  # the saved lr must win
    opt2.load_state_dict(load_checkpoint(tmp_path))
    run(opt2, resumed, range(5, 10))
    for p, q in zip(resumed, straight, strict=True):
        assert np.array_equal(p.data, q.data)


def test_float32_parameters_stay_float32():
    for cls, _ in NEW.values():
        p = numnet.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        opt = cls([p], weight_decay=0.1)
        p.grad = np.full(3, 0.5, dtype=np.float32)
        opt.step()
        opt.step()
        assert p.dtype == np.float32 and all(
            v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray)
        )


def test_bad_options_are_named():
    p = [numnet.Tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(ValueError, match=r"NAdam: betas\[0\] must be < 1"):
        optim.NAdam(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Adadelta: rho must be <= 1"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(TypeError, match="RAdam: decoupled_weight_decay must be True or False"):
        optim.RAdam(p, decoupled_weight_decay="yes")
    with pytest.raises(ValueError, match="Adamax: lr must be >= 0"):
        optim.Adamax(p, lr=-1.0)
    opt = optim.NAdam(p)
    with pytest.raises(ValueError, match="keeps"):
        opt.load_state_dict(
            {
                "state": {0: {"step": 1, "exp_avg": np.zeros(2)}},
                "param_groups": opt.state_dict()["param_groups"],
            }
        )
