"""A restricted unpickler that rebuilds NumPy arrays and refuses everything else.

``pickle.load`` on a file you did not write runs whatever the file says (a pickle can call ``os.system``).
``safe_load`` admits only the globals that NumPy's own array pickles use, each replaced by a guarded
version:

* ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` (protocols 0-4), only to
  build a plain ``numpy.ndarray``;
* ``numpy.ndarray`` (only as ``_reconstruct``'s argument) and ``numpy.dtype`` (plain numeric dtypes only:
  bool, integer, float, complex; no object, string or structured dtypes);
* ``numpy.core.numeric._frombuffer`` / ``numpy._core.numeric._frombuffer`` (protocol 5);
* ``_codecs.encode`` with the latin-1 codec only: how Python 3 writes ``bytes`` (the array data) at
  protocol 2 and below.

Containers (tuples, lists, dicts), strings, numbers and bytes need no globals. Any other global raises
``pickle.UnpicklingError`` naming it. Python 2 pickles (like the classic ``mnist.pkl.gz``) load with the
default ``encoding="latin1"``, as NumPy recommends for them.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from typing import IO, Any, ClassVar

import numpy as np

__all__ = ["RestrictedUnpickler", "safe_load", "safe_loads"]

_NUMERIC_KINDS = frozenset("biufc")
_numpy_reconstruct = np.empty(0).__reduce__()[0]  # numpy's own _reconstruct, whatever module it lives in


class _NDArrayName:
    """Stands for the global ``numpy.ndarray``: NumPy's pickles only pass it to ``_reconstruct``; calling it
    raises, so a pickle cannot call the ``ndarray`` constructor with arguments of its own choosing."""

    def __repr__(self) -> str:
        return "numpy.ndarray"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise pickle.UnpicklingError("safe_load: refusing to call numpy.ndarray directly")


_NDARRAY = _NDArrayName()


def _check_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype:
        raise pickle.UnpicklingError(
            f"safe_load: refusing dtype {dtype}: only plain numeric dtypes (bool, integer, float, complex)"
        )
    return dtype


def _dtype(obj: Any, align: Any = False, copy: Any = True) -> np.dtype:
    # Always a fresh copy: BUILD then sets its state, and must never touch NumPy's shared builtin dtypes.
    if isinstance(obj, (bytes, bytearray)):
        obj = bytes(obj).decode("latin1")
    if not isinstance(obj, (str, np.dtype)):
        raise pickle.UnpicklingError(f"safe_load: refusing dtype from {type(obj).__name__}")
    try:
        dtype = np.dtype(obj, align=bool(align), copy=True)
    except (TypeError, ValueError) as exc:
        raise pickle.UnpicklingError(f"safe_load: bad dtype {obj!r:.80}") from exc
    return _check_dtype(dtype)


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(
            f"safe_load: refusing to reconstruct {subtype!r:.80}; only numpy.ndarray"
        )
    return _numpy_reconstruct(np.ndarray, shape, _dtype(dtype))


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: str, axis_order: Any = None) -> np.ndarray:
    array = np.frombuffer(buf, dtype=_dtype(dtype))
    if order == "K" and axis_order is not None:
        return array.reshape(shape, order="C").transpose(axis_order)
    return array.reshape(shape, order=order)


def _latin1_encode(text: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"safe_load: refusing _codecs.encode with encoding {encoding!r:.40}")
    return text.encode("latin1", "strict")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("_codecs", "encode"): _latin1_encode,
}


def _check_state(inst: Any, state: Any) -> tuple:
    """The state BUILD may apply: only to a dtype, or to an array with a plain numeric dtype and raw data.

    An array's dtype is replaced by a private copy, so a later BUILD on the (memoised) dtype object cannot
    change an array that already uses it.
    """
    if not isinstance(inst, (np.dtype, np.ndarray)) or not isinstance(state, tuple):
        raise pickle.UnpicklingError(
            f"safe_load: refusing to set the state of {type(inst).__name__} (only NumPy arrays and dtypes)"
        )
    if isinstance(inst, np.dtype):
        return state
    checked = []
    for item in state:
        if isinstance(item, np.dtype):
            item = _check_dtype(np.dtype(item, copy=True))
        elif isinstance(item, list):
            raise pickle.UnpicklingError("safe_load: refusing array data given as a list of objects")
        checked.append(item)
    if not any(isinstance(item, np.dtype) for item in checked):
        raise pickle.UnpicklingError("safe_load: an array's state must name its dtype")
    return tuple(checked)


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that admits only NumPy array reconstruction (see the module docstring).

    It is the pure-Python ``pickle`` unpickler (the C one cannot have its BUILD step checked): ``find_class``
    answers only the allowed globals, and BUILD may only set the state of a NumPy dtype (after which it
    must still hold no Python objects) or of an array whose dtype holds none.
    """

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"safe_load: refusing to load global '{module}.{name}': only NumPy arrays "
                "(with tuples, lists, dicts, strings and numbers) may be unpickled"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(f"safe_load: refusing persistent id {pid!r:.80}")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        checked = _check_state(inst, state)
        inst.__setstate__(checked)
        if isinstance(inst, np.dtype):
            _check_dtype(inst)

    dispatch[pickle.BUILD[0]] = load_build


def safe_load(source: str | os.PathLike | IO[bytes], encoding: str = "latin1") -> Any:
    """Unpickle NumPy arrays (and plain containers of them) from a path or binary file, gzipped or not.

    Raises ``pickle.UnpicklingError`` for any global other than NumPy array reconstruction.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return safe_load(handle, encoding=encoding)
    buffered = source if hasattr(source, "peek") else io.BufferedReader(source)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
        with gzip.GzipFile(fileobj=buffered, mode="rb") as stream:
            return RestrictedUnpickler(stream, encoding=encoding).load()
    return RestrictedUnpickler(buffered, encoding=encoding).load()


def safe_loads(data: bytes, encoding: str = "latin1") -> Any:
    """``safe_load`` from bytes (gzip-compressed or not)."""
    return safe_load(io.BytesIO(data), encoding=encoding)
