"""Layer 1: the dtype policy and the random generator.

numnet computes with NumPy directly; this module holds the policy every part of it shares:

* float32 is the training default (half the memory traffic of float64, which is what the CPU is bound
  by); float64 is selectable for gradient checks and exact comparisons.
* One seeded ``numpy.random.Generator`` serves every random draw in numnet (initialisers, dropout,
  shuffling), so ``manual_seed(n)`` makes a whole run reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_default_dtype: np.dtype = np.dtype(np.float32)
_rng: np.random.Generator = np.random.default_rng()


def get_default_dtype() -> np.dtype:
    """The floating dtype new tensors and parameters get when none is given (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype for new tensors and parameters: ``np.float32`` (default) or ``np.float64``."""
    global _default_dtype
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(
            f"set_default_dtype: {dtype!r} is not a dtype; use np.float32 or np.float64"
        ) from exc
    if resolved not in _FLOAT_DTYPES:
        raise ValueError(f"set_default_dtype: {resolved} is not supported; use np.float32 or np.float64")
    _default_dtype = resolved


class default_dtype:
    """Context manager that sets the default dtype and restores the previous one on exit."""

    def __init__(self, dtype: Any) -> None:
        self._dtype = dtype
        self._previous = _default_dtype

    def __enter__(self) -> default_dtype:
        self._previous = _default_dtype
        set_default_dtype(self._dtype)
        return self

    def __exit__(self, *exc: object) -> None:
        set_default_dtype(self._previous)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the one generator every random draw in numnet uses; returns it."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng() -> np.random.Generator:
    """The generator numnet draws from (see ``manual_seed``)."""
    return _rng


def get_rng_state() -> dict:
    """The generator's state, a JSON-friendly dict (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    global _rng
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    _rng = np.random.Generator(bit_generator)


def set_num_threads(n: int) -> None:
    """Limit the threads of NumPy's BLAS (matrix products) to ``n``, via threadpoolctl.

    Call it once at start-up. Needs the optional ``threadpoolctl`` package (``pip install numnet[train]``).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError as exc:
        raise ImportError("set_num_threads needs threadpoolctl: pip install threadpoolctl") from exc
    global _thread_limiter
    _thread_limiter = threadpool_limits(limits=int(n), user_api="blas")


_thread_limiter = None
