"""Learning-rate schedulers against torch.optim.lr_scheduler: the same lr sequence, epoch by epoch."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import numnet
from numnet import optim
from numnet.optim import lr_scheduler

EPOCHS = 30
LRS = (0.1, 0.03)  # two parameter groups with different rates


def _optimizers():
    a, b = (numnet.Tensor(np.zeros(2), requires_grad=True) for _ in range(2))
    ours = optim.SGD([{"params": [a]}, {"params": [b], "lr": LRS[1]}], lr=LRS[0], momentum=0.9)
    ta, tb = (torch.zeros(2, requires_grad=True) for _ in range(2))
    theirs = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": LRS[1]}], lr=LRS[0], momentum=0.9)
    return ours, theirs


def _decay(epoch):
    return 0.95**epoch


class Warmup:
    """A callable object: its attributes are saved by LambdaLR.state_dict (functions cannot be)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "StepLR-1": lambda m, o: m.StepLR(o, step_size=1, gamma=0.9),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
    "CosineAnnealingLR-7": lambda m, o: m.CosineAnnealingLR(o, T_max=7),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=_decay),
    "LambdaLR-list": lambda m, o: m.LambdaLR(o, lr_lambda=[_decay, Warmup(5)]),
}


def _sequence(scheduler, optimizer, epochs):
    lrs = []
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in optimizer.param_groups]
    return lrs


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_equals_torch(name):
    ours, theirs = _optimizers()
    sched = SCHEDULERS[name](lr_scheduler, ours)
    ref = SCHEDULERS[name](torch.optim.lr_scheduler, theirs)
    assert sched.get_last_lr() == ref.get_last_lr()  # the rate for epoch 0
    assert [g["initial_lr"] for g in ours.param_groups] == list(LRS)
    assert sched.base_lrs == list(LRS)
    got = _sequence(sched, ours, EPOCHS)
    want = _sequence(ref, theirs, EPOCHS)
    assert got == want  # the same floats, not merely close ones
    assert len({tuple(x) for x in got}) > 2  # the schedule does move


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_state_dict_round_trip(name):
    ours, _ = _optimizers()
    straight = _sequence(SCHEDULERS[name](lr_scheduler, ours), ours, EPOCHS)

    first, _ = _optimizers()
    sched = SCHEDULERS[name](lr_scheduler, first)
    head = _sequence(sched, first, 12)
    saved_sched = json.loads(json.dumps(sched.state_dict()))  # plain JSON
    saved_opt = first.state_dict()

    resumed, _ = _optimizers()
    sched2 = SCHEDULERS[name](lr_scheduler, resumed)  # scheduler first, then the optimizer's state
    resumed.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.get_last_lr() == head[-1]
    tail = _sequence(sched2, resumed, EPOCHS - 12)
    assert head + tail == straight


def test_resuming_with_last_epoch_needs_initial_lr():
    ours, _ = _optimizers()
    with pytest.raises(ValueError, match="needs 'initial_lr' in every parameter group, but group 0 has none"):
        lr_scheduler.StepLR(ours, step_size=3, last_epoch=4)


def test_cosine_resumed_with_last_epoch_matches_torch():
    ours, theirs = _optimizers()
    for group in ours.param_groups:
        group["initial_lr"] = group["lr"]
    for group in theirs.param_groups:
        group["initial_lr"] = group["lr"]
    sched = lr_scheduler.CosineAnnealingLR(ours, T_max=10, last_epoch=4)
    ref = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=10, last_epoch=4)
    assert _sequence(sched, ours, 10) == _sequence(ref, theirs, 10)


def test_scheduler_argument_errors():
    ours, _ = _optimizers()
    with pytest.raises(TypeError, match=r"optimizer must be a numnet\.optim\.Optimizer"):
        lr_scheduler.StepLR("sgd", step_size=3)
    with pytest.raises(ValueError, match="step_size must be a positive integer, got 0"):
        lr_scheduler.StepLR(ours, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive integer"):
        lr_scheduler.CosineAnnealingLR(ours, T_max=2.5)
    with pytest.raises(ValueError, match="milestones must be non-negative integers"):
        lr_scheduler.MultiStepLR(ours, milestones=[3, -1])
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(ours, lr_lambda=[_decay])
    with pytest.raises(TypeError, match="lr_lambda must be a function"):
        lr_scheduler.LambdaLR(ours, lr_lambda=0.5)
    with pytest.raises(ValueError, match="factor must be < 1"):
        lr_scheduler.ReduceLROnPlateau(ours, factor=2.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        lr_scheduler.ReduceLROnPlateau(ours, mode="lowest")
    with pytest.raises(ValueError, match="expected 2 min_lr values"):
        lr_scheduler.ReduceLROnPlateau(ours, min_lr=[0.0])
    sched = lr_scheduler.StepLR(ours, step_size=3)
    with pytest.raises(ValueError, match="unexpected entries"):
        sched.load_state_dict({"milestones": {}})
    ours.add_param_group({"params": [numnet.Tensor(np.zeros(1), requires_grad=True)], "lr": 0.5})
    with pytest.raises(ValueError, match="has 3 parameter groups but the scheduler was made for 2"):
        sched.step()


# ---------------------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# ---------------------------------------------------------------------------------------------------------

METRICS = [
    1.0,
    0.9,
    0.95,
    0.91,
    0.9,
    0.8999,
    0.85,
    0.86,
    0.87,
    0.88,
    0.84,
    0.84,
    0.9,
    0.83,
    0.95,
    0.96,
    0.97,
    0.7,
    0.71,
    0.72,
    0.73,
    0.74,
    0.69,
    0.75,
    0.76,
    0.77,
    0.78,
    0.79,
    0.8,
    0.81,
]

PLATEAU = [
    {"patience": 2},
    {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": [0.01, 0.004]},
    {"mode": "max", "patience": 1, "threshold": 0.01, "threshold_mode": "abs"},
    {"mode": "max", "patience": 0, "factor": 0.3, "min_lr": 0.005},
    {"patience": 0, "threshold": 0.05, "threshold_mode": "rel", "eps": 0.02},
]


@pytest.mark.parametrize("kwargs", PLATEAU, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_reduce_on_plateau_equals_torch(kwargs):
    ours, theirs = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(ours, **kwargs)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs)
    got, want = [], []
    for metric in METRICS:
        sched.step(metric)
        got.append(sched.get_last_lr())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.step(metric)
        want.append(ref.get_last_lr())
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            ref.best,
            ref.num_bad_epochs,
            ref.cooldown_counter,
        )
    assert got == want
    assert got[-1] != got[0]  # the script does trigger reductions


def test_reduce_on_plateau_scripted_by_hand():
    ours, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(ours, patience=1, factor=0.5)
    lrs = []
    for metric in [5, 4, 4, 4, 3, 3, 3, 3]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    #  5 best, 4 best, 4 bad(1), 4 bad(2)>1 → halve, 3 best, 3 bad(1), 3 bad(2) → halve, 3 bad(1)
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    assert "initial_lr" not in ours.param_groups[0]  # as in PyTorch, this scheduler does not set it


def test_reduce_on_plateau_accepts_tensor_metric_and_round_trips():
    ours, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(ours, patience=2, cooldown=1)
    for metric in METRICS[:10]:
        sched.step(numnet.tensor(metric))
    saved = json.loads(json.dumps(sched.state_dict()))
    saved_opt = ours.state_dict()
    rest = []
    for metric in METRICS[10:]:
        sched.step(metric)
        rest.append(sched.get_last_lr())

    resumed, _ = _optimizers()
    sched2 = lr_scheduler.ReduceLROnPlateau(resumed)
    resumed.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == [g["lr"] for g in resumed.param_groups]
    again = []
    for metric in METRICS[10:]:
        sched2.step(metric)
        again.append(sched2.get_last_lr())
    assert again == rest
    with pytest.raises(TypeError, match="pass the epoch's validation metric"):
        sched2.step()
    with pytest.raises(TypeError, match="the metric must be a number"):
        sched2.step("low")
