"""Optimizer checkpoints: state_dict layout, exact resumption (also via JSON + npz), validation on load."""

from __future__ import annotations

import json

import numpy as np
import pytest

import numnet
from numnet import optim

from .optim_testutils import CONFIGS, OPTIMIZERS, config_id, load_checkpoint, save_checkpoint

SHAPES = [(3, 4), (4,), (2, 2, 2)]


def _params(seed: int = 0, dtype=np.float64) -> list[numnet.Tensor]:
    rng = np.random.default_rng(seed)
    return [numnet.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def _grads(step: int, params: list[numnet.Tensor]) -> None:
    """Deterministic gradients: step k always gives the same ones (and parameter 2 none at k=6)."""
    rng = np.random.default_rng(100 + step)
    for i, p in enumerate(params):
        g = rng.standard_normal(p.shape).astype(p.data.dtype)
        p.grad = None if (step == 6 and i == 2) else g


def _run(opt: optim.Optimizer, params: list[numnet.Tensor], steps: range) -> None:
    for k in steps:
        _grads(k, params)
        opt.step()


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_resume_from_state_dict_is_bit_exact(config, tmp_path):
    name, kwargs = config
    cls = OPTIMIZERS[name][0]
    groups = lambda ps: [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}]  # noqa: E731

    straight = _params()
    opt = cls(groups(straight), **kwargs)
    _run(opt, straight, range(10))

    first = _params()
    opt1 = cls(groups(first), **kwargs)
    _run(opt1, first, range(5))
    saved = opt1.state_dict()

    # In memory: a fresh optimizer (different lr: the saved options must win) on copies of the parameters.
    resumed = [numnet.Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = cls(groups(resumed), **{**kwargs, "lr": 123.0})
    opt2.load_state_dict(saved)
    _run(opt2, resumed, range(5, 10))
    for p, q in zip(resumed, straight, strict=True):
        assert np.array_equal(p.data, q.data)

    # Through JSON + npz, without pickle.
    save_checkpoint(saved, tmp_path)
    from_disk = [numnet.Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt3 = cls(groups(from_disk), **kwargs)
    opt3.load_state_dict(load_checkpoint(tmp_path))
    _run(opt3, from_disk, range(5, 10))
    for p, q in zip(from_disk, straight, strict=True):
        assert np.array_equal(p.data, q.data)
    assert opt3.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


def test_state_dict_layout_is_pytorch_shaped_and_plain():
    params = _params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1, "amsgrad": True}], lr=0.01)
    _run(opt, params, range(3))
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["param_groups"][0] == {
        "lr": 0.01,
        "betas": [0.9, 0.999],
        "eps": 1e-8,
        "weight_decay": 0,
        "amsgrad": False,
        "maximize": False,
        "params": [0],
    }
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][1]["amsgrad"] is True
    assert set(sd["state"]) == {0, 1, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert set(sd["state"][1]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["state"][0]["step"] == 3 and isinstance(sd["state"][0]["step"], int)
    assert sd["state"][1]["exp_avg"].shape == params[1].shape

    def plain(value):
        if isinstance(value, dict):
            return all(isinstance(k, (int, str)) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, (int, float, str, bool, np.ndarray))

    assert plain(sd)
    json.dumps(sd["param_groups"])  # the structure is JSON as is


def test_state_dict_and_load_copy_arrays():
    params = _params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    _run(opt, params, range(2))
    sd = opt.state_dict()
    saved = sd["state"][0]["momentum_buffer"].copy()
    _run(opt, params, range(2, 4))  # training on does not change the saved dict
    assert np.array_equal(sd["state"][0]["momentum_buffer"], saved)
    opt.load_state_dict(sd)
    assert opt.state[params[0]]["momentum_buffer"] is not sd["state"][0]["momentum_buffer"]
    sd["state"][0]["momentum_buffer"][...] = 99.0  # editing the dict after loading does not reach the state
    assert np.array_equal(opt.state[params[0]]["momentum_buffer"], saved)


def test_load_casts_buffers_to_the_parameter_dtype():
    params64 = _params()
    opt64 = optim.Adam(params64)
    _run(opt64, params64, range(2))
    params32 = _params(dtype=np.float32)
    opt32 = optim.Adam(params32)
    opt32.load_state_dict(opt64.state_dict())
    arrays = [v for st in opt32.state.values() for v in st.values() if isinstance(v, np.ndarray)]
    assert arrays and all(v.dtype == np.float32 for v in arrays)


def test_load_state_dict_restores_tuple_betas_and_initial_lr():
    params = _params()
    opt = optim.Adam(params, betas=(0.8, 0.9))
    optim.lr_scheduler.StepLR(opt, step_size=2)
    sd = json.loads(json.dumps(opt.state_dict()["param_groups"]))
    fresh = optim.Adam(_params())
    fresh.load_state_dict({"state": {}, "param_groups": sd})
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)
    assert fresh.param_groups[0]["initial_lr"] == 1e-3


# ---------------------------------------------------------------------------------------------------------
# Mismatches
# ---------------------------------------------------------------------------------------------------------


def _saved_adam():
    params = _params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.01)
    _run(opt, params, range(2))
    return opt.state_dict()


def test_load_rejects_a_different_number_of_groups():
    opt = optim.Adam(_params(), lr=0.01)
    with pytest.raises(ValueError, match=r"2 parameter group\(s\) but this optimizer has 1"):
        opt.load_state_dict(_saved_adam())


def test_load_rejects_a_different_number_of_parameters():
    params = _params()
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:]}], lr=0.01)
    with pytest.raises(ValueError, match=r"group 0 has 2 parameter\(s\) but this optimizer's group 0 has 1"):
        opt.load_state_dict(_saved_adam())


def test_load_rejects_buffers_of_the_wrong_shape():
    params = _params()
    params[1] = numnet.Tensor(np.zeros(5), requires_grad=True)
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.01)
    with pytest.raises(ValueError, match=r"'exp_avg(_sq)?' of parameter 1 has shape \(4,\) .* shape \(5,\)"):
        opt.load_state_dict(_saved_adam())


def test_load_rejects_state_from_another_optimizer():
    params = _params()
    sgd = optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1, momentum=0.9)
    _run(sgd, params, range(2))
    adam = optim.Adam([{"params": params[:2]}, {"params": params[2:]}])
    with pytest.raises(ValueError, match=r"lacks option\(s\) \['betas', 'eps', 'amsgrad'\]"):
        adam.load_state_dict(sgd.state_dict())
    sd = _saved_adam()
    for group in sd["param_groups"]:
        group["amsgrad"] = True  # options now call for a buffer the saved state lacks
    with pytest.raises(ValueError, match=r"has entries \['exp_avg', 'exp_avg_sq', 'step'\] but Adam"):
        adam.load_state_dict(sd)


def test_load_rejects_malformed_dicts_and_leaves_the_optimizer_untouched():
    params = _params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:]}], lr=0.01)
    _run(opt, params, range(1))
    before = opt.state_dict()
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"param_groups": []})
    bad = _saved_adam()
    bad["state"][7] = bad["state"][0]
    with pytest.raises(ValueError, match="entry for parameter 7"):
        opt.load_state_dict(bad)
    bad = _saved_adam()
    bad["state"][2]["step"] = "three"
    with pytest.raises(ValueError, match="'step' of parameter 2 must be a number"):
        opt.load_state_dict(bad)
    bad = _saved_adam()
    bad["param_groups"][1]["lr"] = -1.0
    with pytest.raises(ValueError, match=r"lr must be >= 0.*group 1"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, entries in before["state"].items():
        for k, v in entries.items():
            assert np.array_equal(after["state"][i][k], v)


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_state_after_a_step_has_exactly_the_keys_init_state_declares(config):
    """step() creates its state through init_state, so load_state_dict checks against the same keys."""
    name, kwargs = config
    params = _params()
    opt = OPTIMIZERS[name][0](params, **kwargs)
    _grads(0, params)
    opt.step()
    group = opt.param_groups[0]
    for p in params:
        declared = opt.init_state(group, p.data, p.grad)
        assert set(opt.state.get(p, {})) == set(declared)
        for key, value in declared.items():
            assert isinstance(value, np.ndarray) == isinstance(opt.state[p][key], np.ndarray), key


def test_an_optimizer_that_lists_its_state_keys_itself_still_loads():
    """The older extension pattern: step() makes the state and _state_keys names it (no init_state)."""

    class Counting(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def _state_keys(self, group):
            return frozenset({"step", "total"})

        def step(self, closure=None):
            for group in self.param_groups:
                for p, g, d, _ in self._updates(group):
                    st = self.state.setdefault(p, {"step": 0, "total": np.zeros_like(d)})
                    st["step"] += 1
                    st["total"] += g
                    d -= group["lr"] * g

    params = _params()
    opt = Counting(params)
    _grads(0, params)
    opt.step()
    saved = opt.state_dict()
    fresh = Counting(_params())
    fresh.load_state_dict(saved)
    state = fresh.state[fresh.param_groups[0]["params"][0]]
    assert state["step"] == 1 and isinstance(state["step"], int)
    np.testing.assert_array_equal(state["total"], saved["state"][0]["total"])
    saved["state"][0]["extra"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"keeps \['step', 'total'\]"):
        Counting(_params()).load_state_dict(saved)
