"""Preprocessing: per-feature standardisation, one-hot labels and a train/test split."""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet import backend
from numnet.tensor import Tensor

__all__ = ["Standardizer", "one_hot", "standardize", "train_test_split"]


def _float_array(X: Any) -> np.ndarray:
    """``X`` as an array; floating dtypes are kept, anything else becomes the default dtype."""
    array = np.asarray(X)
    if array.dtype.kind != "f":
        array = array.astype(backend.get_default_dtype())
    return array


class Standardizer:
    """Per-feature standardisation ``(X - mean) / std``, fitted on training data.

    ``fit(X)`` with ``X`` of shape ``(N, ...)`` computes ``mean_`` and ``std_`` over axis 0 (so their shape is
    ``X.shape[1:]``), in float64, with the population standard deviation (``ddof=0``). A feature with
    ``std == 0`` (constant, e.g. an always-black MNIST pixel) gets ``std = 1``, so it maps to 0 rather than
    NaN. ``transform`` keeps a floating input's dtype (float32 stays float32); integer input becomes the
    default dtype. The state is two arrays: ``state_dict()`` -> ``{"mean": ..., "std": ...}``.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self.mean_ is not None

    def fit(self, X: Any) -> Standardizer:
        """Compute the per-feature mean and std of ``X`` ``(N, ...)``; returns ``self``."""
        array = np.asarray(X)
        if array.ndim == 0 or array.shape[0] == 0:
            raise ValueError(
                f"Standardizer.fit: need at least one sample along axis 0, got shape {array.shape}"
            )
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Standardizer.fit: need numeric data, got dtype {array.dtype}")
        mean = array.mean(axis=0, dtype=np.float64)
        std = array.std(axis=0, dtype=np.float64)
        std = np.where(std == 0.0, 1.0, std)
        self.mean_, self.std_ = np.asarray(mean), np.asarray(std)
        return self

    def _check(self, array: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError(f"Standardizer.{name}: call fit(X) first")
        if array.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"Standardizer.{name}: expected samples of shape {self.mean_.shape}, got {array.shape[1:]} "
                f"(input shape {array.shape})"
            )
        return self.mean_.astype(array.dtype), self.std_.astype(array.dtype)

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean) / std``, same shape as ``X``."""
        array = _float_array(X)
        mean, std = self._check(array, "transform")
        return (array - mean) / std

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * std + mean``: undo ``transform``."""
        array = _float_array(Z)
        mean, std = self._check(array, "inverse_transform")
        return array * std + mean

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"mean": mean_, "std": std_}`` (float64 arrays, copies)."""
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer.state_dict: call fit(X) first")
        return {"mean": self.mean_.copy(), "std": self.std_.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()``."""
        try:
            mean = np.asarray(state["mean"], dtype=np.float64)
            std = np.asarray(state["std"], dtype=np.float64)
        except (KeyError, TypeError) as exc:
            raise ValueError("Standardizer.load_state_dict: expected a dict with 'mean' and 'std'") from exc
        if mean.shape != std.shape:
            raise ValueError(f"Standardizer.load_state_dict: mean {mean.shape} and std {std.shape} differ")
        if np.any(std <= 0) or not np.all(np.isfinite(std)):
            raise ValueError("Standardizer.load_state_dict: std must be positive and finite")
        self.mean_, self.std_ = mean.copy(), std.copy()

    def __repr__(self) -> str:
        shape = None if self.mean_ is None else self.mean_.shape
        return f"Standardizer(features={shape})"


def standardize(X: Any, mean: Any = None, std: Any = None) -> np.ndarray:
    """``(X - mean) / std`` per feature (axis 0) of ``X`` ``(N, ...)``.

    Without ``mean``/``std`` they are computed from ``X`` itself (``std == 0`` -> 1). To apply training-set
    statistics to test data, pass them, or use a ``Standardizer``. Keeps a floating input's dtype.
    """
    array = _float_array(X)
    scaler = Standardizer()
    if mean is None and std is None:
        scaler.fit(array)
    else:
        if mean is None or std is None:
            raise ValueError("standardize: give both mean and std, or neither")
        scaler.load_state_dict({"mean": mean, "std": np.where(np.asarray(std) == 0, 1.0, std)})
    return scaler.transform(array)


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """Integer class labels ``(...,)`` -> one-hot rows ``(..., C)`` of ``dtype`` (float32 by default).

    ``num_classes`` defaults to ``max(labels) + 1``. Raises ``ValueError`` for negative labels or labels
    ``>= num_classes``, and ``TypeError`` for labels that are not integers (floats, even whole ones: convert
    with ``labels.astype(np.int64)`` if that is what you mean).
    """
    array = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(
            f"one_hot: labels must be integers, got dtype {array.dtype}; "
            "if they are whole numbers, convert them with labels.astype(np.int64)"
        )
    array = array.astype(np.int64, copy=False)
    if num_classes is not None and (
        not isinstance(num_classes, (int, np.integer)) or isinstance(num_classes, bool) or num_classes < 1
    ):
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes!r}")
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0:
            raise ValueError(f"one_hot: labels must be non-negative, found {low}")
        if num_classes is None:
            num_classes = high + 1
        elif high >= num_classes:
            raise ValueError(f"one_hot: label {high} is out of range for num_classes={num_classes}")
    elif num_classes is None:
        raise ValueError("one_hot: cannot infer num_classes from no labels; pass num_classes")
    out = np.zeros((*array.shape, int(num_classes)), dtype=dtype)
    np.put_along_axis(out, array[..., None], 1, axis=-1)
    return out


def train_test_split(
    *arrays: Any, test_size: float = 0.2, shuffle: bool = True, seed: int | None = None
) -> list[np.ndarray]:
    """Split arrays that share their first dimension ``N`` into train and test parts.

    Returns ``[a_train, a_test, b_train, b_test, ...]``. ``test_size``: a fraction in (0, 1) or a sample
    count. With ``shuffle`` the rows are permuted first, by ``np.random.default_rng(seed)`` when ``seed`` is
    given, else by numnet's generator; without it the last rows are the test part.
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    converted = [np.asarray(a) for a in arrays]
    lengths = [a.shape[0] if a.ndim else None for a in converted]
    if None in lengths or len(set(lengths)) != 1:
        raise ValueError(f"train_test_split: arrays must share their first dimension, got lengths {lengths}")
    n = int(lengths[0])
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = int(np.ceil(n * test_size))
    else:
        raise ValueError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a count, got {test_size!r}"
        )
    if not 0 <= n_test <= n:
        raise ValueError(f"train_test_split: test_size {n_test} does not fit {n} samples")
    if shuffle:
        rng = np.random.default_rng(seed) if seed is not None else backend.get_rng()
        order = rng.permutation(n)
        train_idx, test_idx = order[: n - n_test], order[n - n_test :]
        out = []
        for a in converted:
            out += [a[train_idx], a[test_idx]]
        return out
    out = []
    for a in converted:
        out += [a[: n - n_test], a[n - n_test :]]
    return out
