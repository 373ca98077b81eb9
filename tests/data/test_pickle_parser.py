"""The MNIST pickle parser: the classic file's layout is read exactly; nothing else is accepted."""

from __future__ import annotations

import gzip
import io
import os
import pickle

import numpy as np
import pytest

import hub_pickle as hp
from numnet.data import PickleParseError, read_array_pickle
from numnet.data.pickle_parser import parse_array_pickle


def _splits(seed: int = 0, sizes: tuple[int, ...] = (5, 2, 3)) -> tuple:
    rng = np.random.default_rng(seed)
    return tuple(
        (rng.integers(0, 256, size=(n, 784)).astype(np.float32) / 256, rng.integers(0, 10, size=n))
        for n in sizes
    )


def _assert_same(back: tuple, splits: tuple) -> None:
    assert type(back) is tuple and len(back) == len(splits)
    for (X, y), (X0, y0) in zip(back, splits, strict=True):
        assert X.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(y, y0)
        assert X.flags.writeable and y.flags.writeable and not np.shares_memory(X, y)


def test_reads_the_mnist_layout_from_bytes_paths_files_and_gzip(tmp_path):
    splits = _splits()
    raw = hp.hub_pickle(splits)
    _assert_same(parse_array_pickle(raw), splits)
    plain, packed = tmp_path / "m.pkl", tmp_path / "m.pkl.gz"
    plain.write_bytes(raw)
    packed.write_bytes(gzip.compress(raw))
    _assert_same(read_array_pickle(plain), splits)
    _assert_same(read_array_pickle(packed), splits)
    with open(packed, "rb") as handle:
        _assert_same(read_array_pickle(handle), splits)
    _assert_same(read_array_pickle(io.BytesIO(raw)), splits)


def test_memo_reuse_of_globals_and_dtypes_is_read_like_the_real_file():
    # The real file remembers _reconstruct, ndarray and each dtype once (BINPUT) and reuses them (BINGET).
    X = np.arange(6, dtype=np.float32).reshape(2, 3)
    dtype = hp.DTYPE + hp.string(b"f4") + hp.binint(0) + hp.binint(1) + hp.TUPLE3 + hp.REDUCE + hp.put(3)
    first = (
        hp.RECONSTRUCT + hp.put(1) + hp.NDARRAY + hp.put(2) + hp.binint(0) + hp.TUPLE1 + hp.string(b"b")
        + hp.TUPLE3 + hp.REDUCE
        + hp.MARK + hp.binint(1) + hp.shape_tuple((2, 3)) + dtype + hp.dtype_state() + hp.BUILD
        + hp.NEWFALSE + hp.string(X.tobytes()) + hp.TUPLE + hp.BUILD
    )  # fmt: skip
    second = (
        hp.get(1) + hp.get(2) + hp.binint(0) + hp.TUPLE1 + hp.string(b"b") + hp.TUPLE3 + hp.REDUCE
        + hp.MARK + hp.binint(1) + hp.shape_tuple((3, 2)) + hp.get(3)
        + hp.NEWFALSE + hp.string(X.tobytes()) + hp.TUPLE + hp.BUILD
    )  # fmt: skip
    a, b = parse_array_pickle(hp.PROTO2 + first + second + hp.TUPLE2 + hp.STOP)
    np.testing.assert_array_equal(a, X)
    np.testing.assert_array_equal(b, X.reshape(3, 2))
    assert not np.shares_memory(a, b)
    # the memo repeats one data string for two arrays: each array still gets memory of its own
    data = hp.string(X.tobytes()) + hp.put(9)
    reused = second.replace(hp.string(X.tobytes()), hp.get(9))
    c, d = parse_array_pickle(
        hp.PROTO2 + first.replace(hp.string(X.tobytes()), data) + reused + hp.TUPLE2 + hp.STOP
    )
    np.testing.assert_array_equal(c, X)
    np.testing.assert_array_equal(d, X.reshape(3, 2))
    assert not np.shares_memory(c, d)
    c[0, 0] = 99.0
    assert d[0, 0] == 0.0


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_python3_pickles_of_arrays_are_refused_with_opcode_and_offset(protocol):
    payload = pickle.dumps((np.zeros((2, 784), np.float32), np.arange(2)), protocol=protocol)
    with pytest.raises(PickleParseError, match=r"refusing [A-Z_0-9]+ at byte \d+"):
        parse_array_pickle(payload)


def test_a_global_is_named_and_never_imported(tmp_path):
    marker = tmp_path / "ran"
    payload = hp.PROTO2 + b"cos\nsystem\n" + hp.string(f"touch {marker}".encode()) + hp.TUPLE1 + hp.REDUCE
    with pytest.raises(PickleParseError, match=r"refusing GLOBAL at byte 2: the global 'os\.system'"):
        parse_array_pickle(payload + hp.STOP)
    assert not marker.exists()


_ONE_SPLIT = hp.hub_pickle(_splits(sizes=(2,)))


def _with(old: bytes, new: bytes) -> bytes:
    """The well-formed one-split file with its first ``old`` replaced by ``new``."""
    assert old in _ONE_SPLIT
    return _ONE_SPLIT.replace(old, new, 1)


def _ending(new_end: bytes) -> bytes:
    """The well-formed file with its final STOP replaced by ``new_end``."""
    return _ONE_SPLIT[:-1] + new_end


_MALFORMED = {
    "protocol 4": (_with(hp.PROTO2, b"\x80\x04"), "refusing PROTO at byte 0: protocol 4"),
    "object dtype": (_with(hp.string(b"f4"), hp.string(b"O8")), "refusing REDUCE.*a dtype other than"),
    "big-endian": (_with(hp.string(b"<"), hp.string(b">")), "refusing BUILD.*dtype state"),
    "fortran order": (_with(hp.NEWFALSE, b"\x88"), "refusing BUILD.*Fortran"),
    "shape lies": (
        _with(hp.shape_tuple((2, 784)), hp.shape_tuple((3, 784))),
        "needs 9408 bytes, the data has 6272",
    ),
    "two results": (_ending(hp.NONE + hp.STOP), "refusing STOP.*2 values left"),
    "trailing bytes": (_ending(hp.STOP + b"\x00"), "refusing STOP.*bytes after the end"),
    "reconstruct args": (
        _with(hp.binint(0) + hp.TUPLE1 + hp.string(b"b"), hp.binint(1) + hp.TUPLE1 + hp.string(b"b")),
        "_reconstruct with arguments other than",
    ),
    "bare int": (hp.PROTO2 + hp.binint(3) + hp.STOP, "refusing STOP.*a int"),
    "unbuilt array": (hp.PROTO2 + hp.new_array() + hp.TUPLE1 + hp.STOP, "an array that was never built"),
    "dict": (hp.PROTO2 + b"}" + hp.STOP, "refusing EMPTY_DICT at byte 2"),
    "unknown memo": (hp.PROTO2 + hp.get(7) + hp.STOP, "refusing BINGET at byte 2: memo entry 7"),
    "truncated": (_ONE_SPLIT[:-40], "not a readable pickle"),
    "empty": (b"", "not a readable pickle"),
}


@pytest.mark.parametrize(("payload", "match"), list(_MALFORMED.values()), ids=list(_MALFORMED))
def test_anything_outside_the_layout_is_refused_in_one_line(payload, match):
    with pytest.raises(PickleParseError, match=match) as info:
        parse_array_pickle(payload)
    assert "\n" not in str(info.value)


def test_a_declared_length_larger_than_the_file_is_refused_before_reading(tmp_path):
    # BINSTRING claiming 2 GiB in a file of a few bytes: refused by the length check, not by a MemoryError.
    payload = hp.PROTO2 + b"T" + (2**31 - 1).to_bytes(4, "little") + b"xx"
    with pytest.raises(PickleParseError, match="declares 2147483647 bytes"):
        parse_array_pickle(payload)
    path = tmp_path / "lie.pkl.gz"
    path.write_bytes(gzip.compress(payload))
    with pytest.raises(PickleParseError, match="declares 2147483647 bytes"):
        read_array_pickle(path)


def test_corrupt_gzip_is_one_clear_error(tmp_path):
    path = tmp_path / "bad.pkl.gz"
    path.write_bytes(gzip.compress(hp.hub_pickle(_splits(sizes=(1,))))[:-30] + os.urandom(30))
    with pytest.raises(PickleParseError, match=r"bad\.pkl\.gz"):
        read_array_pickle(path)
