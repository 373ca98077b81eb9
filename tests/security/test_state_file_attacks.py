"""Hostile model files and checkpoints: one clear ModelFileError, memory bounded first, no code run."""

from __future__ import annotations

import io
import json
import os
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npformat

import numnet
from numnet import backend, nn, optim
from numnet.data import DataLoader, TensorDataset
from numnet.io import ModelFileError, check_model_metadata
from numnet.nn.config import to_config
from numnet.statefile import MAX_MANIFEST_BYTES, save_state
from numnet.train import Checkpoint, fit, load_checkpoint

from .security_helpers import assert_refused, run_limited

LOAD_MODEL = """
import numnet
try:
    numnet.load({path!r})
except Exception as exc:
    print(f"{{type(exc).__name__}}: {{exc}}")
"""

LOAD_STATE = """
from numnet.io import load_state
try:
    load_state({path!r})
except Exception as exc:
    print(f"{{type(exc).__name__}}: {{exc}}")
"""


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    npformat.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _manifest(entries: list[tuple[str, str, tuple[int, ...]]], kind: str = "state", meta=None) -> bytes:
    header = {
        "format": "numnet",
        "format_version": 1,
        "numnet_version": "0.1.0",
        "kind": kind,
        "arrays": [{"name": n, "member": m, "dtype": "<f4", "shape": list(s)} for n, m, s in entries],
        "meta": meta
        if meta is not None
        else {"__numnet__": "array", "ref": entries[0][0]}
        if entries
        else None,
    }
    return json.dumps(header).encode()


def _zip(path: Path, members: list[tuple[str, bytes]], compress: bool = False) -> Path:
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names some attacks use
        with zipfile.ZipFile(path, "w", compression=kind) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def _patch_sizes(path: Path, member: str, file_size: int) -> None:
    """Make the zip's local and central headers of ``member`` claim ``file_size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if raw[name_at : name_at + len(name)] == name:
                raw[at + offset : at + offset + 4] = struct.pack("<I", file_size)
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))


def test_npy_header_declaring_10_to_the_11_elements_is_refused_before_reading(tmp_path):
    shape = (10**11,)
    path = _zip(
        tmp_path / "huge.npz",
        [("numnet.json", _manifest([("w", "arrays/0.npy", shape)])), ("arrays/0.npy", _npy_header(shape))],
    )
    assert_refused(
        run_limited(LOAD_STATE.format(path=str(path))), "ModelFileError", "but the zip entry holds"
    )


def test_a_zip_entry_whose_size_is_a_lie_is_refused(tmp_path):
    shape = (1000, 1000, 800)  # 3.2 GB declared consistently by manifest, .npy header and (patched) zip entry
    header = _npy_header(shape)
    members = [
        ("numnet.json", _manifest([("w", "arrays/0.npy", shape)])),
        ("arrays/0.npy", header + b"\0" * 64),
    ]
    for compress in (False, True):
        path = _zip(tmp_path / f"bomb-{compress}.npz", members, compress=compress)
        _patch_sizes(path, "arrays/0.npy", len(header) + 4 * 1000 * 1000 * 800)  # fits the 32-bit field
        assert_refused(run_limited(LOAD_STATE.format(path=str(path))), "ModelFileError", "its size is a lie")


def test_a_member_listed_twice_in_the_zip_is_refused(tmp_path):
    array = io.BytesIO()
    npformat.write_array(array, np.zeros(2, np.float32))
    manifest = _manifest([("w", "arrays/0.npy", (2,))])
    path = _zip(
        tmp_path / "twice.npz",
        [("numnet.json", manifest), ("arrays/0.npy", array.getvalue()), ("arrays/0.npy", array.getvalue())],
    )
    with pytest.raises(ModelFileError, match=r"lists the member 'arrays/0\.npy' twice"):
        numnet.io.load_state(path)
    path = _zip(
        tmp_path / "referenced.npz",
        [
            ("numnet.json", _manifest([("w", "arrays/0.npy", (2,)), ("v", "arrays/0.npy", (2,))])),
            ("arrays/0.npy", array.getvalue()),
        ],
    )
    with pytest.raises(ModelFileError, match=r"'arrays/0\.npy' is referenced twice by the manifest"):
        numnet.io.load_state(path)


def test_the_manifest_size_is_capped(tmp_path):
    padding = b" " * (MAX_MANIFEST_BYTES + 1)
    path = _zip(tmp_path / "manifest.npz", [("numnet.json", _manifest([]) + padding)], compress=True)
    assert path.stat().st_size < 1 << 20  # a small file...
    with pytest.raises(ModelFileError, match=r"numnet\.json is \d+ bytes \(at most 67108864\)"):
        numnet.io.load_state(path)  # ...refused before its 64 MiB manifest is read


def test_an_architecture_far_larger_than_its_weights_is_refused_before_building(tmp_path):
    small = nn.Sequential(nn.Linear(3, 4))
    config = to_config(small)
    config["children"][0]["args"].update(in_features=100_000, out_features=5_000)  # 2 GB of float32
    path = tmp_path / "model.npz"
    save_state(
        path, {"config": config, "state_dict": dict(small.state_dict()), "metadata": None}, kind="model"
    )
    assert path.stat().st_size < 10_000
    result = run_limited(LOAD_MODEL.format(path=str(path)))
    assert_refused(result, "ModelFileError", "needs an array of shape (5000, 100000)")


def test_a_fifo_or_device_is_refused_at_once(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero")):
        result = run_limited(LOAD_MODEL.format(path=str(target)))  # a blocking open would hit the time limit
        assert_refused(result, "ModelFileError", "not a regular file")


# ---------------------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------------------


def _checkpoint(tmp_path: Path) -> Path:
    numnet.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(16, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "ck.npz"
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    fit(model, nn.CrossEntropyLoss(), opt, loader, 1, callbacks=[Checkpoint(path)], progress=False)
    return path


def _tampered(tmp_path: Path, change) -> Path:
    good = numnet.io.load_state(_checkpoint(tmp_path))
    change(good["state"])
    path = tmp_path / "bad.npz"
    save_state(path, good, kind="numnet-checkpoint")
    return path


@pytest.mark.parametrize("name", ["test", "seed", "default_rng", "__class__"])
def test_a_checkpoint_naming_a_numpy_function_runs_nothing(tmp_path, name):
    path = _tampered(tmp_path, lambda state: state["rng"].update(bit_generator=name))
    before = np.random.get_state()[1].copy()
    with pytest.raises(ModelFileError, match=rf"random generator state is invalid.*{name!r}"):
        load_checkpoint(path)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # np.random.seed was not called
    code = f"""
    from numnet.train import load_checkpoint
    try:
        load_checkpoint({str(path)!r})
    except Exception as exc:
        print(f"{{type(exc).__name__}}: {{exc}}")
    """
    assert_refused(run_limited(code), "ModelFileError", "random generator state is invalid")  # no test run


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: s.update(epoch=-1), "epoch must be a non-negative integer"),
        (lambda s: s.update(step="3"), "step must be a non-negative integer"),
        (lambda s: s.update(optimizer=[1, 2]), "optimizer state must be a dict"),
        (lambda s: s.update(loader={"epoch": -4}), "loader state"),
        (lambda s: s.update(callbacks="none"), "callback states"),
        (lambda s: s.update(model={"0.weight": "x"}), "model state"),
        (lambda s: s.update(history={"epochs": [{"loss": "high"}]}), "history epochs"),
        (lambda s: s.update(settings={"lr": np.zeros(2)}), "settings must be a dict of plain JSON"),
        (lambda s: s.update(extra=1), "unknown parts ['extra']"),
        (lambda s: s["rng"]["state"].update(state=-5), "must be a non-negative integer"),
    ],
)
def test_every_part_of_a_checkpoint_is_checked(tmp_path, change, match):
    path = _tampered(tmp_path, change)
    with pytest.raises(ModelFileError, match=r"bad\.npz: not a valid numnet checkpoint: ") as info:
        load_checkpoint(path)
    assert match in str(info.value) and "\n" not in str(info.value)


def test_a_checkpoint_with_plain_settings_is_accepted(tmp_path):
    path = _tampered(tmp_path, lambda s: s.update(settings={"lr": 0.1, "hidden": [8, 8], "dataset": "moons"}))
    assert load_checkpoint(path)["settings"]["hidden"] == [8, 8]
    backend.set_rng_state(load_checkpoint(path)["rng"])


# ---------------------------------------------------------------------------------------------------------
# Metadata the CLI reads
# ---------------------------------------------------------------------------------------------------------

DATASETS = ("mnist", "moons", "digits")


@pytest.mark.parametrize(
    ("metadata", "match"),
    [
        ({"dataset": "/etc/passwd"}, "is not a built-in dataset"),
        ({"dataset": "../moons"}, "is not a built-in dataset"),
        ({"dataset": "data.csv"}, "is not a built-in dataset"),
        ({"in_features": -1}, "in_features must be an integer"),
        ({"in_features": True}, "in_features must be an integer"),
        ({"samples": 10**12}, "samples must be an integer"),
        ({"settings": {"samples": 0}}, "samples must be an integer"),
        ({"settings": {"seed": -1}}, "settings.seed"),
        ({"settings": {"target": 3}}, "settings.target"),
        ({"settings": [1]}, "settings must be a dict"),
        ([1, 2], "must be a dict"),
    ],
)
def test_model_metadata_the_cli_uses_is_checked(metadata, match):
    with pytest.raises(ModelFileError, match="model metadata") as info:
        check_model_metadata(metadata, DATASETS)
    assert match in str(info.value)


def test_valid_model_metadata_passes():
    metadata = {"dataset": "Moons", "in_features": 2, "settings": {"samples": 500, "seed": 0, "target": None}}
    assert check_model_metadata(metadata, DATASETS) is metadata
    assert check_model_metadata(None, DATASETS) == {}
