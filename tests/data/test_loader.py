"""DataLoader: coverage, batching, reproducible and resumable shuffling, the fast path and collation."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.data import DataLoader, Dataset, Subset, TensorDataset
from numnet.tensor import Tensor


def _data(n: int = 23) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return X, y


def _epoch_labels(loader: DataLoader) -> list[np.ndarray]:
    return [np.asarray(batch[1]) for batch in loader]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 4, 5, 23, 30])
def test_each_epoch_covers_the_dataset_exactly_once(shuffle, batch_size):
    X, y = _data()
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, seed=0, as_tensor=False)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-23 // batch_size)
        labels = np.concatenate([b[1] for b in batches])
        np.testing.assert_array_equal(np.sort(labels), y)
        for xb, yb in batches:
            np.testing.assert_array_equal(xb, X[yb])  # rows stay paired with their labels
            assert xb.shape[0] <= batch_size


def test_drop_last_drops_the_short_batch():
    X, y = _data(23)
    loader = DataLoader(TensorDataset(X, y), batch_size=5, drop_last=True)
    assert len(loader) == 4
    batches = list(loader)
    assert len(batches) == 4
    assert all(b[0].shape == (5, 3) for b in batches)
    assert len(DataLoader(TensorDataset(X, y), batch_size=5)) == 5
    assert len(DataLoader(TensorDataset(X[:3], y[:3]), batch_size=5, drop_last=True)) == 0


def test_batches_are_tensors_without_grad_by_default():
    X, y = _data(8)
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert not xb.requires_grad and not yb.requires_grad
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert xb.shape == (4, 3)
    xa, _ya = next(iter(DataLoader(TensorDataset(X, y), batch_size=4, as_tensor=False)))
    assert type(xa) is np.ndarray


def test_seeded_shuffle_follows_seed_and_epoch():
    X, y = _data(20)
    loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True, seed=7, as_tensor=False)
    for epoch in range(3):
        assert loader.epoch == epoch
        (labels,) = _epoch_labels(loader)
        np.testing.assert_array_equal(labels, np.random.default_rng([7, epoch]).permutation(20))
    assert loader.epoch == 3
    other = DataLoader(TensorDataset(X, y), batch_size=6, shuffle=True, seed=7, as_tensor=False)
    np.testing.assert_array_equal(
        np.concatenate(_epoch_labels(other)), np.random.default_rng([7, 0]).permutation(20)
    )
    np.testing.assert_array_equal(other.permutation(), np.random.default_rng([7, 1]).permutation(20))


def test_different_epochs_and_seeds_give_different_orders():
    X, y = _data(50)
    a = DataLoader(TensorDataset(X, y), batch_size=50, shuffle=True, seed=1, as_tensor=False)
    e0, e1 = _epoch_labels(a)[0], _epoch_labels(a)[0]
    assert not np.array_equal(e0, e1)
    b = DataLoader(TensorDataset(X, y), batch_size=50, shuffle=True, seed=2, as_tensor=False)
    assert not np.array_equal(_epoch_labels(b)[0], e0)


def test_epoch_advances_only_when_an_iteration_completes():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=3, shuffle=True, seed=0)
    for _ in loader:
        break
    assert loader.epoch == 0
    it = iter(loader)
    for _ in range(len(loader)):
        next(it)
    assert loader.epoch == 0  # the last batch was taken, but the pass has not ended yet
    with pytest.raises(StopIteration):
        next(it)
    assert loader.epoch == 1
    with pytest.raises(StopIteration):
        next(it)
    assert loader.epoch == 1  # a finished iterator does not count twice


def test_set_epoch_and_state_dict_resume_bit_identically():
    X, y = _data(37)
    ds = TensorDataset(X, y)
    first = DataLoader(ds, batch_size=8, shuffle=True, seed=11, as_tensor=False)
    run = [list(first) for _ in range(4)]
    saved_after_two = {"epoch": 2}

    resumed = DataLoader(ds, batch_size=8, shuffle=True, seed=11, as_tensor=False)
    resumed.load_state_dict(saved_after_two)
    for epoch in (2, 3):
        batches = list(resumed)
        assert len(batches) == len(run[epoch])
        for (xa, ya), (xb, yb) in zip(batches, run[epoch], strict=True):
            assert xa.tobytes() == xb.tobytes() and ya.tobytes() == yb.tobytes()
    assert resumed.state_dict() == {"epoch": 4}

    again = DataLoader(ds, batch_size=8, shuffle=True, seed=11, as_tensor=False)
    again.set_epoch(1)
    np.testing.assert_array_equal(
        np.concatenate([b[1] for b in again]), np.concatenate([b[1] for b in run[1]])
    )


def test_unseeded_shuffle_draws_from_numnet_generator():
    X, y = _data(30)
    loader = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, as_tensor=False)
    numnet.manual_seed(123)
    a = _epoch_labels(loader)[0]
    numnet.manual_seed(123)
    b = _epoch_labels(loader)[0]
    np.testing.assert_array_equal(a, b)
    numnet.manual_seed(123)
    np.testing.assert_array_equal(a, numnet.get_rng().permutation(30))
    assert loader.permutation() is None


def test_fast_path_without_shuffle_yields_views():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    assert loader.is_fast_path
    for k, (xb, yb) in enumerate(loader):
        # slices of the dataset's own arrays: views, no copy
        assert np.shares_memory(xb.data, X) and np.shares_memory(yb.data, y)
        assert not xb.data.flags.owndata and not yb.data.flags.owndata
        np.testing.assert_array_equal(xb.data, X[4 * k : 4 * k + 4])
    xs, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0)))
    assert not np.shares_memory(xs.data, X)  # shuffled batches are gathered copies


def test_fast_path_never_calls_getitem(monkeypatch):
    X, y = _data(9)
    ds = TensorDataset(X, y)

    def forbidden(self, index):
        raise AssertionError("the fast path must not index samples one by one")

    loaders = [DataLoader(ds, batch_size=4, shuffle=shuffle, seed=3) for shuffle in (True, False)]
    assert all(loader.is_fast_path for loader in loaders)
    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    for loader in loaders:
        assert sum(b[0].shape[0] for b in loader) == 9


def test_subset_of_tensor_dataset_keeps_the_fast_path():
    X, y = _data(12)
    ds = TensorDataset(X, y)
    sub = Subset(ds, [5, 1, 9, 3])
    loader = DataLoader(sub, batch_size=3, as_tensor=False)
    assert loader.is_fast_path
    labels = np.concatenate([b[1] for b in loader])
    np.testing.assert_array_equal(labels, [5, 1, 9, 3])
    nested = Subset(sub, [3, 0])
    np.testing.assert_array_equal(next(iter(DataLoader(nested, batch_size=2, as_tensor=False)))[1], [3, 5])
    contiguous = Subset(ds, range(4, 10))
    xb, yb = next(iter(DataLoader(contiguous, batch_size=4, as_tensor=False)))
    assert np.shares_memory(xb, X)
    np.testing.assert_array_equal(yb, [4, 5, 6, 7])
    shuffled = DataLoader(sub, batch_size=4, shuffle=True, seed=0, as_tensor=False)
    (only,) = list(shuffled)
    np.testing.assert_array_equal(
        only[1], np.array([5, 1, 9, 3])[np.random.default_rng([0, 0]).permutation(4)]
    )


class _Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return np.full(2, i, dtype=np.float32), i, float(i) / 2


def test_generic_dataset_is_collated_with_stack():
    loader = DataLoader(_Squares(7), batch_size=3, as_tensor=False)
    assert not loader.is_fast_path
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    x0, i0, h0 = batches[0]
    assert x0.dtype == np.float32 and i0.dtype == np.int64 and h0.dtype == numnet.get_default_dtype()
    np.testing.assert_array_equal(i0, [0, 1, 2])
    np.testing.assert_array_equal(x0[:, 0], [0, 1, 2])
    shuffled = DataLoader(_Squares(7), batch_size=7, shuffle=True, seed=4, as_tensor=False)
    (batch,) = list(shuffled)
    np.testing.assert_array_equal(batch[1], np.random.default_rng([4, 0]).permutation(7))
    tensors = next(iter(DataLoader(_Squares(4), batch_size=2)))
    assert all(isinstance(t, Tensor) and not t.requires_grad for t in tensors)


def test_generic_single_items_dicts_and_overridden_getitem():
    class Plain(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.array([i, i], dtype=np.int32)

    (batch,) = next(iter(DataLoader(Plain(), batch_size=4, as_tensor=False)))
    assert batch.shape == (4, 2) and batch.dtype == np.int32

    class Dicts(Plain):
        def __getitem__(self, i):
            return {"x": np.float32(i), "y": i}

    d = next(iter(DataLoader(Dicts(), batch_size=2)))
    assert set(d) == {"x", "y"} and isinstance(d["x"], Tensor)

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return 2 * x, y

    X, y = _data(4)
    loader = DataLoader(Doubled(X, y), batch_size=4, as_tensor=False)
    assert not loader.is_fast_path  # the override must run
    np.testing.assert_array_equal(next(iter(loader))[0], 2 * X)


def test_bare_array_is_a_dataset():
    X = np.arange(10)
    batches = list(DataLoader(X, batch_size=4, as_tensor=False))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"batch_size": 0}, ValueError),
        ({"batch_size": -2}, ValueError),
        ({"batch_size": 1.5}, ValueError),
        ({"batch_size": True}, ValueError),
        ({"shuffle": "yes"}, TypeError),
        ({"drop_last": 1}, TypeError),
        ({"as_tensor": None}, TypeError),
        ({"seed": -1}, ValueError),
        ({"seed": 1.0}, ValueError),
        ({"collate_fn": 3}, TypeError),
    ],
)
def test_arguments_are_validated(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        DataLoader(TensorDataset(np.zeros(4)), **kwargs)


def test_dataset_and_state_validation():
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(object())
    loader = DataLoader(TensorDataset(np.zeros(4)))
    with pytest.raises(ValueError):
        loader.set_epoch(-1)
    with pytest.raises(ValueError):
        loader.load_state_dict({})
    loader.load_state_dict({"epoch": 5})
    assert loader.epoch == 5 and loader.state_dict() == {"epoch": 5}
    assert "batch_size=1" in repr(loader)
