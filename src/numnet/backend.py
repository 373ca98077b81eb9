"""Layer 1: the dtype policy and the random generator.

numnet computes with NumPy directly; this module holds the policy every part of it shares:

* float32 is the training default (half the memory traffic of float64, which is what the CPU is bound
  by); float64 is selectable for gradient checks and exact comparisons.
* One seeded ``numpy.random.Generator`` serves every random draw in numnet (initialisers, dropout,
  shuffling), so ``manual_seed(n)`` makes a whole run reproducible.
* Fixed numbers in hot formulas (``out += 1``) are cached 0-d arrays of the operands' dtype
  (``constant``): NumPy then skips resolving a Python scalar at every call. A zero to compare a large array
  with is a whole array of zeros (``zeros_like_cached``), the operand NumPy's ``maximum`` is fastest with.
* Freed array memory stays in the process (``keep_freed_memory``): a training step allocates the same
  temporaries every time, and handing them back to the OS made every step fault them in again.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

import numpy as np

try:  # not on every platform (WASI): zeros_like_cached then uses np.zeros
    import mmap
except ImportError:  # pragma: no cover - CPython on Linux, macOS and Windows has it
    mmap = None  # type: ignore[assignment]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_default_dtype: np.dtype = np.dtype(np.float32)
_rng: np.random.Generator = np.random.default_rng()

# glibc's mallopt parameters (malloc.h) and the values numnet sets: blocks up to 32 MiB (glibc's maximum)
# come from the heap instead of their own mmap, and up to 256 MiB of freed heap is kept instead of trimmed.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 * 2**20, 256 * 2**20


def keep_freed_memory() -> bool:
    """Keep freed array memory in the process instead of returning it to the OS (Linux, glibc); True if set.

    Why: a SimpleConvNet step (batch 100) allocates ≈ 23 MB of 7 MB temporaries. With glibc's defaults each
    one is mmapped fresh (or trimmed off the heap when freed) and faulted in page by page on every step:
    ≈ 5,300–5,800 page faults per step, 29–32 → 14–18 ms per step once they stay (interleaved, 2 threads).
    PyTorch keeps a caching allocator for the same reason. Costs: the process keeps up to 256 MiB of freed
    memory for reuse (peak memory is unchanged: it is the high-water mark either way). numnet calls this at
    import; ``NUMNET_KEEP_FREED_MEMORY=0`` in the environment leaves the allocator as it is.
    """
    if not sys.platform.startswith("linux"):
        return False
    # glibc is already loaded in every Linux Python: look mallopt up in the process, whatever its soname
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:  # another C library (musl, …): nothing to tune
        return False
    results = [mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)]
    return all(results)  # mallopt returns 1 on success, 0 for a value it refuses


if os.environ.get("NUMNET_KEEP_FREED_MEMORY", "1") != "0":
    keep_freed_memory()


_CONSTANTS: dict[tuple[float, np.dtype], np.ndarray] = {}


def constant(value: float, dtype: np.dtype) -> np.ndarray:
    """``value`` as a cached, read-only 0-d array of ``dtype``, for the fixed numbers of formulas (0, 1).

    With an array of that dtype it gives the numbers the Python number gives, since NumPy casts a Python
    number to the array's dtype (NEP 50), but the ufunc skips resolving the Python scalar's type: ``out += 1``
    on a tiny array takes about 0.9 µs, ``out += constant(1, out.dtype)`` about 0.45 µs. (0.0 and −0.0 are
    one key: this is not for signed zeros.)
    """
    key = (value, dtype)
    array = _CONSTANTS.get(key)
    if array is None:
        array = _CONSTANTS[key] = np.array(value, dtype=dtype)
        array.flags.writeable = False
    return array


_ZEROS: dict[np.dtype, np.ndarray] = {}
#: Below this many elements ``zeros_like_cached`` gives the 0-d zero: making a view costs more than it saves.
_ZEROS_MIN_SIZE = 512
#: Nor is the buffer grown past this many bytes per dtype: larger arrays get the 0-d zero, so that the buffer
#: stays small where it is real memory (the ``np.zeros`` fallback).
_ZEROS_MAX_BYTES = 64 * 2**20


def zeros_like_cached(x: np.ndarray) -> np.ndarray:
    """Zeros of ``x``'s shape, dtype and memory order, read-only, as an operand for formulas such as
    relu = max(0, x); the cached 0-d zero where that would not be faster.

    Why not always the 0-d ``constant(0, dtype)``: with NumPy 2.4 ``np.maximum(zero_0d, x)`` runs a slow loop,
    ≈ 4× the time of ``np.maximum(zeros, x)`` with a contiguous array of zeros (123 against 32 µs on
    (1000, 256) float32, 196 against 45 µs on (100, 30, 12, 12)), although the latter reads twice the memory.
    That holds for a C- or F-contiguous ``x`` (the zeros take its order); a strided ``x`` gets the 0-d zero,
    which is as fast there, as do arrays under 512 elements or over 64 MiB. The zeros are a view of one flat
    buffer per dtype, grown in powers of two to the largest size asked for.
    """
    size, dtype = x.size, x.dtype
    if size < _ZEROS_MIN_SIZE or size * dtype.itemsize > _ZEROS_MAX_BYTES:
        return constant(0, dtype)
    flags = x.flags
    order = "C" if flags.c_contiguous else "F" if flags.f_contiguous else None
    if order is None:
        return constant(0, dtype)
    buffer = _ZEROS.get(dtype)
    if buffer is None or buffer.size < size:
        try:
            buffer = _ZEROS[dtype] = _zero_pages(1 << (size - 1).bit_length(), dtype)
        except MemoryError:
            return constant(0, dtype)
    return buffer[:size].reshape(x.shape, order=order)


def _zero_pages(size: int, dtype: np.dtype) -> np.ndarray:
    """A read-only array of ``size`` zeros backed by the kernel's shared zero page: a private anonymous
    mapping that nothing writes, so it costs address space, not memory, and reading it costs no memory
    bandwidth. (``np.zeros`` does not promise that: calloc clears recycled heap memory by writing it, which
    added 14–16 MiB to SimpleConvNet's peak RSS.) Where there is no such mapping (Windows), ``np.zeros``."""
    try:
        pages = mmap.mmap(  # type: ignore[union-attr]
            -1, size * dtype.itemsize, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ
        )
        return np.frombuffer(pages, dtype=dtype, count=size)
    except (AttributeError, OSError, ValueError, TypeError):  # no POSIX mmap, or a dtype without a buffer
        buffer = np.zeros(size, dtype=dtype)
        buffer.flags.writeable = False
        return buffer


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


# The bit generators a saved state may name: an explicit table, so a file can never pick a function to call.
_BIT_GENERATORS: dict[str, type[np.random.BitGenerator]] = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


def _check_like(value: Any, template: Any, where: str) -> None:
    """``value`` has the structure of ``template`` (a fresh generator's state): same keys, ints, arrays."""
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            found = sorted(map(str, value)) if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"set_rng_state: {where} must have the keys {sorted(template)}, got {found}")
        for key, item in template.items():
            _check_like(value[key], item, f"{where}[{key!r}]")
    elif isinstance(template, np.ndarray):
        if isinstance(value, np.ndarray):
            fits = value.shape == template.shape and value.dtype.kind in "iu"
        else:  # after a trip through JSON: a list of ints
            fits = (
                isinstance(value, list)
                and len(value) == template.size
                and template.ndim == 1
                and all(type(item) is int and 0 <= item < 2**64 for item in value)
            )
        if not fits:
            raise ValueError(
                f"set_rng_state: {where} must be {template.size} unsigned integers (an array or list), "
                f"got {type(value).__name__} {getattr(value, 'shape', '')}"
            )
    elif isinstance(template, str):
        if value != template:
            raise ValueError(f"set_rng_state: {where} must be {template!r}, got {value!r:.60}")
    elif isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"set_rng_state: {where} must be a non-negative integer, got {value!r:.60}")


def _checked_bit_generator(state: Any) -> np.random.BitGenerator:
    """A fresh bit generator of the kind ``state`` names, after checking ``state`` has its structure."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if not isinstance(name, str) or name not in _BIT_GENERATORS:
        shown = repr(name)[:60] if isinstance(state, dict) else f"a {type(state).__name__}, not a dict"
        raise ValueError(
            f"set_rng_state: the state names bit generator {shown}; expected one of {sorted(_BIT_GENERATORS)}"
        )
    bit_generator = _BIT_GENERATORS[name]()
    _check_like(state, bit_generator.state, "state")
    return bit_generator


def check_rng_state(state: Any) -> None:
    """Raise ``ValueError`` unless ``state`` is one ``set_rng_state`` accepts (nothing is changed)."""
    bit_generator = _checked_bit_generator(state)
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"set_rng_state: NumPy refused the {state['bit_generator']} state ({exc})") from None


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``.

    ``state["bit_generator"]`` must name one of NumPy's bit generators (PCG64, PCG64DXSM, MT19937, Philox,
    SFC64), and the rest must have that generator's structure; anything else raises ``ValueError``.
    """
    global _rng
    bit_generator = _checked_bit_generator(state)
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"set_rng_state: NumPy refused the {state['bit_generator']} state ({exc})") from None
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
