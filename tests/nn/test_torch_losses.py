"""The losses and loss options added for PyTorch code (issue 12), against torch in float64 (values and
gradients) and numnet.gradcheck: cross_entropy / nll_loss with weight, ignore_index, label smoothing and
(N, C, d1, …) inputs; weight for the BCE losses; L1, SmoothL1, Huber and KL divergence; empty batches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import numnet
from numnet import nn
from numnet.nn import functional as F
from numnet.ops import loss as loss_ops
from ops._oracle import assert_matches_torch, check

pytestmark = [
    pytest.mark.usefixtures("float64"),
    pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning"),  # torch's
]
FAMILY = "nn-losses"
REDUCTIONS = ["mean", "sum", "none"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def _probabilities(rng, shape, axis):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=axis, keepdims=True)


# --- cross-entropy -----------------------------------------------------------------------------------------

CE_OPTIONS = [
    {},
    {"weight": [0.2, 1.0, 3.0, 0.5]},
    {"ignore_index": 1},
    {"weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 2},
    {"label_smoothing": 0.1, "ignore_index": 0},
    {"label_smoothing": 0.2, "weight": [0.2, 1.0, 3.0, 0.5], "ignore_index": 3},
    {"label_smoothing": 0.3, "weight": [1.0, 2.0, 0.5, 0.5]},
]


def _torch_options(options):
    out = dict(options)
    if "weight" in out:
        out["weight"] = torch.tensor(out["weight"], dtype=torch.float64)
    return out


@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2), (4,)], ids=str)
def test_cross_entropy_labels_with_options(rng, shape, reduction, options):
    label_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    labels = rng.integers(0, 4, label_shape)
    if "ignore_index" in options:
        if labels.ndim:
            labels.reshape(-1)[:2] = options["ignore_index"]  # make sure some are ignored
        else:  # one sample: ignoring it would leave 0/0 (NaN, as torch: see the test below)
            labels = np.array((options["ignore_index"] + 1) % 4)
    check(
        FAMILY,
        f"cross_entropy{shape}",
        lambda x: F.cross_entropy(x, labels, reduction=reduction, **options),
        lambda x: TF.cross_entropy(
            x, torch.from_numpy(labels), reduction=reduction, **_torch_options(options)
        ),
        rng.standard_normal(shape) * 2,
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"weight": [0.2, 1.0, 3.0]},
        {"label_smoothing": 0.2},
        {"weight": [0.5, 2.0, 1.0], "label_smoothing": 0.1},
    ],
    ids=str,
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (3,)], ids=str)
def test_cross_entropy_probabilities_with_options(rng, shape, reduction, options):
    check(
        FAMILY,
        f"cross_entropy(probs){shape}",
        lambda x, t: F.cross_entropy(x, t, reduction=reduction, **options),
        lambda x, t: TF.cross_entropy(x, t, reduction=reduction, **_torch_options(options)),
        rng.standard_normal(shape),
        _probabilities(rng, shape, axis=1 if len(shape) > 1 else 0),
    )


def test_cross_entropy_loss_module_options(rng):
    weight = [1.0, 0.5, 2.0]
    ours = nn.CrossEntropyLoss(weight=weight, ignore_index=0, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(weight, dtype=torch.float64), ignore_index=0, label_smoothing=0.1
    )
    labels = np.array([0, 1, 2, 2, 1])
    assert_matches_torch(
        FAMILY,
        "CrossEntropyLoss(options)",
        lambda x: ours(x, labels),
        lambda x: theirs(x, torch.from_numpy(labels)),
        rng.standard_normal((5, 3)),
    )
    assert "weight" in ours.state_dict()  # a buffer, as in PyTorch
    assert repr(ours) == "CrossEntropyLoss(ignore_index=0, label_smoothing=0.1)"
    with pytest.raises(TypeError, match=r"first argument is weight.*reduction='sum'"):
        nn.CrossEntropyLoss("sum")


def test_cross_entropy_keeps_the_fast_label_path(rng):
    """Integer labels without weight, ignored labels or smoothing build no target matrix."""
    x = numnet.Tensor(rng.standard_normal((8, 5)), requires_grad=True)
    out = F.cross_entropy(x, rng.integers(0, 5, 8))
    assert out.grad_fn.labels is not None and not hasattr(out.grad_fn, "target")
    # a label equal to ignore_index leaves it for the general path, with the same numbers elsewhere
    labels = np.array([1, -100, 3])
    logits = rng.standard_normal((3, 5))
    ours = F.cross_entropy(numnet.Tensor(logits), labels).item()
    assert ours == pytest.approx(
        TF.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item(), rel=1e-14
    )


def test_cross_entropy_label_errors():
    logits = numnet.Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 3\], got \[0, 7\].*ignore_index=-1"):
        F.cross_entropy(logits, np.array([0, 7, -1]), ignore_index=-1)
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(4,\), got \(3,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]), weight=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"integer targets must have shape \(3, 5\)"):
        F.cross_entropy(numnet.Tensor(np.zeros((3, 4, 5))), np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="ignore_index applies to class-label targets only"):
        F.cross_entropy(logits, np.full((3, 4), 0.25), ignore_index=1)


# Regression (fuzzer): cross-entropy of an empty batch or along a zero-length class axis raised.
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "target"),
    [
        ((0, 3), np.zeros(0, dtype=np.int64)),
        ((2, 0), np.full(2, -100)),
        ((2, 0), np.zeros((2, 0))),
        ((0, 3, 2), np.zeros((0, 2), dtype=np.int64)),
    ],
    ids=["empty batch", "no classes, ignored labels", "no classes, probabilities", "empty (N, C, d)"],
)
def test_cross_entropy_of_empty_inputs_behaves_as_torch(shape, target, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = numnet.Tensor(np.zeros(shape), requires_grad=True)
        xt = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
        out = F.cross_entropy(x, target, reduction=reduction)
        out_t = TF.cross_entropy(xt, torch.from_numpy(target), reduction=reduction)
        np.testing.assert_array_equal(out.data, out_t.detach().numpy())  # NaN for "mean", as torch
        out.backward(np.ones(out.shape))
        out_t.backward(torch.ones(out_t.shape, dtype=torch.float64))
        assert x.grad.shape == shape
        np.testing.assert_array_equal(np.nan_to_num(x.grad), np.nan_to_num(xt.grad.numpy()))


def test_all_labels_ignored_gives_nan_mean_as_torch(rng):
    logits = rng.standard_normal((3, 2))
    ours = F.cross_entropy(numnet.Tensor(logits), np.full(3, 5), ignore_index=5).item()
    theirs = TF.cross_entropy(torch.tensor(logits), torch.full((3,), 5), ignore_index=5).item()
    assert np.isnan(ours) and np.isnan(theirs)


# --- NLL and BCE weights -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"weight": [0.3, 2.0, 1.0]}, {"ignore_index": 2}, {"weight": [0.3, 2.0, 1.0], "ignore_index": 0}],
    ids=str,
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4), (3,)], ids=str)
def test_nll_loss_with_options(rng, shape, reduction, options):
    labels = rng.integers(0, 3, (shape[0], *shape[2:]) if len(shape) > 1 else ())
    if labels.ndim == 0 and labels == options.get("ignore_index"):
        labels = np.array((labels + 1) % 3)
    check(
        FAMILY,
        f"nll_loss{shape}",
        lambda x: F.nll_loss(x, labels, reduction=reduction, **options),
        lambda x: TF.nll_loss(x, torch.from_numpy(labels), reduction=reduction, **_torch_options(options)),
        rng.standard_normal(shape),
    )


@pytest.mark.parametrize("weight_shape", [(4, 3), (3,), (4, 1)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_losses_with_weight(rng, reduction, weight_shape):
    weight = rng.uniform(0.1, 2.0, weight_shape)
    probs = rng.uniform(0.05, 0.95, (4, 3))
    target = rng.uniform(0, 1, (4, 3))
    check(
        FAMILY,
        "binary_cross_entropy(weight)",
        lambda p, t: F.binary_cross_entropy(p, t, weight=weight, reduction=reduction),
        lambda p, t: TF.binary_cross_entropy(p, t, weight=torch.from_numpy(weight), reduction=reduction),
        probs,
        target,
    )
    pos_weight = np.array([1.0, 3.0, 0.5])
    check(
        FAMILY,
        "bce_with_logits(weight)",
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, weight=weight, reduction=reduction, pos_weight=pos_weight
        ),
        lambda x, t: TF.binary_cross_entropy_with_logits(
            x,
            t,
            weight=torch.from_numpy(weight),
            reduction=reduction,
            pos_weight=torch.from_numpy(pos_weight),
        ),
        rng.standard_normal((4, 3)) * 3,
        target,
    )
    module = nn.BCEWithLogitsLoss(weight=weight, reduction=reduction)
    x = rng.standard_normal((4, 3))
    expected = torch.nn.BCEWithLogitsLoss(weight=torch.from_numpy(weight), reduction=reduction)(
        torch.from_numpy(x), torch.from_numpy(target)
    )
    np.testing.assert_allclose(module(numnet.Tensor(x), target).data, expected.numpy(), rtol=1e-12)
    assert nn.BCELoss(weight=weight)(numnet.Tensor(probs), target).item() == pytest.approx(
        TF.binary_cross_entropy(
            torch.from_numpy(probs), torch.from_numpy(target), torch.from_numpy(weight)
        ).item()
    )
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy(numnet.Tensor(probs), target, weight=np.ones(2))


# --- regression losses and KL divergence -------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "ours", "theirs"),
    [
        (
            "l1",
            lambda r: lambda x, t: F.l1_loss(x, t, reduction=r),
            lambda r: lambda x, t: TF.l1_loss(x, t, reduction=r),
        ),
        (
            "smooth_l1",
            lambda r: lambda x, t: F.smooth_l1_loss(x, t, reduction=r),
            lambda r: lambda x, t: TF.smooth_l1_loss(x, t, reduction=r),
        ),
        (
            "smooth_l1(0.5)",
            lambda r: lambda x, t: F.smooth_l1_loss(x, t, reduction=r, beta=0.5),
            lambda r: lambda x, t: TF.smooth_l1_loss(x, t, reduction=r, beta=0.5),
        ),
        (
            "smooth_l1(0)",
            lambda r: lambda x, t: F.smooth_l1_loss(x, t, reduction=r, beta=0.0),
            lambda r: lambda x, t: TF.smooth_l1_loss(x, t, reduction=r, beta=0.0),
        ),
        (
            "huber",
            lambda r: lambda x, t: F.huber_loss(x, t, reduction=r),
            lambda r: lambda x, t: TF.huber_loss(x, t, reduction=r),
        ),
        (
            "huber(2)",
            lambda r: lambda x, t: F.huber_loss(x, t, reduction=r, delta=2.0),
            lambda r: lambda x, t: TF.huber_loss(x, t, reduction=r, delta=2.0),
        ),
    ],
)
def test_regression_losses_match_torch(rng, name, ours, theirs, reduction):
    # differences spread over both sides of every threshold, none within gradcheck's reach of a kink
    x = rng.standard_normal((6, 5)) * 2
    d = rng.choice([-1, 1], (6, 5)) * rng.uniform(0.05, 3.5, (6, 5))
    d[np.abs(np.abs(d) - 0.5) < 0.02] += 0.05
    d[np.abs(np.abs(d) - 1.0) < 0.02] += 0.05
    d[np.abs(np.abs(d) - 2.0) < 0.02] += 0.05
    check(FAMILY, name, ours(reduction), theirs(reduction), x, x - d)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
def test_kl_div_matches_torch(rng, reduction, log_target):
    log_q = np.log(_probabilities(rng, (4, 5), axis=1))
    p = _probabilities(rng, (4, 5), axis=1)
    target = np.log(p) if log_target else p
    check(
        FAMILY,
        "kl_div",
        lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
        lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
        log_q,
        target,
    )
    ours = nn.KLDivLoss(reduction=reduction, log_target=log_target)(numnet.Tensor(log_q), target)
    theirs = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(
        torch.from_numpy(log_q), torch.from_numpy(target)
    )
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_kl_div_zero_target_contributes_nothing():
    log_q = np.log(np.array([[0.5, 0.5], [0.9, 0.1]]))
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    ours = F.kl_div(numnet.Tensor(log_q), target, reduction="sum").item()
    assert ours == pytest.approx(TF.kl_div(torch.tensor(log_q), torch.tensor(target), reduction="sum").item())


def test_new_loss_modules_reprs_and_errors(rng):
    for ours, theirs in [
        (nn.L1Loss(), torch.nn.L1Loss()),
        (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss()),
        (nn.HuberLoss(), torch.nn.HuberLoss()),
        (nn.KLDivLoss(), torch.nn.KLDivLoss()),
    ]:
        assert repr(ours) == repr(theirs)
    x, t = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for ours, theirs in [
        (nn.L1Loss("sum"), torch.nn.L1Loss(reduction="sum")),
        (nn.SmoothL1Loss(beta=0.3), torch.nn.SmoothL1Loss(beta=0.3)),
        (nn.HuberLoss(delta=0.4), torch.nn.HuberLoss(delta=0.4)),
    ]:
        expected = theirs(torch.from_numpy(x), torch.from_numpy(t)).item()
        assert ours(numnet.Tensor(x), t).item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(
        ValueError, match=r"L1Loss: prediction has shape \(3, 2\) but target has shape \(3,\)"
    ):
        nn.L1Loss()(numnet.Tensor(x), t[:, 0])
    with pytest.raises(ValueError, match="HuberLoss: delta must be > 0"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be one of"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="kl_div: reduction must be one of"):
        loss_ops.KLDiv.apply(numnet.Tensor(x), t, reduction="avg")
