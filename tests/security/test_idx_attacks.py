"""Hostile IDX files: the declared size is compared with the data present before anything is allocated."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from numnet.data import IDXError, read_idx

from .security_helpers import assert_refused, run_limited

READ = """
from numnet.data import read_idx
try:
    read_idx({path!r})
except Exception as exc:
    print(f"{{type(exc).__name__}}: {{exc}}")
"""


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_a_16_byte_file_claiming_2_to_the_32_items_allocates_nothing(tmp_path, compressed):
    raw = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2**16, 2**16) + b"\x07" * 8  # 4 GiB declared
    path = tmp_path / ("big.idx.gz" if compressed else "big.idx")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(IDXError, match="needs 4294967296 bytes"):
        read_idx(path)
    assert_refused(run_limited(READ.format(path=str(path))), "IDXError", "needs 4294967296 bytes")


def test_a_gzip_bomb_after_the_data_is_counted_not_kept(tmp_path):
    raw = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + b"\x01\x02\x03"
    path = tmp_path / "trailing.idx.gz"
    zeros = gzip.compress(bytes(1 << 24), compresslevel=1)  # one gzip member of 16 MiB of zeros...
    path.write_bytes(gzip.compress(raw) + zeros * 128)  # ...repeated: 2 GiB after the data, a few MB on disk
    assert path.stat().st_size < 16 << 20
    assert_refused(run_limited(READ.format(path=str(path))), "IDXError", "bytes after the 3 bytes")


def test_a_well_formed_file_still_reads(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    path = tmp_path / "ok.idx"
    path.write_bytes(bytes([0, 0, 0x0B, 2]) + struct.pack(">II", 3, 4) + array.astype(">i2").tobytes())
    np.testing.assert_array_equal(read_idx(path), array)
