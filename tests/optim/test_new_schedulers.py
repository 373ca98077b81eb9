"""The schedulers added for PyTorch code (issue 12) against torch.optim.lr_scheduler: the same sequence of
rates (and OneCycleLR's momenta / betas) over every step, and a resume through a JSON state_dict."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import numnet
from numnet import optim
from numnet.optim import lr_scheduler as ours_sched

torch_sched = torch.optim.lr_scheduler
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch's deprecation notes on step(epoch)

STEPS = 40


def _halve(epoch):
    return 0.5 if epoch % 3 == 0 else 0.97


# name, builder(module, optimizer) -> scheduler; run on the same optimizer settings in both libraries.
SCHEDULES = [
    ("ConstantLR", lambda m, o: m.ConstantLR(o)),
    ("ConstantLR(0.5, 7)", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=7)),
    ("LinearLR", lambda m, o: m.LinearLR(o)),
    ("LinearLR(1, 0.05, 12)", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=12)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o)),
    ("PolynomialLR(20, 2)", lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, _halve)),
    ("WarmRestarts(5)", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5)),
    (
        "WarmRestarts(3, 2, 0.01)",
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    ),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS)),
    (
        "OneCycleLR(linear, three_phase)",
        lambda m, o: m.OneCycleLR(
            o,
            max_lr=[0.5, 2.0],
            epochs=4,
            steps_per_epoch=10,
            pct_start=0.25,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=10.0,
        ),
    ),
    (
        "OneCycleLR(no momentum)",
        lambda m, o: m.OneCycleLR(o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False),
    ),
    (
        "SequentialLR(warmup, cosine)",
        lambda m, o: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20)],
            milestones=[5],
        ),
    ),
    (
        "SequentialLR(constant, exp, step)",
        lambda m, o: m.SequentialLR(
            o,
            [m.ConstantLR(o, factor=0.2, total_iters=3), m.ExponentialLR(o, gamma=0.9), m.StepLR(o, 4, 0.5)],
            milestones=[6, 20],
        ),
    ),
    (
        "ChainedScheduler",
        lambda m, o: m.ChainedScheduler(
            [m.LinearLR(o, start_factor=0.2, total_iters=6), m.ExponentialLR(o, 0.95)]
        ),
    ),
]


def _optimizers(kind: str):
    arrays = [np.ones((2, 2)), np.ones(3)]
    ours = [numnet.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]  # noqa: E731
    if kind == "sgd":
        return optim.SGD(groups(ours), lr=0.1, momentum=0.9), torch.optim.SGD(
            groups(theirs), lr=0.1, momentum=0.9
        )
    return optim.Adam(groups(ours), lr=0.1), torch.optim.Adam(groups(theirs), lr=0.1)


def _settings(opt):
    return [
        (g["lr"], g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in opt.param_groups
    ]


def _close(ours, theirs):
    """Equal to 1e-12 relative; None (an optimizer without momentum or betas) only matches None."""
    if ours is None or theirs is None:  # pytest.approx(None) is a TypeError in newer pytest
        return ours is None and theirs is None
    return ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize(("name", "build"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch(name, build, kind):
    opt, ref = _optimizers(kind)
    sched, ref_sched = build(ours_sched, opt), build(torch_sched, ref)
    steps = STEPS if "OneCycle" not in name else STEPS - 1  # OneCycleLR raises past its last step
    for step in range(steps + 1):
        ours, theirs = _settings(opt), _settings(ref)
        for (lr, mom, betas), (lr_t, mom_t, betas_t) in zip(ours, theirs, strict=True):
            assert lr == pytest.approx(lr_t, rel=1e-12, abs=1e-15), f"{name} step {step}"
            assert _close(mom, mom_t) and _close(betas, betas_t), f"{name} step {step}"
        assert sched.get_last_lr() == pytest.approx(ref_sched.get_last_lr(), rel=1e-12, abs=1e-15)
        if step < steps:
            opt.step()
            ref.step()
            sched.step()
            ref_sched.step()


def test_one_cycle_past_its_end_raises():
    opt, _ = _optimizers("sgd")
    sched = ours_sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="tried to step 4 times, but total_steps is 3"):
        sched.step()
    with pytest.raises(ValueError, match="needs an optimizer with momentum or betas"):
        ours_sched.OneCycleLR(
            optim.Adagrad([numnet.Tensor([1.0], requires_grad=True)]), max_lr=1.0, total_steps=3
        )


def test_warm_restarts_fractional_epochs_match_torch():
    opt, ref = _optimizers("sgd")
    sched = ours_sched.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    ref_sched = torch_sched.CosineAnnealingWarmRestarts(ref, T_0=4, T_mult=2)
    for epoch in [0.5, 1.25, 3.9, 4.0, 7.5, 12.0, 13.3, 29.0]:
        sched.step(epoch)
        ref_sched.step(epoch)
        assert sched.get_last_lr() == pytest.approx(ref_sched.get_last_lr(), rel=1e-12)


@pytest.mark.parametrize(("name", "build"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_resume_through_json_gives_the_same_rates(name, build):
    opt, _ = _optimizers("sgd")
    sched = build(ours_sched, opt)
    for _ in range(7):
        sched.step()
    saved_sched = json.loads(json.dumps(sched.state_dict()))
    saved_groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    expected = []
    for _ in range(10):
        sched.step()
        expected.append(sched.get_last_lr())

    opt2, _ = _optimizers("sgd")
    sched2 = build(ours_sched, opt2)
    for group, saved in zip(opt2.param_groups, saved_groups, strict=True):
        group.update({k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    sched2.load_state_dict(saved_sched)
    for want in expected:
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(want, rel=1e-13)


def test_argument_errors_name_the_scheduler():
    opt, _ = _optimizers("sgd")
    with pytest.raises(ValueError, match=r"ConstantLR: factor must lie in \(0, 1\]"):
        ours_sched.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="LinearLR: end_factor must lie in"):
        ours_sched.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: T_mult must be a positive integer"):
        ours_sched.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="SequentialLR: expected 1 milestones"):
        ours_sched.SequentialLR(opt, [ours_sched.ConstantLR(opt), ours_sched.ConstantLR(opt)], milestones=[])
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps"):
        ours_sched.OneCycleLR(opt, max_lr=1.0)
    assert math.isfinite(opt.param_groups[0]["lr"])
