"""The restricted unpickler: NumPy arrays load, anything else is refused (and never runs)."""

from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest

from numnet.data import safe_load, safe_loads


class _Exploit:
    """Pickles to a call of os.system, as a malicious file would."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_refuses_os_system_and_never_runs_it(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps([np.zeros(2), _Exploit(f"touch {marker}")], protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match=r"(os|posix)\.system"):
        safe_loads(payload)
    assert not marker.exists()


def test_refuses_handwritten_global():
    payload = b"cos\nsystem\n(S'echo unsafe'\ntR."  # protocol 0: os.system('echo unsafe')
    with pytest.raises(pickle.UnpicklingError, match=r"'os\.system'"):
        safe_loads(payload)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_loads_containers_of_arrays(protocol):
    rng = np.random.default_rng(0)
    content = {
        "images": rng.random((5, 784), dtype=np.float32),
        "labels": np.arange(5, dtype=np.int64),
        "splits": ((np.ones(3, dtype=np.uint8), np.zeros((2, 2), dtype=">f8")), [np.array(True)]),
        "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
        "strided": np.arange(20, dtype=np.int16)[::3],
        "meta": {"name": "mnist", "count": 5, "scale": 0.5, "raw": b"\x00\x01"},
    }
    payload = pickle.dumps(content, protocol=protocol)
    back = safe_loads(payload)
    oracle = pickle.loads(payload)  # our own, trusted bytes: the plain unpickler is the reference
    assert back["meta"] == content["meta"]
    for key in ("images", "labels", "fortran", "strided"):
        assert back[key].dtype == content[key].dtype
        np.testing.assert_array_equal(back[key], content[key])
    (a, b), (c,) = back["splits"]
    np.testing.assert_array_equal(a, content["splits"][0][0])
    assert b.dtype == oracle["splits"][0][1].dtype
    np.testing.assert_array_equal(b, 0.0)
    assert c.dtype == bool and c.shape == ()


def test_loads_gzip_files_and_python2_style_pickles(tmp_path):
    arrays = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64))
    path = tmp_path / "arrays.pkl.gz"
    with gzip.open(path, "wb") as handle:
        pickle.dump(arrays, handle, protocol=2)
    back = safe_load(path)
    np.testing.assert_array_equal(back[0], arrays[0])
    # Python 2 wrote the array data as a str (BINSTRING); latin-1 decoding turns it back into the bytes
    py2 = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85U\x01b\x87R"
        b"(K\x01K\x02\x85cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff"
        b"\xffK\x00tb\x89U\x02\x07\xfftb."
    )
    np.testing.assert_array_equal(safe_loads(py2), np.array([7, 255], dtype=np.uint8))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.array([1, "a"], dtype=object), "object|Python objects"),
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "numeric"),
        (np.array(["ab"]), "numeric"),
        (np.float32(1.0), "scalar"),
        (np.dtype("V8"), "numeric"),
    ],
)
def test_refuses_objects_strings_structs_and_scalars(value, match):
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        with pytest.raises(pickle.UnpicklingError, match=match):
            safe_loads(pickle.dumps(value, protocol=protocol))


def test_refuses_reconstructing_anything_but_ndarray():
    # _reconstruct(numpy.dtype, (0,), 'b'): the subtype must be numpy.ndarray itself
    payload = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\nK\x00\x85U\x01b\x87R."
    with pytest.raises(pickle.UnpicklingError, match=r"only numpy\.ndarray"):
        safe_loads(payload)


def test_ndarray_global_is_not_callable_by_a_pickle():
    payload = b"\x80\x02cnumpy\nndarray\nK\x03\x85\x85R."  # numpy.ndarray((3,))
    with pytest.raises(pickle.UnpicklingError):
        safe_loads(payload)


def test_refuses_other_codecs_and_build_on_plain_objects():
    payload = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x06\x00\x00\x00base64\x86R."
    with pytest.raises(pickle.UnpicklingError, match="base64"):
        safe_loads(payload)
    build_on_dict = b"\x80\x02}}b."
    with pytest.raises(pickle.UnpicklingError, match="dict"):
        safe_loads(build_on_dict)
