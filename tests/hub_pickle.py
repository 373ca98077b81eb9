"""Write pickles in the exact opcode layout of the classic ``mnist.pkl.gz`` (Python 2, protocol 2).

numnet reads that layout only (``numnet.data.pickle_parser``); these helpers let tests build such files,
well-formed or tampered with, without pickling anything. ``ops`` gives the raw opcode bytes for hand-made
attacks.
"""

from __future__ import annotations

import struct

import numpy as np

RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\n"
FROMBUFFER = b"cnumpy.core.numeric\n_frombuffer\n"
NDARRAY = b"cnumpy\nndarray\n"
DTYPE = b"cnumpy\ndtype\n"
PROTO2 = b"\x80\x02"
MARK, TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"(", b"t", b"\x85", b"\x86", b"\x87"
REDUCE, BUILD, STOP, NONE, NEWFALSE = b"R", b"b", b".", b"N", b"\x89"


def binint(n: int) -> bytes:
    """The shortest BININT* opcode for ``n``, as Python 2 wrote them."""
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def string(data: bytes) -> bytes:
    """SHORT_BINSTRING / BINSTRING: a Python 2 str (raw bytes)."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def put(index: int) -> bytes:
    return b"q" + bytes([index])


def get(index: int) -> bytes:
    return b"h" + bytes([index])


def shape_tuple(shape: tuple[int, ...]) -> bytes:
    body = b"".join(binint(n) for n in shape)
    if len(shape) <= 3:
        return body + (b")", TUPLE1, TUPLE2, TUPLE3)[len(shape)]
    return MARK + body + TUPLE


def dtype_state(byteorder: bytes = b"<") -> bytes:
    return (
        MARK
        + binint(3)
        + string(byteorder)
        + NONE
        + NONE
        + NONE
        + binint(-1)
        + binint(-1)
        + binint(0)
        + TUPLE
    )


def new_array() -> bytes:
    """``_reconstruct(ndarray, (0,), 'b')``: an empty array waiting for BUILD."""
    return RECONSTRUCT + NDARRAY + binint(0) + TUPLE1 + string(b"b") + TUPLE3 + REDUCE


def array_state(shape: tuple[int, ...], code: bytes, raw: bytes) -> bytes:
    """``(1, shape, dtype(code, 0, 1) with its state, False, raw)`` then BUILD."""
    dtype = DTYPE + string(code) + binint(0) + binint(1) + TUPLE3 + REDUCE + dtype_state() + BUILD
    return MARK + binint(1) + shape_tuple(shape) + dtype + NEWFALSE + string(raw) + TUPLE + BUILD


def array(value: np.ndarray) -> bytes:
    """One array, exactly as the MNIST file writes it (float32 ``'f4'`` or int64 ``'i8'``)."""
    code = {np.dtype(np.float32): b"f4", np.dtype(np.int64): b"i8"}[value.dtype]
    data = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<")).tobytes()
    return new_array() + array_state(value.shape, code, data)


def hub_pickle(splits: tuple[tuple[np.ndarray, np.ndarray], ...]) -> bytes:
    """The whole file (uncompressed): a tuple of ``(images, labels)`` pairs."""
    body = b"".join(array(X) + array(y) + TUPLE2 for X, y in splits)
    return PROTO2 + body + {1: TUPLE1, 2: TUPLE2, 3: TUPLE3}[len(splits)] + STOP
