"""Read the classic ``mnist.pkl.gz`` by parsing its opcodes: nothing in the file is called or executed.

Unpickling a file you did not write runs whatever the file says, and even an allow-list of NumPy's own
functions is not safe (``_reconstruct`` + BUILD, a ``_frombuffer`` view, then BUILD again frees the buffer
that the view still reads). So numnet never unpickles: ``parse_array_pickle`` walks the opcode stream with
``pickletools.genops`` (which only decodes) and accepts exactly the shape that the classic MNIST file (a
Python 2 pickle, protocol 2) has, building each array itself from the raw bytes:

* ``PROTO 2``; the globals ``numpy.core.multiarray._reconstruct`` (or ``numpy._core.multiarray``),
  ``numpy.ndarray`` and ``numpy.dtype``, which are recognised by name and never looked up;
* an array is ``_reconstruct(ndarray, (0,), 'b')`` then one BUILD with
  ``(1, shape, dtype, False, raw_bytes)``: a C-ordered array whose bytes are stored as a string;
* a dtype is ``dtype('f4' | 'i8', 0, 1)`` then one BUILD with ``(3, '<', None, None, None, -1, -1, 0)``;
* tuples of those (MARK/TUPLE, TUPLE1-3), small integers, None, booleans, the memo (PUT/GET), and STOP.

Every other opcode, global, call or state is refused with ``PickleParseError`` naming the opcode and its
byte offset. Each array is checked (declared shape × item size equals the bytes present) and then built
with ``np.frombuffer`` over a private bytearray that numnet's own reader filled from the file and that
nothing else refers to (a string the memo repeats is copied for each further array), so no array shares
memory with anything else and nothing can free it. Long fields are read in chunks, so memory grows only
with the bytes actually present; the whole stream is capped at ``MAX_PICKLE_BYTES``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickletools
import zlib
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

__all__ = ["MAX_PICKLE_BYTES", "PickleParseError", "parse_array_pickle", "read_array_pickle"]

MAX_PICKLE_BYTES = 512 << 20
"""The most bytes a (decompressed) pickle may have: the classic MNIST file is 220,080,342."""

_GZIP_MAGIC = b"\x1f\x8b"
_RECONSTRUCT_NAMES = frozenset({"numpy.core.multiarray _reconstruct", "numpy._core.multiarray _reconstruct"})
_NDARRAY_NAME = "numpy ndarray"
_DTYPE_NAME = "numpy dtype"
_DTYPES = {"f4": np.dtype("<f4"), "i8": np.dtype("<i8")}  # the codes the MNIST file uses, little-endian
_DTYPE_STATE = (3, "<", None, None, None, -1, -1, 0)  # NumPy's dtype state for a plain little-endian type
_MAX_NDIM = 8
_MAX_LINE = 256
_CHUNK = 16 << 20
_MAX_NESTING = 8


class PickleParseError(ValueError):
    """A pickle that is not the plain array file numnet reads; the message names the opcode and offset."""


@dataclass(frozen=True)
class _Global:
    name: str  # "module qualname", as the GLOBAL opcode spells it


class _Text:
    """A string opcode's payload (Python 2 ``str``: bytes that pickletools decodes as latin-1).

    ``raw``: for long strings (array data), the bytearray the reader filled from the file. Nothing but
    this object refers to it, so the first array built from it may take it over (no copy); any later use
    (the memo can repeat a string) gets a copy, so no two arrays ever share memory.
    """

    def __init__(self, text: str, raw: bytearray | None = None) -> None:
        self.text, self._raw = text, raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Text) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]

    def take_buffer(self) -> bytearray:
        """A writable buffer of the bytes that no one else holds."""
        raw, self._raw = self._raw, None
        return raw if raw is not None else bytearray(self.text, "latin-1")


class _DtypeSpec:
    def __init__(self, code: str) -> None:
        self.dtype = _DTYPES[code]
        self.built = False


class _ArraySpec:
    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.array: np.ndarray | None = None


def _refuse(name: str, opcode: str, pos: int, why: str) -> PickleParseError:
    return PickleParseError(
        f"{name}: refusing {opcode} at byte {pos}: {why}; numnet reads only plain NumPy arrays "
        "(the classic mnist.pkl.gz layout) and never unpickles"
    )


def _is_text(value: Any, expected: str) -> bool:
    return isinstance(value, _Text) and value.text == expected


class _BoundedReader:
    """A read-only view of a binary stream that refuses to read past ``limit`` bytes in all.

    pickletools reads a string's declared length in one call; refusing a length that the file cannot
    hold keeps a lying length field from allocating memory.
    """

    def __init__(self, stream: IO[bytes], limit: int, name: str) -> None:
        self._stream, self._limit, self._name, self._pos = stream, limit, name, 0
        self._long_read: tuple[int, bytearray] | None = None  # (offset, bytes) of the last long read

    def take_long_read(self, offset: int, length: int) -> bytearray | None:
        """The bytes of the last long read if it started at ``offset`` and has ``length`` bytes; once."""
        kept, self._long_read = self._long_read, None
        if kept is not None and kept[0] == offset and len(kept[1]) == length:
            return kept[1]
        return None

    def read(self, n: int = -1) -> bytes | bytearray:
        if n < 0 or (n > _MAX_LINE and self._pos + n > self._limit):  # short reads just come back short
            raise PickleParseError(
                f"{self._name}: a field at byte {self._pos} declares {n} bytes, more than the "
                f"{self._limit - self._pos} left in the file (the limit is {self._limit})"
            )
        if n <= _MAX_LINE:
            chunk = self._stream.read(n)
            self._pos += len(chunk)
            return chunk
        # Array data: read into a bytearray that grows only with the bytes actually there, and keep it,
        # so the array can be made from these bytes instead of re-encoding pickletools' decoded text.
        data, start = bytearray(), self._pos
        while len(data) < n:
            piece = self._stream.read(min(n - len(data), _CHUNK))
            if not piece:
                break
            data += piece
        self._pos += len(data)
        self._long_read = (start, data)
        return data

    def readline(self) -> bytes:  # GLOBAL's "module\nname\n": short lines only
        line = self._stream.readline(min(_MAX_LINE, self._limit - self._pos))
        self._pos += len(line)
        return line

    def tell(self) -> int:
        return self._pos

    def at_end(self) -> bool:
        return self._pos >= self._limit or not self._stream.read(1)


def _is_int(value: Any, expected: int) -> bool:
    return type(value) is int and value == expected


def _reduce(func: Any, args: Any, pos: int, name: str) -> Any:
    """What REDUCE gives for the two calls the file makes; nothing is called."""
    if not isinstance(func, _Global) or type(args) is not tuple:
        raise _refuse(name, "REDUCE", pos, f"a call of {type(func).__name__}")
    if func.name in _RECONSTRUCT_NAMES:
        if (
            len(args) == 3
            and args[0] == _Global(_NDARRAY_NAME)
            and type(args[1]) is tuple
            and len(args[1]) == 1
            and _is_int(args[1][0], 0)
            and _is_text(args[2], "b")
        ):
            return _ArraySpec(pos)
        raise _refuse(name, "REDUCE", pos, "_reconstruct with arguments other than (ndarray, (0,), 'b')")
    if func.name == _DTYPE_NAME:
        code = args[0].text if len(args) == 3 and isinstance(args[0], _Text) else None
        if code in _DTYPES and _is_int(args[1], 0) and _is_int(args[2], 1):
            return _DtypeSpec(code)
        raise _refuse(name, "REDUCE", pos, f"a dtype other than {sorted(_DTYPES)} given as (code, 0, 1)")
    raise _refuse(name, "REDUCE", pos, f"a call of {func.name.replace(' ', '.')}")


def _build(target: Any, state: Any, pos: int, name: str) -> None:
    """BUILD: set a fresh dtype's byte order, or fill a fresh array from raw bytes. Once each."""
    if isinstance(target, _DtypeSpec) and not target.built:
        if type(state) is not tuple or len(state) != len(_DTYPE_STATE):
            raise _refuse(name, "BUILD", pos, "a dtype state that is not NumPy's 8-item tuple")
        plain = tuple(item.text if isinstance(item, _Text) else item for item in state)
        if plain != _DTYPE_STATE or any(
            type(a) is not type(b) for a, b in zip(plain, _DTYPE_STATE, strict=True)
        ):
            raise _refuse(name, "BUILD", pos, f"the dtype state {plain!r:.120}, not {_DTYPE_STATE}")
        target.built = True
        return
    if not isinstance(target, _ArraySpec) or target.array is not None:
        built = isinstance(target, (_ArraySpec, _DtypeSpec))
        what = "an array or dtype that was already built" if built else f"a {type(target).__name__}"
        raise _refuse(name, "BUILD", pos, f"setting the state of {what}")
    if not (type(state) is tuple and len(state) == 5 and _is_int(state[0], 1)):
        raise _refuse(name, "BUILD", pos, "an array state that is not (1, shape, dtype, False, bytes)")
    _, shape, dtype_spec, fortran, raw = state
    if (
        type(shape) is not tuple
        or not 1 <= len(shape) <= _MAX_NDIM
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise _refuse(name, "BUILD", pos, f"the array shape {shape!r:.80} (1 to {_MAX_NDIM} sizes ≥ 0)")
    if not isinstance(dtype_spec, _DtypeSpec) or not dtype_spec.built:
        raise _refuse(name, "BUILD", pos, "an array whose dtype is not a built numpy.dtype")
    if fortran is not False:
        raise _refuse(name, "BUILD", pos, "a Fortran-ordered array (only C order)")
    if not isinstance(raw, _Text):
        raise _refuse(name, "BUILD", pos, f"array data given as {type(raw).__name__}, not raw bytes")
    count = 1
    for size in shape:
        count *= size
    needed = count * dtype_spec.dtype.itemsize
    if needed != len(raw.text):
        why = f"shape {shape} of {dtype_spec.dtype} needs {needed} bytes, the data has {len(raw.text)}"
        raise _refuse(name, "BUILD", pos, why)
    array = np.frombuffer(raw.take_buffer(), dtype=dtype_spec.dtype).reshape(shape)  # sole owner: no copy
    target.array = array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _result(value: Any, pos: int, name: str, depth: int = 0) -> Any:
    """The finished value: tuples of built arrays, nothing else."""
    if isinstance(value, _ArraySpec) and value.array is not None:
        return value.array
    if type(value) is tuple and value and depth < _MAX_NESTING:
        return tuple(_result(item, pos, name, depth + 1) for item in value)
    what = "an array that was never built" if isinstance(value, _ArraySpec) else f"a {type(value).__name__}"
    raise _refuse(name, "STOP", pos, f"a result holding {what} (only nested tuples of arrays)")


def _parse(stream: _BoundedReader, name: str) -> Any:
    stack: list[Any] = []
    marks: list[int] = []
    memo: dict[int, Any] = {}
    pos, opname = 0, "PROTO"

    def above_mark() -> int:
        return len(stack) - (marks[-1] if marks else 0)

    try:
        for opcode, arg, op_pos in pickletools.genops(stream):
            pos, opname = op_pos if op_pos is not None else pos, opcode.name
            if opname == "PROTO":
                if arg != 2 or pos != 0:
                    raise _refuse(
                        name, opname, pos, f"protocol {arg} (the file is protocol 2, from its start)"
                    )
            elif opname == "GLOBAL":
                if arg not in _RECONSTRUCT_NAMES and arg not in (_NDARRAY_NAME, _DTYPE_NAME):
                    raise _refuse(name, opname, pos, f"the global {arg.replace(' ', '.')!r}")
                stack.append(_Global(arg))
            elif opname in ("BININT", "BININT1", "BININT2"):
                stack.append(arg)
            elif opname == "NONE":
                stack.append(None)
            elif opname in ("NEWFALSE", "NEWTRUE"):
                stack.append(opname == "NEWTRUE")
            elif opname == "SHORT_BINSTRING":
                stack.append(_Text(arg))
            elif opname == "BINSTRING":  # opcode byte, 4-byte length, then the bytes
                stack.append(_Text(arg, stream.take_long_read(pos + 5, len(arg))))
            elif opname == "MARK":
                marks.append(len(stack))
            elif opname == "TUPLE":
                if not marks:
                    raise _refuse(name, opname, pos, "a TUPLE without a MARK")
                start = marks.pop()
                items = tuple(stack[start:])
                del stack[start:]
                stack.append(items)
            elif opname in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(opname[-1])
                if above_mark() < n:
                    raise _refuse(name, opname, pos, "too few items on the stack")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif opname in ("BINPUT", "LONG_BINPUT"):
                if above_mark() < 1:
                    raise _refuse(name, opname, pos, "nothing on the stack to remember")
                memo[arg] = stack[-1]
            elif opname in ("BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise _refuse(name, opname, pos, f"memo entry {arg}, which was never stored")
                stack.append(memo[arg])
            elif opname in ("REDUCE", "BUILD"):
                if above_mark() < 2:
                    raise _refuse(name, opname, pos, "too few items on the stack")
                second = stack.pop()
                if opname == "REDUCE":
                    stack.append(_reduce(stack.pop(), second, pos, name))
                else:
                    _build(stack[-1], second, pos, name)
            elif opname == "STOP":
                if marks or len(stack) != 1:
                    raise _refuse(name, opname, pos, f"{len(stack)} values left on the stack, not 1")
                if not stream.at_end():
                    raise _refuse(name, opname, pos, "bytes after the end of the pickle")
                return _result(stack[0], pos, name)
            else:
                raise _refuse(name, opname, pos, "an opcode the MNIST file does not use")
    except PickleParseError:
        raise
    except (ValueError, EOFError, OSError, zlib.error) as exc:  # pickletools' decoding errors, bad gzip
        raise PickleParseError(
            f"{name}: not a readable pickle near byte {pos} (after {opname}): {type(exc).__name__}: {exc}"
        ) from None
    raise PickleParseError(f"{name}: the pickle ends without STOP")  # pragma: no cover - genops raises first


def parse_array_pickle(data: bytes, name: str = "<bytes>") -> Any:
    """Parse an (uncompressed) array pickle of the classic MNIST layout into nested tuples of ndarrays.

    Raises ``PickleParseError`` (a ``ValueError``) naming the first opcode outside that layout and its byte
    offset. Nothing is imported, looked up or called: the arrays are built from their raw bytes.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"parse_array_pickle: expected bytes, got {type(data).__name__}")
    if len(data) > MAX_PICKLE_BYTES:
        raise PickleParseError(
            f"{name}: {len(data)} bytes is more than the {MAX_PICKLE_BYTES} a pickle may have"
        )
    return _parse(_BoundedReader(io.BytesIO(data), len(data), name), name)


def read_array_pickle(source: str | os.PathLike | IO[bytes], name: str | None = None) -> Any:
    """``parse_array_pickle`` of a file (a path or a seekable binary file object), gzip-compressed or not.

    Gzip is recognised by its magic bytes. The data may be at most ``MAX_PICKLE_BYTES`` (after
    decompression; for gzip also at most the size its trailer declares), so a lying length field is
    refused before anything is allocated.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as handle:
            return read_array_pickle(handle, name or os.fspath(source))
    shown = name or str(getattr(source, "name", "<stream>"))
    size = source.seek(0, os.SEEK_END)
    source.seek(0)
    if source.read(2) != _GZIP_MAGIC:
        source.seek(0)
        return _parse(_BoundedReader(source, min(size, MAX_PICKLE_BYTES + 1), shown), shown)
    if size < 18:
        raise PickleParseError(f"{shown}: truncated gzip file ({size} bytes)")
    source.seek(size - 4)
    declared = int.from_bytes(source.read(4), "little")  # gzip's trailer: the data's size mod 2**32
    source.seek(0)
    with gzip.GzipFile(fileobj=source, mode="rb") as stream:
        return _parse(_BoundedReader(stream, min(declared, MAX_PICKLE_BYTES + 1), shown), shown)
