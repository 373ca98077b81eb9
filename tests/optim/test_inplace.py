"""The performance contract: in-place updates, state allocated once, grads untouched, float32 kept float32."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import optim

from .optim_testutils import CONFIGS, OPTIMIZERS, config_id


def _params(dtype=np.float32):
    rng = np.random.default_rng(0)
    shapes = [(6, 5), (5,), ()]
    return [numnet.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_updates_in_place_and_never_touch_grads(config):
    name, kwargs = config
    params = _params()
    arrays = [p.data for p in params]
    opt = OPTIMIZERS[name][0](params, **kwargs)
    rng = np.random.default_rng(1)
    buffers = None
    for _ in range(5):
        grads = [np.asarray(rng.standard_normal(p.shape), dtype=np.float32) for p in params]
        copies = [g.copy() for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        before = [p.data.copy() for p in params]
        opt.step()
        for p, a, g, c, b in zip(params, arrays, grads, copies, before, strict=True):
            assert p.data is a  # the parameter array keeps its identity
            assert p.data.dtype == np.float32  # no upcast from Python-float hyperparameters
            assert p.grad is g and np.array_equal(g, c)  # the gradient is read, never written
            assert not np.array_equal(p.data, b)  # ... and the parameter did move
        now = {
            (i, k): v
            for i, p in enumerate(params)
            for k, v in opt.state.get(p, {}).items()
            if isinstance(v, np.ndarray)
        }
        assert all(v.dtype == np.float32 for v in now.values())
        if buffers is None:
            buffers = now
        else:  # state buffers are allocated once, then updated in place
            assert now.keys() == buffers.keys() and all(now[k] is buffers[k] for k in now)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_numpy_float64_hyperparameters_do_not_upcast(name):
    params = _params()
    opt = OPTIMIZERS[name][0](params, lr=np.float64(0.01), weight_decay=np.float64(0.1))
    opt.param_groups[0]["lr"] = np.float64(0.02)  # e.g. set by hand from a NumPy schedule
    expected = _params()
    ref = OPTIMIZERS[name][0](expected, lr=0.01, weight_decay=0.1)
    ref.param_groups[0]["lr"] = 0.02
    for p, q in zip(params, expected, strict=True):
        p.grad = np.ones(p.shape, dtype=np.float32)
        q.grad = np.ones(q.shape, dtype=np.float32)
    for _ in range(3):
        opt.step()
        ref.step()
    for p, q in zip(params, expected, strict=True):
        assert p.data.dtype == np.float32
        assert np.array_equal(p.data, q.data)  # computed in float32, exactly as with Python floats


def test_shared_gradient_array_is_not_corrupted():
    """The backward engine may give two leaves the same gradient array (e.g. both inputs of an Add)."""
    for name, (cls, _) in OPTIMIZERS.items():
        a = numnet.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        b = numnet.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        a.grad = b.grad = g = np.full(3, 0.5, dtype=np.float32)
        opt = cls([a, b], lr=0.5, weight_decay=0.1, maximize=True)
        for _ in range(3):
            opt.step()
        assert a.grad is g and b.grad is g and np.array_equal(g, np.full(3, 0.5)), name
        assert np.array_equal(a.data, b.data), name  # both saw the same, unmodified gradient


def test_parameters_without_grad_are_skipped():
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    params[0].grad = np.ones(params[0].shape, dtype=np.float32)
    untouched = [p.data.copy() for p in params[1:]]
    opt.step()
    assert params[0] in opt.state and all(p not in opt.state for p in params[1:])
    assert all(np.array_equal(p.data, u) for p, u in zip(params[1:], untouched, strict=True))


def test_zero_grad():
    params = _params()
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = np.ones(p.shape, dtype=np.float32)
    old = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(old, np.ones(old.shape))  # the old array is not zeroed in place (it may be shared)
    assert all(p.grad is not None and not p.grad.any() and p.grad.dtype == np.float32 for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.zero_grad(set_to_none=False)  # parameters without a gradient stay without one
    assert all(p.grad is None for p in params)


def test_works_with_backward_on_float32_tensors():
    rng = np.random.default_rng(2)
    w = numnet.Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = numnet.Tensor(rng.standard_normal((8, 3)).astype(np.float32))
    opt = optim.AdamW([w], lr=0.05)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((x @ w) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert w.data.dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_default_options_take_the_short_path_with_the_same_numbers(dtype):
    """SGD with momentum 0, no weight decay, not maximize skips the general update: same result as it."""
    from numnet.optim.sgd import SGD

    rng = np.random.default_rng(7)
    shapes = [(6, 5), (5,), ()]
    a = [numnet.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]
    b = [numnet.Tensor(p.data.copy(), requires_grad=True) for p in a]
    short, general = SGD(a, lr=0.1), SGD(b, lr=0.1)
    for _ in range(3):
        for p, q in zip(a, b, strict=True):
            p.grad = rng.standard_normal(p.shape).astype(dtype)
            q.grad = p.grad.copy()
        short.step()
        general._full_step(general.param_groups[0], 0.1)
    for p, q in zip(a, b, strict=True):
        assert p.data.dtype == dtype
        np.testing.assert_array_equal(p.data, q.data)


def test_sgd_short_path_casts_lr_to_each_parameters_own_dtype():
    """One group of mixed dtypes: lr reaches each parameter as a Python float would (cast to its dtype), so a
    float64 parameter is not stepped with float32(0.1), nor a float16 one with float64(0.1)."""
    from numnet.optim.sgd import SGD

    rng = np.random.default_rng(3)
    f16, f32, f64 = np.float16, np.float32, np.float64
    specs = [((6, 5), f32), ((5,), f64), ((), f16), ((4,), f64), ((3,), f32)]
    a = [numnet.Tensor(rng.standard_normal(s).astype(d), requires_grad=True) for s, d in specs]
    b = [numnet.Tensor(p.data.copy(), requires_grad=True) for p in a]
    short, general = SGD(a, lr=0.1), SGD(b, lr=0.1)
    for p, q in zip(a, b, strict=True):
        p.grad = rng.standard_normal(p.shape).astype(p.dtype)
        q.grad = p.grad.copy()
    # a hand-set gradient of another dtype: lr·g is computed in its dtype, so lr is cast to the gradient's
    a[0].grad = a[0].grad.astype(np.float64)
    b[0].grad = b[0].grad.astype(np.float64)
    short.step()
    general._full_step(general.param_groups[0], 0.1)  # multiply(g, 0.1): NumPy's own cast of the float
    for p, q in zip(a, b, strict=True):
        assert p.data.dtype == q.data.dtype
        np.testing.assert_array_equal(p.data, q.data)


def test_sgd_short_path_reports_a_gradient_of_the_wrong_shape():
    p = numnet.Tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"shape \(3,\) has a gradient of shape \(4,\)"):
        opt.step()
    p.grad = np.ones(3, np.float32)
    opt.step()  # the scratch array now exists: the check still runs
    p.grad = np.zeros((3, 1), np.float32)
    with pytest.raises(ValueError, match=r"shape \(3,\) has a gradient of shape \(3, 1\)"):
        opt.step()
