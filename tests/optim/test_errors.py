"""Construction and step errors name the bad argument and say what to do."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import optim


def _p(shape=(2,)):
    return numnet.Tensor(np.zeros(shape), requires_grad=True)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam(iter(()))


def test_non_tensor_parameter():
    with pytest.raises(TypeError, match="can only optimize Tensors, but parameter 1 of group 0 is a ndarray"):
        optim.Adam([_p(), np.zeros(2)])


def test_tensor_that_does_not_require_grad():
    frozen = numnet.Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"parameter 0 of group 0 \(shape \(3,\)\) does not require grad"):
        optim.SGD([frozen], lr=0.1)


def test_non_leaf_tensor():
    w = _p()
    with pytest.raises(ValueError, match="not a leaf tensor"):
        optim.SGD([w * 2], lr=0.1)


def test_negative_or_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"SGD: lr must be >= 0, got -0.1 \(in parameter group 0\)"):
        optim.SGD([_p()], lr=-0.1)
    with pytest.raises(ValueError, match=r"Adam: lr must be >= 0, got -1 \(in parameter group 1\)"):
        optim.Adam([{"params": [_p()]}, {"params": [_p()], "lr": -1}])
    with pytest.raises(ValueError, match=r"betas\[1\] must be < 1, got 1.0"):
        optim.Adam([_p()], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="betas must be a pair"):
        optim.AdamW([_p()], betas=0.9)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        optim.RMSprop([_p()], eps=-1e-8)
    with pytest.raises(ValueError, match=r"alpha must be <= 1, got 1\.5"):
        optim.RMSprop([_p()], alpha=1.5)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        optim.Adagrad([_p()], weight_decay=-0.1)
    with pytest.raises(ValueError, match="momentum must be >= 0"):
        optim.SGD([_p()], lr=0.1, momentum=-0.9)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0 and dampening = 0"):
        optim.SGD([_p()], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match=r"lr must be a number, got '0\.1'"):
        optim.Adam([_p()], lr="0.1")
    with pytest.raises(TypeError, match="amsgrad must be True or False"):
        optim.Adam([_p()], amsgrad="yes")
    with pytest.raises(ValueError, match="lr must be finite"):
        optim.Adam([_p()], lr=float("nan"))


def test_sgd_needs_lr():
    with pytest.raises(ValueError, match="does not give 'lr', which has no default"):
        optim.SGD([_p()])
    opt = optim.SGD([{"params": [_p()], "lr": 0.5}])  # given per group, it is fine
    assert opt.param_groups[0]["lr"] == 0.5


def test_parameter_in_two_groups_or_twice_in_one():
    w = _p()
    with pytest.raises(ValueError, match="already in parameter group 0; a tensor can belong to only one"):
        optim.SGD([{"params": [w]}, {"params": [_p(), w]}], lr=0.1)
    with pytest.raises(ValueError, match="appears twice in the same group"):
        optim.SGD([w, w], lr=0.1)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="already in parameter group 0"):
        opt.add_param_group({"params": w})


def test_bad_params_containers():
    with pytest.raises(TypeError, match="got a single Tensor; pass a list"):
        optim.SGD(_p(), lr=0.1)
    with pytest.raises(TypeError, match="single dict; pass a list of parameter groups"):
        optim.SGD({"params": [_p()]}, lr=0.1)
    with pytest.raises(TypeError, match="as a set"):
        optim.SGD([{"params": {_p()}}], lr=0.1)
    with pytest.raises(TypeError, match="mixes tensors and parameter-group dicts"):
        optim.SGD([_p(), {"params": [_p()]}], lr=0.1)
    with pytest.raises(ValueError, match="has no 'params' entry"):
        optim.SGD([{"lr": 0.1}], lr=0.1)
    with pytest.raises(TypeError, match="must be an iterable"):
        optim.SGD(3, lr=0.1)


def test_add_param_group_uses_defaults_and_updates_the_new_group():
    a, b = _p(), _p((3,))
    opt = optim.Adam([a], lr=0.1, betas=(0.5, 0.6))
    opt.add_param_group({"params": b, "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["betas"] == (0.5, 0.6)
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    b.grad = np.ones(3)
    opt.step()
    assert np.all(b.data < 0)


def test_gradient_of_the_wrong_shape():
    w = _p((2, 3))
    opt = optim.Adam([w])
    w.grad = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) has a gradient of shape \(3, 2\)"):
        opt.step()


def test_repr_lists_groups():
    opt = optim.SGD([{"params": [_p()]}, {"params": [_p()], "lr": 0.01}], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 1" in text and "lr: 0.01" in text
