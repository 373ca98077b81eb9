"""numnet.io: exact round trips, atomic writes, and a clear refusal of every bad file."""

from __future__ import annotations

import enum
import json
import math
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import numnet
from numnet import io
from numnet.io import ModelFileError

# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------


def assert_same(a: Any, b: Any, where: str = "state") -> None:
    """Recursive equality that also requires equal types, dtypes and key types (NaN equals NaN)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        if a.dtype.names is None and a.dtype.kind in "fc":
            np.testing.assert_array_equal(a, b, err_msg=where)
            assert np.array_equal(np.signbit(a.real), np.signbit(b.real)), f"{where}: signs of zeros differ"
        else:
            assert a.tobytes() == b.tobytes(), where
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype, where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), where
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), f"{where}: keys {list(a)} != {list(b)}"
        for (ka, va), kb in zip(a.items(), b.keys(), strict=True):
            assert type(ka) is type(kb), f"{where}: key {ka!r} type changed"
            assert_same(va, b[kb], f"{where}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def all_dtypes_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}
    for dtype in ["f2", "f4", "f8", "c8", "c16", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "?"]:
        out[f"a_{dtype}"] = (rng.normal(size=(3, 4)) * 50).astype(dtype)
    out["big_endian"] = np.arange(6, dtype=">f8").reshape(2, 3)
    out["fortran"] = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    out["strided"] = np.arange(20, dtype=np.int32)[::3]
    out["zero_d"] = np.array(7.25, dtype=np.float32)
    out["empty"] = np.zeros((0, 5), dtype=np.float32)
    out["special"] = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45], dtype=np.float32)
    out["strings"] = np.array(["héllo", "", "wörld"])
    out["bytes"] = np.array([b"ab", b"\x00\xff"])
    out["structured"] = np.array([(1, 2.5), (3, -1.0)], dtype=[("a", "<i4"), ("b", ">f8")])
    out["datetime"] = np.array(["2024-01-02", "1999-12-31"], dtype="M8[D]")
    return out


def nested_state() -> dict:
    """An optimizer-like state with every kind of value flatten_state supports."""
    return {
        "state": {
            0: {"exp_avg": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 3},
            1: {"exp_avg": np.full(4, -0.0), "exp_avg_sq": np.ones(4, dtype=np.float64), "step": 3},
        },
        "param_groups": [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1], "nesterov": False}
        ],
        "epoch": 12,
        "huge_int": 2**80,
        "loss": float("nan"),
        "best": float("inf"),
        "neg_zero": -0.0,
        "name": "ünïcode ✓",
        "nothing": None,
        "empty": {"list": [], "dict": {}, "tuple": ()},
        "np_scalars": [
            np.float32(0.1),
            np.float64(0.2),
            np.int64(-5),
            np.bool_(True),
            np.uint8(255),
            np.str_("s"),
        ],
        "mixed_keys": {1: "one", "1": "str", None: "none", (2, "x"): "tuple", 2.5: "float", False: "f"},
        "tagged": {"__numnet__": "array", "ref": "not really"},  # a user dict that looks like our markers
        "nested_tuple": ((1, 2), [3, (4, np.zeros(2, dtype=np.int16))]),
        "all_dtypes": all_dtypes_arrays(),
    }


# ---------------------------------------------------------------------------------------------------------
# flatten_state / unflatten_state
# ---------------------------------------------------------------------------------------------------------


def test_flatten_unflatten_round_trip_in_memory() -> None:
    state = nested_state()
    tree, arrays = io.flatten_state(state, prefix="p/")
    json.dumps(tree, allow_nan=True)  # the tree is plain JSON
    assert all(name.startswith("p/") for name in arrays)
    back = io.unflatten_state(json.loads(json.dumps(tree)), arrays)
    assert_same(state, back)


def test_flatten_tensors_become_arrays_and_subclasses_become_builtins() -> None:
    class Colour(enum.IntEnum):
        RED = 1

    t = numnet.tensor(np.arange(3.0), requires_grad=True)
    tree, arrays = io.flatten_state({"t": t, "c": Colour.RED})
    back = io.unflatten_state(tree, arrays)
    assert type(back["c"]) is int and back["c"] == 1
    np.testing.assert_array_equal(back["t"], t.data)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.array([object(), 1], dtype=object), "object array"),
        ({"a": {1, 2}}, r"state\['a'\] is a set"),
        ([lambda: 0], r"state\[0\] is a function"),
    ],
)
def test_flatten_refuses_unstorable_values(value: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        io.flatten_state(value)


def test_flatten_refuses_a_state_that_contains_itself() -> None:
    loop: dict = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"state\['a'\]\[1\] contains itself"):
        io.flatten_state(loop)
    shared = [1, 2]
    tree, arrays = io.flatten_state({"x": shared, "y": shared})  # shared but not circular: fine
    assert io.unflatten_state(tree, arrays) == {"x": [1, 2], "y": [1, 2]}


def test_unflatten_refuses_malformed_trees() -> None:
    with pytest.raises(ValueError, match="not in the arrays"):
        io.unflatten_state({"__numnet__": "array", "ref": "7"}, {})
    with pytest.raises(ValueError, match="unknown node type"):
        io.unflatten_state({"__numnet__": "set", "items": []}, {})
    with pytest.raises(ValueError, match="scalar"):
        io.unflatten_state({"__numnet__": "scalar", "ref": "0"}, {"0": np.zeros(2)})
    with pytest.raises(ValueError, match="invalid key"):
        io.unflatten_state({"__numnet__": "dict", "items": [[[1], 2]]}, {})


# ---------------------------------------------------------------------------------------------------------
# files: round trips
# ---------------------------------------------------------------------------------------------------------


def test_save_state_load_state_round_trip(tmp_path: Path) -> None:
    state = nested_state()
    path = tmp_path / "state.npz"
    io.save_state(path, state)
    assert_same(state, io.load_state(path))
    assert_same(state, io.load_state(str(path), kind="state"))


@pytest.mark.parametrize("compress", [False, True])
def test_save_arrays_load_arrays_round_trip(tmp_path: Path, compress: bool) -> None:
    arrays = all_dtypes_arrays()
    arrays["name with / and . and ü"] = np.arange(3)
    meta = {"classes": ["cat", "dog"], "n": 3, "x": 0.1, "ok": True, "none": None, "nested": {"l": [1, [2]]}}
    path = tmp_path / "arrays.npz"
    io.save_arrays(path, arrays, meta, kind="things", compress=compress)
    back, back_meta = io.load_arrays(path, kind="things")
    assert list(back) == list(arrays)
    assert_same(arrays, back)
    assert_same(meta, back_meta)
    assert back["fortran"].flags.f_contiguous


def test_file_is_a_plain_npz_readable_by_numpy(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    io.save_arrays(path, {"w": np.eye(2, dtype=np.float32)}, {"k": 1})
    with np.load(path, allow_pickle=False) as npz:
        assert npz.files[0] == "numnet.json"
        header = json.loads(npz["numnet.json"])
        assert header["format"] == "numnet" and header["format_version"] == io.FORMAT_VERSION
        assert header["numnet_version"] == numnet.__version__
        assert header["kind"] == "arrays" and header["meta"] == {"k": 1}
        assert header["arrays"] == [{"name": "w", "member": "arrays/0.npy", "dtype": "<f4", "shape": [2, 2]}]
        np.testing.assert_array_equal(npz["arrays/0"], np.eye(2))


def test_same_content_gives_same_bytes(tmp_path: Path) -> None:
    state = nested_state()
    io.save_state(tmp_path / "a", state)
    io.save_state(tmp_path / "b", state)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_save_arrays_validates_inputs(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="plain JSON"):
        io.save_arrays(path, {}, {"t": (1, 2)})
    with pytest.raises(TypeError, match="keys must be str"):
        io.save_arrays(path, {}, {1: "a"})
    with pytest.raises(TypeError, match="Put arrays in `arrays`"):
        io.save_arrays(path, {}, {"a": np.zeros(2)})
    with pytest.raises(TypeError, match="reserved key"):
        io.save_arrays(path, {}, {"__numnet__": 1})
    with pytest.raises(TypeError, match="object arrays"):
        io.save_arrays(path, {"o": np.array([None, 1], dtype=object)})
    with pytest.raises(TypeError, match="array names must be str"):
        io.save_arrays(path, {1: np.zeros(1)})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="kind"):
        io.save_arrays(path, {}, kind="")
    assert list(tmp_path.iterdir()) == []  # validation happens before anything is written


# ---------------------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------------------


class Crash(Exception):
    pass


def _crash_on_second_array(monkeypatch: pytest.MonkeyPatch, exc: type[BaseException] = Crash) -> None:
    real = np.lib.format.write_array
    calls = {"n": 0}

    def write_array(fp: Any, array: np.ndarray, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            fp.write(b"partial garbage")
            raise exc("disk on fire")
        return real(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)


@pytest.mark.parametrize("exc", [Crash, KeyboardInterrupt])
def test_crash_mid_write_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: type[BaseException]
) -> None:
    path = tmp_path / "model.npz"
    io.save_arrays(path, {"w": np.ones(3)}, {"version": "old"})
    old_bytes = path.read_bytes()
    _crash_on_second_array(monkeypatch, exc)
    with pytest.raises(exc, match="disk on fire"):
        io.save_arrays(path, {"a": np.zeros(1000), "b": np.zeros(1000)}, {"version": "new"})
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert io.load_arrays(path)[1] == {"version": "old"}


def test_crash_on_first_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_on_second_array(monkeypatch)
    with pytest.raises(Crash):
        io.save_state(tmp_path / "new.npz", {"a": np.zeros(3), "b": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["fsync", "replace"])
def test_failing_fsync_or_replace_keeps_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    path = tmp_path / "ckpt.npz"
    io.save_arrays(path, {"w": np.ones(3)})
    old_bytes = path.read_bytes()

    def fail(*args: Any) -> None:
        raise OSError(f"{target} failed")

    monkeypatch.setattr(io.os, target, fail)
    with pytest.raises(OSError, match=f"{target} failed"):
        io.save_arrays(path, {"w": np.zeros(3)})
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def test_overwrite_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    io.save_arrays(path, {"w": np.ones(3)}, "first")
    io.save_arrays(path, {"w": np.zeros(2)}, "second")
    arrays, meta = io.load_arrays(path)
    assert meta == "second"
    np.testing.assert_array_equal(arrays["w"], np.zeros(2))
    assert [p.name for p in tmp_path.iterdir()] == ["f.npz"]


# ---------------------------------------------------------------------------------------------------------
# bad files
# ---------------------------------------------------------------------------------------------------------


def test_missing_file_is_file_not_found_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        io.load_arrays(path)
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        io.load_state(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "the file is empty"),
        (b"hello, I am a text file\n", "not a zip archive"),
        (b"\x93NUMPY\x01\x00", "single .npy array"),
        (b"PK\x05\x06" + b"\x00" * 18, "empty or damaged zip"),
    ],
)
def test_non_zip_files_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=match) as info:
        io.load_arrays(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_real_npy_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ModelFileError, match=r"a\.npy: not a numnet file"):
        io.load_state(path)


def test_foreign_npz_and_zip_refused(tmp_path: Path) -> None:
    npz = tmp_path / "plain.npz"
    np.savez(npz, weight=np.zeros(3))
    with pytest.raises(ModelFileError, match=r"plain\.npz: not a numnet file.*np\.savez"):
        io.load_arrays(npz)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ModelFileError, match=r"other\.zip: not a numnet file"):
        io.load_state(other)


def _fail_if_unpickled(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("pickle was called while loading a file")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)


def test_npz_with_object_array_refused_without_unpickling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([{"a": 1}, None], dtype=object))  # np.savez pickles object arrays
    _fail_if_unpickled(monkeypatch)
    with pytest.raises(ModelFileError, match="not a numnet file"):
        io.load_arrays(path)


def _write_raw_numnet_zip(path: Path, header: dict, members: dict[str, np.ndarray]) -> None:
    """A zip laid out like ours, but with whatever header and members a test (or an attacker) wants."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("numnet.json", json.dumps(header))
        for member, array in members.items():
            with zf.open(member, "w") as fp:
                np.lib.format.write_array(fp, array, allow_pickle=True)


def _header(**changes: Any) -> dict:
    header = {
        "format": "numnet",
        "format_version": 1,
        "numnet_version": "0.1.0",
        "kind": "state",
        "arrays": [],
        "meta": None,
    }
    header.update(changes)
    return header


@pytest.mark.parametrize("declared", ["|O", "<f8"])
def test_tagged_file_with_pickled_member_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str
) -> None:
    path = tmp_path / "evil.npz"
    entry = {"name": "w", "member": "arrays/0.npy", "dtype": declared, "shape": [2]}
    payload = np.array([{"x": 1}, None], dtype=object)
    _write_raw_numnet_zip(
        path, _header(arrays=[entry], meta={"__numnet__": "array", "ref": "w"}), {"arrays/0.npy": payload}
    )
    _fail_if_unpickled(monkeypatch)
    with pytest.raises(ModelFileError, match=r"evil\.npz: .*pickled object array"):
        io.load_state(path)


def test_newer_format_version_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.npz"
    _write_raw_numnet_zip(path, _header(format_version=io.FORMAT_VERSION + 1, numnet_version="9.0"), {})
    expected = r"future\.npz: written by numnet 9\.0 in file format version 2; .* reads format version 1"
    with pytest.raises(ModelFileError, match=expected):
        io.load_arrays(path)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (_header(format="other"), "has format 'other'"),
        (_header(format_version="1"), "invalid format_version"),
        (_header(arrays=[{"name": "w"}]), "array list .* is malformed"),
        (_header(arrays=[{"name": "w", "member": "arrays/0.npy", "dtype": "<f8", "shape": [2]}]), "missing"),
        ({k: v for k, v in _header().items() if k != "meta"}, "has no 'meta'"),
        (_header(meta={"__numnet__": "array", "ref": "nope"}), "not in the arrays"),
    ],
)
def test_malformed_headers_refused(tmp_path: Path, header: dict, match: str) -> None:
    path = tmp_path / "bad.npz"
    _write_raw_numnet_zip(path, header, {})
    with pytest.raises(ModelFileError, match=match):
        io.load_state(path)


def test_header_that_is_not_json_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("numnet.json", b"{not json")
    with pytest.raises(ModelFileError, match="is not JSON"):
        io.load_arrays(path)


def test_manifest_disagreeing_with_member_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    entry = {"name": "w", "member": "arrays/0.npy", "dtype": "<f8", "shape": [3]}
    _write_raw_numnet_zip(path, _header(arrays=[entry]), {"arrays/0.npy": np.zeros(1_000_000)})
    with pytest.raises(ModelFileError, match=r"manifest says <f8 \(3,\)"):
        io.load_arrays(path)


def test_wrong_kind_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    io.save_arrays(path, {}, kind="arrays")
    with pytest.raises(ModelFileError, match="holds a numnet 'arrays' file, not a 'checkpoint' file"):
        io.load_arrays(path, kind="checkpoint")


def _sample_file(tmp_path: Path) -> tuple[Path, dict]:
    state = {"w": np.arange(40, dtype=np.float32).reshape(5, 8), "b": np.ones(8), "meta": {1: "x"}, "n": 3}
    path = tmp_path / "good.npz"
    io.save_state(path, state)
    return path, state


def test_every_truncation_is_refused_clearly(tmp_path: Path) -> None:
    path, _ = _sample_file(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "truncated.npz"
    for length in range(len(data)):
        bad.write_bytes(data[:length])
        with pytest.raises(ModelFileError, match=r"truncated\.npz: "):
            io.load_state(bad)


def test_every_single_byte_corruption_is_refused_or_harmless(tmp_path: Path) -> None:
    """Flip each byte in turn: the load either fails with ModelFileError or gives back exactly the state
    (a flip in a field nobody reads, such as a timestamp); never any other exception, never wrong data."""
    path, state = _sample_file(tmp_path)
    data = bytearray(path.read_bytes())
    bad = tmp_path / "corrupt.npz"
    refused = 0
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            back = io.load_state(bad)
        except ModelFileError as exc:
            assert "corrupt.npz" in str(exc)
            refused += 1
        else:
            assert_same(state, back, f"byte {i}")
    assert refused > len(data) // 2


def test_corrupted_array_data_detected_by_crc(tmp_path: Path) -> None:
    path, _ = _sample_file(tmp_path)
    data = bytearray(path.read_bytes())
    position = data.find(np.arange(40, dtype=np.float32).tobytes())  # the raw float32 data of "w"
    assert position > 0
    data[position + 10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"good\.npz: damaged or truncated numnet file.*CRC"):
        io.load_state(path)


def test_directory_path_errors_are_os_errors(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        io.load_arrays(tmp_path)
    with pytest.raises(IsADirectoryError):
        io.save_arrays(tmp_path, {"w": np.zeros(1)})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):
        io.save_arrays(tmp_path / "no_such_dir" / "f.npz", {})


@pytest.mark.skipif(not hasattr(os, "umask"), reason="POSIX permissions")
def test_saved_file_permissions_follow_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        io.save_arrays(tmp_path / "f.npz", {})
    finally:
        os.umask(old)
    assert (tmp_path / "f.npz").stat().st_mode & 0o777 == 0o644


# ---------------------------------------------------------------------------------------------------------
# models: numnet.io.save / load
# ---------------------------------------------------------------------------------------------------------


def _trained_looking_model(dtype: Any = np.float32) -> Any:
    from numnet import nn

    numnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Dropout(0.3), nn.Linear(16, 3))
    model.to(dtype)
    rng = np.random.default_rng(1)
    model.train()
    for _ in range(3):  # move the BatchNorm running statistics away from their initial values
        model(numnet.tensor(rng.normal(2.0, 3.0, size=(32, 4)).astype(dtype)))
    with numnet.no_grad():
        for p in model.parameters():  # and the affine parameters away from 1 and 0
            p.data[...] += rng.normal(scale=0.1, size=p.shape).astype(dtype)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_round_trip_gives_identical_predictions(tmp_path: Path, dtype: Any) -> None:
    model = _trained_looking_model(dtype)
    model.eval()
    x = numnet.tensor(np.random.default_rng(2).normal(size=(10, 4)).astype(dtype))
    expected = model(x).data
    model.train()  # save from training mode: load still gives eval mode
    path = tmp_path / "model.numnet"
    io.save(model, path)

    loaded = io.load(path)
    assert type(loaded) is type(model)
    assert not any(m.training for m in loaded.modules())
    got = loaded(x).data
    assert got.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    assert_same(dict(model.state_dict()), dict(loaded.state_dict()))
    assert repr(loaded) == repr(model)


def test_model_metadata_round_trip(tmp_path: Path) -> None:
    model = _trained_looking_model()
    metadata = {
        "class_names": ("setosa", "versicolor", "virginica"),
        "input_mean": np.array([5.8, 3.0, 3.7, 1.2]),
        "input_std": np.array([0.8, 0.4, 1.7, 0.7], dtype=np.float32),
        "epochs": 30,
        "label_of": {0: "setosa", 1: "versicolor", 2: "virginica"},
    }
    path = tmp_path / "iris.npz"
    io.save(model, path, metadata=metadata)
    _, back = io.load_with_metadata(path)
    assert_same(metadata, back)
    _, none = io.load_with_metadata(_save_plain(tmp_path, model))
    assert none is None


def _save_plain(tmp_path: Path, model: Any) -> Path:
    path = tmp_path / "plain.npz"
    io.save(model, path)
    return path


def test_model_weights_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    from numnet import nn
    from numnet.nn.config import to_config

    small = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    wide = nn.Sequential(nn.Linear(4, 9), nn.ReLU(), nn.Linear(9, 3))
    deep = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))

    shapes = tmp_path / "shapes.npz"  # the architecture of one model with the weights of another
    state = {"config": to_config(small), "state_dict": dict(wide.state_dict()), "metadata": None}
    io.save_state(shapes, state, kind="model")
    # checked before any layer is built: the first layer whose weight shape the file lacks is named
    with pytest.raises(
        ModelFileError, match=r"shapes\.npz: the weights .* do not fit.*Sequential\[0\] \(Linear\)"
    ):
        io.load(shapes)

    keys = tmp_path / "keys.npz"
    state = {"config": to_config(small), "state_dict": dict(deep.state_dict()), "metadata": None}
    io.save_state(keys, state, kind="model")
    with pytest.raises(ModelFileError, match=r"(?s)keys\.npz: the weights .* do not fit.*unexpected keys"):
        io.load(keys)


def test_model_file_with_unknown_architecture_refused(tmp_path: Path) -> None:
    path = tmp_path / "arch.npz"
    io.save_state(path, {"config": {"type": "Transformer", "args": {}}, "state_dict": {}}, kind="model")
    with pytest.raises(ModelFileError, match=r"arch\.npz: could not rebuild the architecture.*Transformer"):
        io.load(path)
    io.save_state(path, {"config": {"type": "Linear", "args": {}}}, kind="model")
    with pytest.raises(ModelFileError, match=r"arch\.npz: damaged numnet model file"):
        io.load(path)


def test_load_refuses_files_that_are_not_models(tmp_path: Path) -> None:
    path = tmp_path / "state.npz"
    io.save_state(path, {"epoch": 1})
    with pytest.raises(ModelFileError, match=r"state\.npz: holds a numnet 'state' file, not a 'model' file"):
        io.load(path)
    npz = tmp_path / "plain.npz"
    np.savez(npz, w=np.zeros(2))
    with pytest.raises(ModelFileError, match=r"plain\.npz: not a numnet file"):
        io.load(npz)
    with pytest.raises(FileNotFoundError, match=r"missing\.npz"):
        io.load(tmp_path / "missing.npz")


def test_save_refuses_what_it_cannot_describe_without_writing(tmp_path: Path) -> None:
    from numnet import nn

    class Custom(nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(TypeError, match="Custom"):
        io.save(nn.Sequential(nn.Linear(2, 2), Custom()), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="object"):
        io.save({"not": object()}, tmp_path / "m.npz")  # neither a Module nor nested tensors / plain data
    with pytest.raises(TypeError, match="metadata goes with a Module"):
        io.save({"w": np.zeros(2)}, tmp_path / "m.npz", metadata={"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_crash_while_saving_a_model_keeps_the_old_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.npz"
    model = _trained_looking_model()
    io.save(model, path)
    old_bytes = path.read_bytes()
    _crash_on_second_array(monkeypatch)
    with pytest.raises(Crash):
        io.save(_trained_looking_model(np.float64), path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    io.load(path)


def test_package_level_save_and_load(tmp_path: Path) -> None:
    model = _trained_looking_model()
    numnet.save(model, tmp_path / "m.npz")
    loaded = numnet.load(tmp_path / "m.npz")
    assert_same(dict(model.state_dict()), dict(loaded.state_dict()))
    assert numnet.metrics.accuracy is not None


# ---------------------------------------------------------------------------------------------------------
# torch-like: numnet.save / numnet.load of state dicts and nested tensors, to paths or file objects
# ---------------------------------------------------------------------------------------------------------


def test_a_user_defined_module_round_trips_through_its_state_dict(tmp_path: Path) -> None:
    from numnet import nn

    class TwoLayer(nn.Module):  # not registered with nn.config: only its state_dict can be saved
        def __init__(self) -> None:
            super().__init__()
            self.hidden = nn.Linear(3, 5)
            self.norm = nn.BatchNorm1d(5)
            self.out = nn.Linear(5, 2)

        def forward(self, x: Any) -> Any:
            return self.out(self.norm(self.hidden(x)).relu())

    numnet.manual_seed(3)
    model = TwoLayer()
    model.norm.running_mean[...] = 0.25  # a buffer, not only parameters
    path = tmp_path / "weights.npz"
    numnet.save(model.state_dict(), path)
    numnet.manual_seed(4)
    other = TwoLayer()
    other.load_state_dict(numnet.load(path, weights_only=True))
    x = numnet.randn(4, 3)
    model.eval()
    other.eval()
    np.testing.assert_array_equal(other(x).data, model(x).data)
    for (name, a), b in zip(model.state_dict().items(), other.state_dict().values(), strict=True):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b)


def test_nested_tensors_come_back_as_tensors_from_paths_and_file_objects(tmp_path: Path) -> None:
    import io as stdlib_io

    weights = numnet.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    obj = {"w": weights, "steps": [1, 2.5, None, "adam"], "pair": (numnet.zeros(2), np.int64(7)), 3: True}
    buffer = stdlib_io.BytesIO()
    numnet.save(obj, buffer)
    buffer.seek(0)
    path = tmp_path / "obj.npz"
    numnet.save(obj, path)
    for source in (stdlib_io.BytesIO(buffer.getvalue()), path, str(path)):
        back = numnet.load(source, weights_only=True)
        assert isinstance(back["w"], numnet.Tensor) and back["w"].requires_grad
        np.testing.assert_array_equal(back["w"].data, weights.data)
        assert back["steps"] == [1, 2.5, None, "adam"] and back[3] is True
        assert isinstance(back["pair"], tuple) and isinstance(back["pair"][0], numnet.Tensor)
        assert back["pair"][1] == 7 and back["pair"][1].dtype == np.int64
    assert buffer.getvalue() == path.read_bytes()  # same content, same bytes


def test_saving_a_module_to_a_file_object_and_loading_it_back(tmp_path: Path) -> None:
    import io as stdlib_io

    from numnet import nn

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    buffer = stdlib_io.BytesIO()
    numnet.save(model, buffer)
    buffer.seek(0)
    back = numnet.load(buffer)
    x = numnet.randn(5, 2)
    model.eval()
    np.testing.assert_array_equal(back(x).data, model(x).data)
    raw = numnet.load(stdlib_io.BytesIO(buffer.getvalue()), weights_only=True)  # no layer is built
    assert raw["config"]["type"] == "Sequential" and set(raw["state_dict"]) == set(model.state_dict())
    with pytest.raises(ModelFileError, match="holds a numnet 'object' file, not a 'model' file"):
        numnet.load(_saved_object(tmp_path))


def _saved_object(tmp_path: Path) -> Path:
    path = tmp_path / "plain-object.npz"
    numnet.save({"w": np.ones(2)}, path)
    return path
