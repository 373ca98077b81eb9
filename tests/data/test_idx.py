"""IDX files: round trips, the exact byte layout, and clear errors for damaged files."""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest

from numnet.data import IDXError, read_idx, write_idx
from numnet.data.idx import IDX_DTYPES


@pytest.mark.parametrize("dtype", list(IDX_DTYPES.values()))
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_every_type_plain_and_gzip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == dtype and back.dtype.isnative and back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)


def test_round_trip_through_file_objects_and_one_dim():
    labels = np.array([7, 2, 1, 0], dtype=np.uint8)
    for compress in (False, True):
        buffer = io.BytesIO()
        write_idx(buffer, labels, compress=compress)
        buffer.seek(0)
        back = read_idx(buffer)
        np.testing.assert_array_equal(back, labels)
        assert back.flags.writeable


def test_byte_layout_is_big_endian(tmp_path):
    path = tmp_path / "x.idx"
    write_idx(path, np.array([[1, 2, 3], [4, 5, 258]], dtype=np.int32))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0C, 2])
    assert struct.unpack(">II", raw[4:12]) == (2, 3)
    assert struct.unpack(">6i", raw[12:]) == (1, 2, 3, 4, 5, 258)
    # a hand-written uint8 file reads as expected
    hand = tmp_path / "hand"
    hand.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + bytes([9, 8, 7]))
    np.testing.assert_array_equal(read_idx(hand), [9, 8, 7])


def _valid_bytes() -> bytes:
    buffer = io.BytesIO()
    write_idx(buffer, np.arange(24, dtype=np.int16).reshape(2, 3, 4))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b"\x01" + b[1:], "bad IDX magic"),
        (lambda b: b[:2] + b"\x0a" + b[3:], "unknown IDX type code 0x0A"),
        (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions"),
        (lambda b: b[:3], "truncated IDX header"),
        (lambda b: b[:10], "truncated IDX header"),
        (lambda b: b[:-5], "truncated IDX data"),
        (lambda b: b + b"\x00\x00", "wrong IDX size: 2 bytes after"),
        (lambda b: b"", "truncated IDX header"),
    ],
)
@pytest.mark.parametrize("compressed", [False, True])
def test_damaged_files_raise_clear_errors(tmp_path, mutate, match, compressed):
    data = mutate(_valid_bytes())
    path = tmp_path / "bad"
    path.write_bytes(gzip.compress(data) if compressed else data)
    with pytest.raises(IDXError, match=match):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_valid_bytes())[:-12])
    with pytest.raises(IDXError, match=r"gzip|truncated"):
        read_idx(path)
    assert issubclass(IDXError, ValueError)


def test_write_rejects_types_and_shapes_without_an_idx_code(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "b", np.float32(1.0))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_write_accepts_non_native_and_non_contiguous_input(tmp_path):
    array = np.arange(12, dtype=">f8").reshape(3, 4).T
    write_idx(tmp_path / "t.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "t.gz"), array)
