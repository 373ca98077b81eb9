"""Evaluation metrics for classification and regression, computed in NumPy.

Every function takes NumPy arrays, numnet ``Tensor`` objects or anything ``np.asarray`` accepts, and
returns Python floats (or float64 arrays when asked for per-class or per-output values). Inputs are
checked up front: an empty input, mismatched lengths or an unexpected shape raise a ``ValueError`` that
names the function and the shapes involved.

Classification predictions (``y_pred`` below) may be given in any of three forms:

* class labels, shape ``(N,)``: integers, booleans, or floats holding whole numbers;
* scores, shape ``(N, C)`` with ``C >= 2`` (logits or probabilities): the predicted class is the argmax;
* binary scores, shape ``(N, 1)``, or shape ``(N,)`` of floats that are not all whole numbers: the
  predicted class is ``score > threshold`` (``threshold=0.5`` suits probabilities; pass ``threshold=0.0``
  for logits).

``y_true`` is always class labels, shape ``(N,)`` (``(N, 1)`` is accepted too). For one-hot targets pass
``y_true.argmax(1)``.

Metrics over classes (``confusion_matrix``, ``precision_recall_f1``) use labels ``0 .. num_classes - 1``.
Divisions by zero (a class never predicted, a class absent from ``y_true``) give 0, never a warning.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from numnet.tensor import Tensor

__all__ = [
    "accuracy",
    "confusion_matrix",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_f1",
    "r2_score",
    "top_k_accuracy",
]


# ---------------------------------------------------------------------------------------------------------
# Input checking
# ---------------------------------------------------------------------------------------------------------


def _as_array(value: Any, func: str, name: str) -> np.ndarray:
    """``value`` (array, Tensor, list) as a numeric ndarray."""
    if isinstance(value, Tensor):
        value = value.data
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{func}: {name} must be numeric, got dtype {array.dtype}")
    return array


def _check_finite(array: np.ndarray, func: str, name: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{func}: {name} contains NaN or infinity")


def _check_lengths(y_true: np.ndarray, y_pred: np.ndarray, func: str, pred_name: str = "y_pred") -> int:
    """Check both inputs have the same, non-zero number of samples (first axis); return it."""
    if y_true.ndim == 0 or y_pred.ndim == 0:
        raise ValueError(
            f"{func}: expected arrays of samples, got a scalar "
            f"(y_true shape {y_true.shape}, {pred_name} shape {y_pred.shape})"
        )
    n_true, n_pred = len(y_true), len(y_pred)
    if n_true != n_pred:
        raise ValueError(
            f"{func}: y_true has {n_true} samples but {pred_name} has {n_pred} "
            f"(shapes {y_true.shape} and {y_pred.shape})"
        )
    if n_true == 0:
        raise ValueError(f"{func}: empty input (0 samples)")
    return n_true


def _to_labels(array: np.ndarray, func: str, name: str) -> np.ndarray:
    """An array of class labels as int64, refusing values that are not whole numbers."""
    if array.dtype.kind in "biu":
        return array.astype(np.int64, copy=False)
    _check_finite(array, func, name)
    if not np.array_equal(array, np.round(array)):
        raise ValueError(f"{func}: {name} must hold integer class labels, got non-integer values")
    return array.astype(np.int64)


def _true_labels(y_true: Any, func: str) -> np.ndarray:
    array = _as_array(y_true, func, "y_true")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{func}: y_true must be class labels of shape (N,), got shape {array.shape}"
            + ("; for one-hot targets pass y_true.argmax(1)" if array.ndim == 2 else "")
        )
    return _to_labels(array, func, "y_true")


def _pred_labels(y_pred: Any, func: str, threshold: float) -> tuple[np.ndarray, int | None]:
    """Predicted labels from labels, (N, C) scores or binary scores; also C for (N, C) scores, else None."""
    array = _as_array(y_pred, func, "y_pred")
    if array.ndim == 2 and array.shape[1] >= 2:
        _check_finite(array, func, "y_pred")
        return np.argmax(array, axis=1).astype(np.int64), array.shape[1]
    if array.ndim == 2 and array.shape[1] == 1:
        _check_finite(array, func, "y_pred")
        return (array[:, 0] > threshold).astype(np.int64), None
    if array.ndim != 1:
        raise ValueError(
            f"{func}: y_pred must be labels (N,), scores (N, C) or binary scores (N, 1), "
            f"got shape {array.shape}"
        )
    if array.dtype.kind == "f":
        _check_finite(array, func, "y_pred")
        if not np.array_equal(array, np.round(array)):  # not labels: binary scores
            return (array > threshold).astype(np.int64), None
    return _to_labels(array, func, "y_pred"), None


def _classification_inputs(
    y_true: Any, y_pred: Any, func: str, threshold: float
) -> tuple[np.ndarray, np.ndarray, int | None]:
    true = _true_labels(y_true, func)
    pred, n_score_classes = _pred_labels(y_pred, func, threshold)
    _check_lengths(true, pred, func)
    return true, pred, n_score_classes


def _resolve_num_classes(
    true: np.ndarray, pred: np.ndarray, num_classes: int | None, n_score_classes: int | None, func: str
) -> int:
    """The number of classes, checking every label lies in ``0 .. num_classes - 1``."""
    low = min(int(true.min()), int(pred.min()))
    high = max(int(true.max()), int(pred.max()))
    if low < 0:
        raise ValueError(f"{func}: class labels must be non-negative, found {low}")
    if num_classes is None:
        return max(high + 1, n_score_classes or 0)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{func}: num_classes must be a positive integer, got {num_classes!r}")
    if n_score_classes is not None and n_score_classes > num_classes:
        raise ValueError(
            f"{func}: y_pred has scores for {n_score_classes} classes but num_classes={num_classes}"
        )
    if high >= num_classes:
        raise ValueError(
            f"{func}: found class label {high}, but num_classes={num_classes} allows 0..{num_classes - 1}"
        )
    return int(num_classes)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` in float64, 0 where the denominator is 0 (and no warning)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast_shapes(numerator.shape, denominator.shape), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


# ---------------------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------------------


def accuracy(y_true: Any, y_pred_or_scores: Any, threshold: float = 0.5) -> float:
    """Fraction of samples whose predicted class equals the true class.

    ``y_pred_or_scores``: labels ``(N,)``, scores ``(N, C)`` (argmax), or binary scores ``(N, 1)`` or float
    ``(N,)`` compared with ``threshold`` (see the module docstring). Labels may be any integers here,
    negative ones included.
    """
    true, pred, _ = _classification_inputs(y_true, y_pred_or_scores, "accuracy", threshold)
    return float(np.mean(true == pred))


def top_k_accuracy(y_true: Any, scores: Any, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest of its ``scores`` (shape ``(N, C)``).

    Ties count in the sample's favour: the true class is a hit when fewer than ``k`` classes score strictly
    higher. With ``k >= C`` every sample is a hit.
    """
    func = "top_k_accuracy"
    true = _true_labels(y_true, func)
    array = _as_array(scores, func, "scores")
    if array.ndim != 2:
        raise ValueError(f"{func}: scores must have shape (N, C), got shape {array.shape}")
    _check_lengths(true, array, func, "scores")
    _check_finite(array, func, "scores")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{func}: k must be a positive integer, got {k!r}")
    n_classes = array.shape[1]
    if true.min() < 0 or true.max() >= n_classes:
        bad = int(true.min()) if true.min() < 0 else int(true.max())
        raise ValueError(
            f"{func}: y_true holds class {bad}, but scores have {n_classes} classes (0..{n_classes - 1})"
        )
    true_scores = array[np.arange(len(true)), true]
    n_higher = np.count_nonzero(array > true_scores[:, None], axis=1)
    return float(np.mean(n_higher < k))


def confusion_matrix(
    y_true: Any, y_pred: Any, num_classes: int | None = None, threshold: float = 0.5
) -> np.ndarray:
    """The ``(num_classes, num_classes)`` int64 matrix whose entry ``[i, j]`` counts samples of true class
    ``i`` predicted as class ``j`` (rows: true classes, columns: predicted classes).

    ``num_classes`` defaults to the largest label seen plus one (or the number of score columns, if larger).
    Labels must lie in ``0 .. num_classes - 1``.
    """
    func = "confusion_matrix"
    true, pred, n_score_classes = _classification_inputs(y_true, y_pred, func, threshold)
    n = _resolve_num_classes(true, pred, num_classes, n_score_classes, func)
    counts = np.bincount(true * n + pred, minlength=n * n)
    return counts.reshape(n, n).astype(np.int64, copy=False)


Average = Literal["macro", "micro", "weighted"] | None


def precision_recall_f1(
    y_true: Any,
    y_pred: Any,
    average: Average = "macro",
    num_classes: int | None = None,
    threshold: float = 0.5,
) -> tuple[Any, Any, Any]:
    """Precision, recall and F1 score, returned as the tuple ``(precision, recall, f1)``.

    Per class ``c``: precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / (2 TP + FP + FN),
    each 0 when its denominator is 0. ``average`` combines the classes:

    * ``"macro"``: the unweighted mean over the classes that occur in ``y_true`` or in the predictions
      (classes seen nowhere are left out, as scikit-learn does by default);
    * ``"micro"``: computed from the total TP, FP and FN (for single-label data all three equal accuracy);
    * ``"weighted"``: the mean over classes weighted by their support (count in ``y_true``);
    * ``None``: three float64 arrays of length ``num_classes``, one value per class.

    For the binary scores of the positive class 1 use ``average=None`` and take element ``[1]``.
    """
    func = "precision_recall_f1"
    if average not in ("macro", "micro", "weighted", None):
        raise ValueError(f"{func}: average must be 'macro', 'micro', 'weighted' or None, got {average!r}")
    matrix = confusion_matrix(y_true, y_pred, num_classes=num_classes, threshold=threshold)
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)  # TP + FP
    support = matrix.sum(axis=1).astype(np.float64)  # TP + FN
    if average == "micro":
        total_tp, total_pred, total_true = tp.sum(), predicted.sum(), support.sum()
        precision = float(_safe_divide(total_tp, total_pred))
        recall = float(_safe_divide(total_tp, total_true))
        f1 = float(_safe_divide(2 * total_tp, total_pred + total_true))
        return precision, recall, f1
    precision_c = _safe_divide(tp, predicted)
    recall_c = _safe_divide(tp, support)
    f1_c = _safe_divide(2 * tp, predicted + support)
    if average is None:
        return precision_c, recall_c, f1_c
    weights = (predicted + support > 0).astype(np.float64) if average == "macro" else support
    total = weights.sum()
    precision, recall, f1 = (
        float(_safe_divide((values * weights).sum(), total)) for values in (precision_c, recall_c, f1_c)
    )
    return precision, recall, f1


# ---------------------------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------------------------

Multioutput = Literal["uniform_average", "raw_values"]


def _regression_inputs(
    y_true: Any, y_pred: Any, func: str, multioutput: str
) -> tuple[np.ndarray, np.ndarray]:
    """Both targets as float64 ``(N, K)`` arrays; ``(N,)`` and ``(N, 1)`` are interchangeable."""
    if multioutput not in ("uniform_average", "raw_values"):
        raise ValueError(
            f"{func}: multioutput must be 'uniform_average' or 'raw_values', got {multioutput!r}"
        )
    true = _as_array(y_true, func, "y_true")
    pred = _as_array(y_pred, func, "y_pred")
    for array, name in ((true, "y_true"), (pred, "y_pred")):
        if array.ndim not in (1, 2):
            raise ValueError(f"{func}: {name} must have shape (N,) or (N, K), got shape {array.shape}")
    _check_lengths(true, pred, func)
    true = true.reshape(len(true), -1).astype(np.float64)
    pred = pred.reshape(len(pred), -1).astype(np.float64)
    if true.shape != pred.shape:
        raise ValueError(f"{func}: y_true has {true.shape[1]} outputs but y_pred has {pred.shape[1]}")
    _check_finite(true, func, "y_true")
    _check_finite(pred, func, "y_pred")
    return true, pred


def _combine(per_output: np.ndarray, multioutput: str) -> Any:
    return per_output if multioutput == "raw_values" else float(np.mean(per_output))


def mean_squared_error(y_true: Any, y_pred: Any, multioutput: Multioutput = "uniform_average") -> Any:
    """Mean of ``(y_true - y_pred) ** 2``: a float, or per output with ``multioutput="raw_values"``."""
    true, pred = _regression_inputs(y_true, y_pred, "mean_squared_error", multioutput)
    return _combine(np.mean((true - pred) ** 2, axis=0), multioutput)


def mean_absolute_error(y_true: Any, y_pred: Any, multioutput: Multioutput = "uniform_average") -> Any:
    """Mean of ``|y_true - y_pred|``: a float, or per output with ``multioutput="raw_values"``."""
    true, pred = _regression_inputs(y_true, y_pred, "mean_absolute_error", multioutput)
    return _combine(np.mean(np.abs(true - pred), axis=0), multioutput)


def r2_score(y_true: Any, y_pred: Any, multioutput: Multioutput = "uniform_average") -> Any:
    """Coefficient of determination, ``1 - SS_res / SS_tot``, per output then averaged (unless
    ``multioutput="raw_values"``).

    1.0 is a perfect fit; predicting the mean scores 0.0; worse fits go negative. For an output whose
    ``y_true`` is constant (``SS_tot == 0``) the score is 1.0 if the predictions are exact and 0.0 otherwise,
    as in scikit-learn. Needs at least two samples.
    """
    func = "r2_score"
    true, pred = _regression_inputs(y_true, y_pred, func, multioutput)
    if len(true) < 2:
        raise ValueError(f"{func}: needs at least 2 samples, got {len(true)}")
    ss_res = np.sum((true - pred) ** 2, axis=0)
    ss_tot = np.sum((true - true.mean(axis=0)) ** 2, axis=0)
    score = np.ones_like(ss_res)
    varying = ss_tot != 0
    score[varying] = 1.0 - ss_res[varying] / ss_tot[varying]
    score[~varying & (ss_res != 0)] = 0.0
    return _combine(score, multioutput)
