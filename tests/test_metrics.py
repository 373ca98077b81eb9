"""numnet.metrics against scikit-learn on random data, plus the edge cases and error messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

import numnet
from numnet import metrics

SEEDS = [0, 1, 2, 3, 4]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------------------
# accuracy
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_labels_and_scores_match_sklearn(seed: int) -> None:
    rng = _rng(seed)
    n, c = 200, 5
    y = rng.integers(0, c, n)
    scores = rng.normal(size=(n, c))
    pred = scores.argmax(1)
    expected = skm.accuracy_score(y, pred)
    assert metrics.accuracy(y, pred) == pytest.approx(expected, abs=1e-15)
    assert metrics.accuracy(y, scores) == pytest.approx(expected, abs=1e-15)
    assert metrics.accuracy(y, scores.astype(np.float32)) == pytest.approx(expected, abs=1e-15)
    # float labels holding whole numbers are labels, not scores
    got = metrics.accuracy(y.astype(np.float64), pred.astype(np.float32))
    assert got == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_binary_scores_threshold(seed: int) -> None:
    rng = _rng(seed)
    y = rng.integers(0, 2, 300)
    probs = rng.random(300)
    expected = skm.accuracy_score(y, probs > 0.5)
    assert metrics.accuracy(y, probs) == pytest.approx(expected, abs=1e-15)
    assert metrics.accuracy(y, probs[:, None]) == pytest.approx(expected, abs=1e-15)
    assert metrics.accuracy(y[:, None], probs[:, None]) == pytest.approx(expected, abs=1e-15)
    logits = rng.normal(size=300)
    assert metrics.accuracy(y, logits, threshold=0.0) == pytest.approx(skm.accuracy_score(y, logits > 0))


def test_accuracy_accepts_tensors_and_lists() -> None:
    y = numnet.tensor(np.array([0, 1, 2, 1]))
    scores = numnet.tensor(np.array([[3.0, 1, 0], [0, 2, 1], [0, 1, 0.5], [1, 0, 0]]), requires_grad=True)
    assert metrics.accuracy(y, scores) == 0.5  # argmax: 0, 1, 1, 0
    assert metrics.accuracy([0, 1, 1], [0, 1, 0]) == pytest.approx(2 / 3)
    assert metrics.accuracy(np.array([True, False]), np.array([True, True])) == 0.5


def test_accuracy_single_class_and_negative_labels() -> None:
    assert metrics.accuracy(np.zeros(7, dtype=int), np.zeros(7, dtype=int)) == 1.0
    assert metrics.accuracy(np.array([-1, 1, 1]), np.array([-1, -1, 1])) == pytest.approx(2 / 3)


def test_accuracy_errors() -> None:
    with pytest.raises(ValueError, match=r"accuracy: empty input"):
        metrics.accuracy(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"y_true has 5 samples but y_pred has 4"):
        metrics.accuracy(np.zeros(5, dtype=int), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"y_true has 3 samples but y_pred has 2"):
        metrics.accuracy(np.zeros(3, dtype=int), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"one-hot"):
        metrics.accuracy(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match=r"y_pred must be labels"):
        metrics.accuracy(np.zeros(3, dtype=int), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match=r"integer class labels"):
        metrics.accuracy(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"NaN"):
        metrics.accuracy(np.array([0, 1]), np.array([[0.1, np.nan], [0.2, 0.3]]))
    with pytest.raises(ValueError, match=r"numeric"):
        metrics.accuracy(np.array(["a", "b"]), np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        metrics.accuracy(np.int64(1), np.int64(1))


# ---------------------------------------------------------------------------------------------------------
# top-k accuracy
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_accuracy_matches_sklearn(seed: int, k: int) -> None:
    rng = _rng(seed)
    n, c = 150, 7
    y = rng.integers(0, c, n)
    scores = rng.normal(size=(n, c))
    expected = skm.top_k_accuracy_score(y, scores, k=k, labels=np.arange(c))
    assert metrics.top_k_accuracy(y, scores, k=k) == pytest.approx(expected, abs=1e-15)
    assert metrics.top_k_accuracy(numnet.tensor(y), numnet.tensor(scores), k=k) == pytest.approx(expected)


def test_top_k_accuracy_k1_is_accuracy_and_large_k_is_one() -> None:
    rng = _rng(9)
    y = rng.integers(0, 4, 50)
    scores = rng.normal(size=(50, 4))
    assert metrics.top_k_accuracy(y, scores, k=1) == metrics.accuracy(y, scores)
    assert metrics.top_k_accuracy(y, scores, k=4) == 1.0
    assert metrics.top_k_accuracy(y, scores, k=10) == 1.0


def test_top_k_accuracy_ties_count_as_hits() -> None:
    scores = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]])
    assert metrics.top_k_accuracy(np.array([2, 2]), scores, k=1) == 0.5


def test_top_k_accuracy_errors() -> None:
    scores = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"k must be a positive integer"):
        metrics.top_k_accuracy(np.zeros(3, dtype=int), scores, k=0)
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        metrics.top_k_accuracy(np.zeros(3, dtype=int), np.zeros(3), k=1)
    with pytest.raises(ValueError, match=r"y_true has 2 samples but scores has 3"):
        metrics.top_k_accuracy(np.zeros(2, dtype=int), scores, k=1)
    with pytest.raises(ValueError, match=r"class 4"):
        metrics.top_k_accuracy(np.array([0, 1, 4]), scores, k=1)
    with pytest.raises(ValueError, match=r"empty"):
        metrics.top_k_accuracy(np.zeros(0, dtype=int), np.zeros((0, 4)), k=1)


# ---------------------------------------------------------------------------------------------------------
# confusion matrix
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_matrix_matches_sklearn(seed: int) -> None:
    rng = _rng(seed)
    n, c = 300, 6
    y = rng.integers(0, c, n)
    pred = rng.integers(0, c, n)
    expected = skm.confusion_matrix(y, pred, labels=np.arange(c))
    got = metrics.confusion_matrix(y, pred)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y, pred, num_classes=c + 2),
        skm.confusion_matrix(y, pred, labels=np.arange(c + 2)),
    )
    assert got.sum() == n


def test_confusion_matrix_from_scores_and_orientation() -> None:
    y = np.array([0, 0, 1, 2])
    pred = np.array([1, 0, 1, 1])
    m = metrics.confusion_matrix(y, pred)
    assert m[0, 1] == 1  # a true 0 predicted as 1: row = true, column = predicted
    assert m[2, 1] == 1
    scores = np.eye(4)[[1, 0, 1, 1]]  # four score columns, though no label reaches 3
    np.testing.assert_array_equal(metrics.confusion_matrix(y, scores)[:3, :3], m)
    assert metrics.confusion_matrix(y, scores).shape == (4, 4)


def test_confusion_matrix_single_class() -> None:
    zeros = np.zeros(5, dtype=int)
    np.testing.assert_array_equal(metrics.confusion_matrix(zeros, zeros), [[5]])


def test_confusion_matrix_errors() -> None:
    with pytest.raises(ValueError, match=r"num_classes=2 allows 0..1"):
        metrics.confusion_matrix(np.array([0, 2]), np.array([0, 1]), num_classes=2)
    with pytest.raises(ValueError, match=r"non-negative"):
        metrics.confusion_matrix(np.array([0, -1]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"y_true has 2 samples but y_pred has 3"):
        metrics.confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"empty"):
        metrics.confusion_matrix(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer"):
        metrics.confusion_matrix(np.array([0]), np.array([0]), num_classes=0)


# ---------------------------------------------------------------------------------------------------------
# precision / recall / F1
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_precision_recall_f1_matches_sklearn(seed: int, average: str) -> None:
    rng = _rng(seed)
    n, c = 120, 6
    y = rng.integers(0, c - 1, n)  # class 5 never true ...
    pred = rng.integers(0, c, n)
    pred[pred == 3] = 2  # ... and class 3 never predicted: zero divisions on both sides
    p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = metrics.precision_recall_f1(y, pred, average=average)
    assert all(isinstance(v, float) for v in got)
    np.testing.assert_allclose(got, (p, r, f), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_precision_recall_f1_per_class_matches_sklearn(seed: int) -> None:
    rng = _rng(seed)
    n, c = 80, 5
    y = rng.integers(0, c, n)
    pred = rng.integers(0, c - 1, n)
    p, r, f, _ = skm.precision_recall_fscore_support(
        y, pred, labels=np.arange(c), average=None, zero_division=0
    )
    got_p, got_r, got_f = metrics.precision_recall_f1(y, pred, average=None)
    np.testing.assert_allclose(got_p, p, rtol=1e-12)
    np.testing.assert_allclose(got_r, r, rtol=1e-12)
    np.testing.assert_allclose(got_f, f, rtol=1e-12)
    assert got_f[c - 1] == 0.0  # never predicted: precision 0/0 -> 0, so F1 is 0


def test_precision_recall_f1_micro_equals_accuracy_and_binary() -> None:
    rng = _rng(11)
    y = rng.integers(0, 2, 100)
    probs = rng.random(100)
    pred = (probs > 0.5).astype(int)
    acc = metrics.accuracy(y, probs)
    assert metrics.precision_recall_f1(y, probs, average="micro") == pytest.approx((acc, acc, acc))
    p, r, f = metrics.precision_recall_f1(y, probs, average=None)
    assert (p[1], r[1], f[1]) == pytest.approx(
        (skm.precision_score(y, pred), skm.recall_score(y, pred), skm.f1_score(y, pred))
    )


def test_precision_recall_f1_single_class_and_all_wrong() -> None:
    ones = np.ones(4, dtype=int)
    assert metrics.precision_recall_f1(ones, ones) == (1.0, 1.0, 1.0)  # class 0 occurs nowhere: left out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zeros = np.zeros(4, dtype=int)
        assert metrics.precision_recall_f1(zeros, ones) == (0.0, 0.0, 0.0)
        assert metrics.precision_recall_f1(zeros, ones, average="weighted") == (0.0, 0.0, 0.0)


def test_precision_recall_f1_errors() -> None:
    with pytest.raises(ValueError, match=r"average must be"):
        metrics.precision_recall_f1(np.array([0]), np.array([0]), average="binary")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"y_true has 1 samples but y_pred has 2"):
        metrics.precision_recall_f1(np.array([0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"empty"):
        metrics.precision_recall_f1(np.array([], dtype=int), np.array([], dtype=int))


# ---------------------------------------------------------------------------------------------------------
# regression
# ---------------------------------------------------------------------------------------------------------

REGRESSION = [
    (metrics.mean_squared_error, skm.mean_squared_error),
    (metrics.mean_absolute_error, skm.mean_absolute_error),
    (metrics.r2_score, skm.r2_score),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("ours", "theirs"), REGRESSION, ids=["mse", "mae", "r2"])
def test_regression_matches_sklearn(seed: int, ours, theirs) -> None:
    rng = _rng(seed)
    y = rng.normal(size=64)
    pred = y + rng.normal(scale=0.5, size=64)
    assert ours(y, pred) == pytest.approx(theirs(y, pred), rel=1e-12, abs=1e-15)
    assert ours(y[:, None], pred) == pytest.approx(theirs(y[:, None], pred), rel=1e-12)  # (N, 1) vs (N,)
    assert ours(numnet.tensor(y.astype(np.float32)), numnet.tensor(pred.astype(np.float32))) == pytest.approx(
        theirs(y.astype(np.float32), pred.astype(np.float32)), rel=1e-5
    )
    y2 = rng.normal(size=(64, 3)) * [1.0, 10.0, 0.1]
    pred2 = y2 + rng.normal(size=(64, 3))
    assert ours(y2, pred2) == pytest.approx(theirs(y2, pred2), rel=1e-12)
    np.testing.assert_allclose(
        ours(y2, pred2, multioutput="raw_values"), theirs(y2, pred2, multioutput="raw_values"), rtol=1e-12
    )


def test_r2_constant_target_follows_sklearn() -> None:
    y = np.full(5, 2.0)
    assert metrics.r2_score(y, y) == skm.r2_score(y, y) == 1.0
    assert metrics.r2_score(y, y + 1) == skm.r2_score(y, y + 1) == 0.0
    assert metrics.r2_score(np.arange(4.0), np.arange(4.0)) == 1.0


def test_regression_errors() -> None:
    for func in (metrics.mean_squared_error, metrics.mean_absolute_error, metrics.r2_score):
        name = func.__name__
        with pytest.raises(ValueError, match=rf"{name}: empty input"):
            func(np.zeros(0), np.zeros(0))
        with pytest.raises(ValueError, match=r"y_true has 3 samples but y_pred has 2"):
            func(np.zeros(3), np.zeros(2))
        with pytest.raises(ValueError, match=r"y_true has 2 outputs but y_pred has 3"):
            func(np.zeros((4, 2)), np.zeros((4, 3)))
        with pytest.raises(ValueError, match=r"shape \(N,\) or \(N, K\)"):
            func(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
        with pytest.raises(ValueError, match=r"NaN"):
            func(np.array([1.0, np.nan]), np.zeros(2))
        with pytest.raises(ValueError, match=r"multioutput"):
            func(np.zeros(2), np.zeros(2), multioutput="variance_weighted")
    with pytest.raises(ValueError, match=r"at least 2 samples"):
        metrics.r2_score(np.zeros(1), np.zeros(1))
