"""Small data sets: the tutorials' toy problems and classic 2-D classification sets.

Conventions: inputs ``X`` are float32; class labels ``y`` are int64; regression targets are float32.
Every random set is a pure function of its ``seed``: ``np.random.default_rng(seed)`` when a seed is given,
numnet's generator (``numnet.backend.get_rng()``, set by ``numnet.manual_seed``) when it is None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from numnet import backend

__all__ = [
    "GENDER_OFFSETS",
    "Bunch",
    "curve_function",
    "curve_linspace",
    "load_gender",
    "make_circles",
    "make_curve",
    "make_moons",
    "make_spirals",
    "make_xor",
]


def _rng(seed: int | None) -> np.random.Generator:
    if seed is None:
        return backend.get_rng()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_n(n: Any, name: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{name}: n must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise: Any, name: str) -> float:
    noise = float(noise)
    if not noise >= 0.0 or not np.isfinite(noise):
        raise ValueError(f"{name}: noise must be a finite number >= 0, got {noise!r}")
    return noise


# ---------------------------------------------------------------------------------------------------------
# The tutorials' data
# ---------------------------------------------------------------------------------------------------------


def make_xor() -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: ``X`` float32 ``(4, 2)`` [[0,0],[0,1],[1,0],[1,1]], ``y`` int64 ``(4,)`` [0,1,1,0]."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def curve_function(x: Any) -> np.ndarray:
    """The curve the ``fit`` tutorial learns: ``0.4x² + 0.3x·sin(15x) + 0.01·cos(50x) − 0.3``.

    Elementwise, same shape as ``x``; evaluated in float64 and returned in ``x``'s floating dtype (float64 for
    integer or Python input).
    """
    array = np.asarray(x)
    out_dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)
    t = array.astype(np.float64)
    y = 0.4 * t**2 + 0.3 * t * np.sin(15.0 * t) + 0.01 * np.cos(50.0 * t) - 0.3
    return y.astype(out_dtype)


def make_curve(n: int = 1000, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Random samples of ``curve_function`` for regression.

    Returns ``x`` float32 ``(n, 1)`` uniform in [0, 1) and ``y = curve_function(x)`` float32 ``(n, 1)``.
    """
    n = _check_n(n, "make_curve")
    x = _rng(seed).random((n, 1), dtype=np.float32)  # drawn in float32 so no value rounds up to 1.0
    return x, curve_function(x)


def curve_linspace(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The ``fit`` tutorial's test points: ``x = linspace(0, 1, n)`` float32 ``(n, 1)``, and its ``y``."""
    n = _check_n(n, "curve_linspace", minimum=2)
    x = np.linspace(0.0, 1.0, n, dtype=np.float32).reshape(n, 1)
    return x, curve_function(x)


GENDER_OFFSETS = (135.0, 66.0)
"""The gender tutorial's shift: features are (weight − 135 lb, height − 66 in)."""


@dataclass(frozen=True)
class Bunch:
    """A small labelled data set: ``data`` ``(N, D)`` float32, ``target`` ``(N,)`` int64 and descriptions."""

    data: np.ndarray
    target: np.ndarray
    names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    description: str = ""

    def __iter__(self) -> Any:
        """``X, y = bunch`` unpacks ``(data, target)``."""
        return iter((self.data, self.target))


def load_gender() -> Bunch:
    """Victor Zhou's four people: (weight − 135 lb, height − 66 in) -> 1 = female, 0 = male.

    ``data`` float32 ``(4, 2)`` = [[−2, −1], [25, 6], [17, 4], [−15, −6]], ``target`` int64 ``(4,)`` = [1, 0,
    0, 1], ``names`` = ["Alice", "Bob", "Charlie", "Diana"], ``feature_names`` = ["weight - 135 (lb)", "height
    - 66 (in)"], ``target_names`` = ["male", "female"] (index = label). Subtract ``GENDER_OFFSETS`` from raw
    (lb, in) measurements to encode a new person.
    """
    data = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]], dtype=np.float32)
    target = np.array([1, 0, 0, 1], dtype=np.int64)
    return Bunch(
        data=data,
        target=target,
        names=["Alice", "Bob", "Charlie", "Diana"],
        feature_names=["weight - 135 (lb)", "height - 66 (in)"],
        target_names=["male", "female"],
        description="Victor Zhou's gender example: shifted weight and height; 1 = female, 0 = male.",
    )


# ---------------------------------------------------------------------------------------------------------
# Classic 2-D classification sets (own implementations)
# ---------------------------------------------------------------------------------------------------------


def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, shuffle: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if shuffle:
        order = rng.permutation(X.shape[0])
        X, y = X[order], y[order]
    if noise > 0.0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X.astype(np.float32), y.astype(np.int64)


def make_moons(
    n: int = 100, noise: float = 0.0, seed: int | None = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Class 0 (``n - n // 2`` points): the upper half of the unit circle, ``(cos t, sin t)``, ``t`` in [0, π].
    Class 1 (``n // 2`` points): the lower half circle shifted to ``(1 − cos t, 0.5 − sin t)``.
    Gaussian noise of std ``noise`` is added to every coordinate. Returns ``X`` float32 ``(n, 2)``,
    ``y`` int64 ``(n,)``; rows are shuffled unless ``shuffle=False`` (then class 0 comes first).
    """
    n = _check_n(n, "make_moons", minimum=2)
    noise = _check_noise(noise, "make_moons")
    rng = _rng(seed)
    n_inner = n // 2
    n_outer = n - n_inner
    t_out = np.linspace(0.0, np.pi, n_outer)
    t_in = np.linspace(0.0, np.pi, n_inner)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    return _finish(X, y, noise, shuffle, rng)


def make_circles(
    n: int = 100, noise: float = 0.0, factor: float = 0.8, seed: int | None = None, shuffle: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the unit circle, class 1 on the circle of radius ``factor``.

    ``n - n // 2`` outer and ``n // 2`` inner points, evenly spaced in angle; ``0 < factor < 1``. Gaussian
    noise of std ``noise`` is added to every coordinate. Returns ``X`` float32 ``(n, 2)``, ``y`` int64
    ``(n,)``.
    """
    n = _check_n(n, "make_circles", minimum=2)
    noise = _check_noise(noise, "make_circles")
    if not 0.0 < float(factor) < 1.0:
        raise ValueError(f"make_circles: factor must lie in (0, 1), got {factor!r}")
    rng = _rng(seed)
    n_inner = n // 2
    n_outer = n - n_inner
    t_out = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_in = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = float(factor) * np.stack([np.cos(t_in), np.sin(t_in)], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    return _finish(X, y, noise, shuffle, rng)


def make_spirals(
    n: int = 100,
    classes: int = 2,
    noise: float = 0.0,
    seed: int | None = None,
    turns: float = 1.5,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class.

    Arm ``k`` (of ``classes``) has ``n // classes`` points (the first ``n % classes`` arms one more) at
    radius ``r = t`` and angle ``2πk / classes + 2π·turns·t`` for ``t`` evenly spaced in [0.05, 1]; Gaussian
    noise of std ``noise`` is added to every coordinate. Returns ``X`` float32 ``(n, 2)`` within about the
    unit disc, and ``y`` int64 ``(n,)`` in ``0 .. classes-1``.
    """
    n = _check_n(n, "make_spirals", minimum=1)
    noise = _check_noise(noise, "make_spirals")
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 1:
        raise ValueError(f"make_spirals: classes must be a positive integer, got {classes!r}")
    if classes > n:
        raise ValueError(f"make_spirals: need at least one point per class, got n={n} for {classes} classes")
    if not float(turns) > 0.0:
        raise ValueError(f"make_spirals: turns must be positive, got {turns!r}")
    rng = _rng(seed)
    counts = [n // classes + (1 if k < n % classes else 0) for k in range(classes)]
    parts, labels = [], []
    for k, count in enumerate(counts):
        t = np.linspace(0.05, 1.0, count)
        angle = 2.0 * np.pi * k / classes + 2.0 * np.pi * float(turns) * t
        parts.append(np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1))
        labels.append(np.full(count, k))
    return _finish(np.concatenate(parts), np.concatenate(labels), noise, shuffle, rng)
