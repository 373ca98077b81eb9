"""The 8×8 handwritten digits that ship with scikit-learn (1,797 images), a small real data set."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits, scaled to [0, 1].

    Returns ``X`` float32 ``(1797, 64)`` (the 8×8 images row by row, pixel values 0..16 divided by 16) and
    ``y`` int64 ``(1797,)`` in 0..9. Needs scikit-learn (``pip install numnet[sklearn]``); nothing is
    downloaded.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the 8x8 digits: pip install numnet[sklearn]"
        ) from exc
    bunch = _sk_load_digits()
    X = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target).astype(np.int64)
    return X, y
