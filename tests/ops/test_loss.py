"""Fused losses: cross-entropy (labels and probabilities, reductions, label smoothing), MSE, NLL, BCE and
BCE-with-logits (with pos_weight), against gradcheck and PyTorch, and their argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numnet import Tensor, ops

from ._oracle import check

FAMILY = "loss"
REDUCTIONS = ["mean", "sum", "none"]


def _probabilities(rng, shape):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_labels(rng, reduction, smoothing):
    logits, labels = rng.standard_normal((5, 4)) * 2, rng.integers(0, 4, 5)
    check(
        FAMILY,
        "cross_entropy(labels)",
        lambda x: ops.CrossEntropy.apply(x, labels, reduction=reduction, label_smoothing=smoothing),
        lambda x: F.cross_entropy(
            x, torch.from_numpy(labels), reduction=reduction, label_smoothing=smoothing
        ),
        logits,
    )


def test_cross_entropy_with_integer_tensor_labels(rng):
    logits, labels = rng.standard_normal((3, 5)), rng.integers(0, 5, 3).astype(np.int32)
    check(
        FAMILY,
        "cross_entropy(labels)",
        lambda x: ops.CrossEntropy.apply(x, Tensor(labels)),
        lambda x: F.cross_entropy(x, torch.from_numpy(labels).long()),
        logits,
    )


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities(rng, reduction, smoothing, target_grad):
    logits, probs = rng.standard_normal((4, 3)) * 2, _probabilities(rng, (4, 3))
    check(
        FAMILY,
        "cross_entropy(probs)",
        lambda x, t: ops.CrossEntropy.apply(x, t, reduction=reduction, label_smoothing=smoothing),
        lambda x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing),
        logits,
        probs,
        requires=[True, target_grad],
    )


def test_cross_entropy_one_hot_equals_labels(rng):
    logits, labels = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
    one_hot = np.eye(3)[labels]
    a = ops.CrossEntropy.apply(Tensor(logits), labels).item()
    b = ops.CrossEntropy.apply(Tensor(logits), one_hot).item()
    assert a == pytest.approx(b, rel=1e-14)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [0.0, 0.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(logits, requires_grad=True)
        loss = ops.CrossEntropy.apply(x, np.array([1, 2]))
        loss.backward()
    expected = F.cross_entropy(torch.from_numpy(logits), torch.tensor([1, 2])).item()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(x.grad))


def test_cross_entropy_errors_say_what_is_wrong():
    logits = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 3\], got \[0, 4\]"):
        ops.CrossEntropy.apply(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 3\], got \[-1, 2\]"):
        ops.CrossEntropy.apply(logits, np.array([-1, 2, 1]))
    with pytest.raises(ValueError, match=r"integer targets must have shape \(3,\).*got \(2,\)"):
        ops.CrossEntropy.apply(logits, np.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"probability targets must have the logits' shape \(3, 4\), got \(3, 3\)"
    ):
        ops.CrossEntropy.apply(logits, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"logits must be \(N, C\), got shape \(4,\)"):
        ops.CrossEntropy.apply(Tensor(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match=r"reduction must be one of .*got 'avg'"):
        ops.CrossEntropy.apply(logits, np.array([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("target_grad", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)], ids=str)
def test_mse(rng, shape, reduction, target_grad):
    p, t = rng.standard_normal(shape), rng.standard_normal(shape)
    check(
        FAMILY,
        "mse",
        lambda p, t: ops.MSE.apply(p, t, reduction=reduction),
        lambda p, t: F.mse_loss(p, t, reduction=reduction),
        p,
        t,
        requires=[True, target_grad],
    )


def test_mse_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 1\) but target has shape \(4,\)"):
        ops.MSE.apply(Tensor(np.zeros((4, 1))), np.zeros(4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll(rng, reduction):
    log_p = np.log(_probabilities(rng, (5, 4)))
    labels = rng.integers(0, 4, 5)
    labels[:2] = labels[2]  # repeated classes
    check(
        FAMILY,
        "nll",
        lambda x: ops.NLL.apply(x, labels, reduction=reduction),
        lambda x: F.nll_loss(x, torch.from_numpy(labels), reduction=reduction),
        log_p,
    )


def test_nll_errors_say_what_is_wrong():
    log_p = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 3\], got \[-1, 2\]"):
        ops.NLL.apply(log_p, np.array([-1, 2, 0]))
    with pytest.raises(ValueError, match=r"class labels must lie in \[0, 3\], got \[0, 7\]"):
        ops.NLL.apply(log_p, np.array([7, 2, 0]))
    with pytest.raises(ValueError, match=r"labels must be integers, got dtype float64"):
        ops.NLL.apply(log_p, np.array([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(N, C\) and labels \(N,\), got \(3, 4\) and \(2,\)"):
        ops.NLL.apply(log_p, np.array([1, 2]))


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6,), (3, 2)], ids=str)
def test_bce(rng, shape, reduction, target_grad):
    p, t = rng.uniform(0.05, 0.95, shape), rng.random(shape)
    check(
        FAMILY,
        "bce",
        lambda p, t: ops.BCE.apply(p, t, reduction=reduction),
        lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
        p,
        t,
        requires=[True, target_grad],
    )


def test_bce_at_exact_zero_and_one_is_finite_like_torch():
    p, t = np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0])
    x = Tensor(p, requires_grad=True)
    loss = ops.BCE.apply(x, t, reduction="sum")
    loss.backward()
    xt = torch.tensor(p, requires_grad=True)
    lt = F.binary_cross_entropy(xt, torch.from_numpy(t), reduction="sum")
    lt.backward()
    assert loss.item() == pytest.approx(lt.item()) == pytest.approx(200.0)
    np.testing.assert_allclose(x.grad, xt.grad.numpy())


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        ops.BCE.apply(Tensor(np.array([0.5, 1.5])), np.array([0.0, 1.0]))


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6,), (3, 2)], ids=str)
def test_bce_with_logits(rng, shape, reduction, target_grad):
    x, t = rng.standard_normal(shape) * 3, rng.random(shape)
    check(
        FAMILY,
        "bce_with_logits",
        lambda x, t: ops.BCEWithLogits.apply(x, t, reduction=reduction),
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        x,
        t,
        requires=[True, target_grad],
    )


@pytest.mark.parametrize("target_grad", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_pos_weight(rng, reduction, target_grad):
    x, t = rng.standard_normal((4, 3)) * 3, rng.random((4, 3))
    pw = np.array([2.0, 0.5, 1.0])
    check(
        FAMILY,
        "bce_with_logits(pos_weight)",
        lambda x, t: ops.BCEWithLogits.apply(x, t, reduction=reduction, pos_weight=pw),
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, reduction=reduction, pos_weight=torch.from_numpy(pw)
        ),
        x,
        t,
        requires=[True, target_grad],
    )
    ones = ops.BCEWithLogits.apply(Tensor(x), t, pos_weight=Tensor(np.ones(3))).item()
    assert ones == pytest.approx(ops.BCEWithLogits.apply(Tensor(x), t).item(), rel=1e-14)


def test_bce_with_logits_is_exact_for_huge_logits():
    """No overflow and no cancellation: at x = ±50 the loss log(1 + e⁻⁵⁰) ≈ 1.9e-22 is kept on both sides
    (PyTorch rounds one side to 0)."""
    data, t = np.array([-1000.0, -50.0, 50.0, 1000.0]), np.array([1.0, 0.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(data, requires_grad=True)
        loss = ops.BCEWithLogits.apply(x, t, reduction="none")
        loss.sum().backward()
    tiny = np.log1p(np.exp(-50.0))
    np.testing.assert_allclose(loss.data, [1000.0, tiny, tiny, 1000.0], rtol=1e-15)
    expected = F.binary_cross_entropy_with_logits(
        torch.from_numpy(data), torch.from_numpy(t), reduction="none"
    )
    np.testing.assert_allclose(loss.data, expected.numpy(), rtol=1e-15, atol=1e-21)
    np.testing.assert_allclose(x.grad, [-1.0, 0.0, 0.0, 1.0], atol=1e-20)


def test_float32_losses_stay_float32(rng):
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    t32 = rng.random((4, 3)).astype(np.float32)
    losses = [
        ops.CrossEntropy.apply(x, np.array([0, 1, 2, 0])),
        ops.CrossEntropy.apply(x, np.array([0, 1, 2, 0]), label_smoothing=0.1),
        ops.MSE.apply(x, t32),
        ops.NLL.apply(x.log_softmax(), np.array([0, 1, 2, 0])),
        ops.BCE.apply(x.sigmoid(), t32),
        ops.BCEWithLogits.apply(x, t32),
    ]
    assert all(loss.dtype == np.float32 for loss in losses)
    sum(losses[1:], losses[0]).backward()
    assert x.grad.dtype == np.float32
