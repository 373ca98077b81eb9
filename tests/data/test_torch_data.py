"""``numnet.utils.data`` as ``torch.utils.data``: the re-exports, TensorDataset items as Tensors, samplers,
batch samplers, generators and the in-process ``num_workers``, with the loader's one-fancy-index-per-array
fast path and its resumable (seed, epoch) order kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import numnet
import numnet.utils.data as nud
from numnet import Tensor, data


def _xy(n=10):
    X = np.arange(n * 2, dtype=np.float64).reshape(n, 2)
    y = np.arange(n, dtype=np.int64) % 3
    return X, y


class _CountingArray(np.ndarray):
    """An array that counts how often it is indexed or gathered from (to see how the loader gathers a
    batch)."""

    calls = 0

    def __getitem__(self, index):
        type(self).calls += 1
        return np.asarray(super().__getitem__(index))

    def take(self, indices, axis=None, out=None, mode="raise"):
        type(self).calls += 1
        return np.asarray(super().take(indices, axis=axis, out=out, mode=mode))


def test_utils_data_reexports_numnet_data():
    assert nud.DataLoader is data.DataLoader and nud.TensorDataset is data.TensorDataset
    assert nud.Dataset is data.Dataset and nud.Subset is data.Subset and nud.random_split is data.random_split
    assert nud.RandomSampler is data.RandomSampler and nud.BatchSampler is data.BatchSampler


def test_tensor_dataset_items_are_tensors_as_torch():
    X, y = _xy()
    ours, theirs = (
        nud.TensorDataset(Tensor(X), Tensor(y)),
        tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
    )
    x3, y3 = ours[3]
    assert isinstance(x3, Tensor) and isinstance(y3, Tensor) and not x3.requires_grad
    np.testing.assert_array_equal(x3.data, theirs[3][0].numpy())
    assert y3.shape == tuple(theirs[3][1].shape) == () and y3.item() == theirs[3][1].item()
    assert all(isinstance(t, Tensor) for t in ours.tensors) and ours.tensors[0].data is ours.arrays[0]
    assert np.shares_memory(x3.data, X)  # a view of the row, no copy


def test_fast_path_still_gathers_each_batch_with_one_gather_per_array():
    X, y = _xy(12)
    cx, cy = X.view(_CountingArray), y.view(_CountingArray)
    ds = data.TensorDataset(cx, cy)
    ds.arrays = (cx, cy)  # keep the counting subclass
    loader = data.DataLoader(ds, batch_size=4, shuffle=True, seed=3)
    _CountingArray.calls = 0
    batches = list(loader)
    assert len(batches) == 3 and _CountingArray.calls == 6  # 3 batches × 2 arrays
    sampler_loader = data.DataLoader(ds, batch_size=5, sampler=data.RandomSampler(ds, generator=1))
    _CountingArray.calls = 0
    assert len(list(sampler_loader)) == 3 and _CountingArray.calls == 6
    batch_loader = data.DataLoader(ds, batch_sampler=data.BatchSampler(range(12), 5, drop_last=True))
    _CountingArray.calls = 0
    assert len(list(batch_loader)) == 2 and _CountingArray.calls == 4


@pytest.mark.parametrize("drop_last", [False, True])
def test_fixed_order_sampler_and_batch_sampler_give_torchs_batches(drop_last):
    X, y = _xy(11)
    order = [4, 0, 10, 3, 3, 7, 1, 9]
    ours = data.DataLoader(data.TensorDataset(X, y), batch_size=3, sampler=order, drop_last=drop_last)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=3,
        sampler=order,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got = [(xb.data, yb.data) for xb, yb in ours]
    want = [(xb.numpy(), yb.numpy()) for xb, yb in theirs]
    assert len(got) == len(want)
    for (a, b), (c, d) in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    assert list(data.BatchSampler(order, 3, drop_last)) == list(tud.BatchSampler(order, 3, drop_last))
    batch_sampler = data.BatchSampler(data.SequentialSampler(range(11)), 4, drop_last)
    ours = data.DataLoader(data.TensorDataset(X, y), batch_sampler=batch_sampler)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_sampler=tud.BatchSampler(tud.SequentialSampler(range(11)), 4, drop_last),
    )
    assert len(ours) == len(theirs)
    for (xb, _), (xt, _) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(xb.data, xt.numpy())


def test_batch_sampler_on_a_generic_dataset_and_a_subset():
    class Squares(data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return float(i), i * i

    loader = data.DataLoader(Squares(), batch_sampler=[[5, 1], [0, 2, 3]])
    first, second = list(loader)
    assert first[1].tolist() == [25, 1] and second[0].tolist() == [0.0, 2.0, 3.0]
    X, y = _xy(8)
    sub = data.Subset(data.TensorDataset(X, y), [7, 6, 5, 4])
    ((xb, _),) = list(data.DataLoader(sub, batch_sampler=[[0, 3]]))
    np.testing.assert_array_equal(xb.data, X[[7, 4]])


def test_random_samplers_cover_the_data_and_follow_their_generator():
    ds = list(range(9))
    perm = list(data.RandomSampler(ds, generator=np.random.default_rng(5)))
    assert sorted(perm) == ds and perm == list(data.RandomSampler(ds, generator=np.random.default_rng(5)))
    draws = list(data.RandomSampler(ds, replacement=True, num_samples=20, generator=0))
    assert len(draws) == 20 and all(0 <= i < 9 for i in draws)
    assert len(list(data.RandomSampler(ds, num_samples=20, generator=0))) == 20  # more than one permutation
    assert sorted(data.SubsetRandomSampler([2, 4, 6], generator=1)) == [2, 4, 6]
    weighted = list(data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 50, generator=2))
    assert set(weighted) <= {1, 3} and weighted.count(3) > weighted.count(1)
    numnet.manual_seed(4)
    a = list(data.RandomSampler(ds))
    numnet.manual_seed(4)
    assert a == list(data.RandomSampler(ds))  # numnet's generator by default
    with pytest.raises(TypeError, match=r"generator must be a numpy\.random\.Generator"):
        data.RandomSampler(ds, generator="seed")
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement"):
        data.WeightedRandomSampler([1.0, 0.0, 1.0], 3, replacement=False)


def test_generator_num_workers_pin_memory_and_collate_fn():
    X, y = _xy(10)
    ds = data.TensorDataset(X, y)
    a = [
        xb.data
        for xb, _ in data.DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(1))
    ]
    b = [
        xb.data
        for xb, _ in data.DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(1))
    ]
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert sorted(np.concatenate(a)[:, 0].tolist()) == X[:, 0].tolist()
    calls = []
    loader = data.DataLoader(
        ds,
        batch_size=5,
        num_workers=4,
        pin_memory=True,
        worker_init_fn=calls.append,
        persistent_workers=True,
        prefetch_factor=2,
        timeout=5,
    )
    plain = data.DataLoader(ds, batch_size=5)
    for (xb, yb), (xp, yp) in zip(loader, plain, strict=True):  # in-process: the same batches, in order
        assert np.array_equal(xb.data, xp.data) and np.array_equal(yb.data, yp.data)
    assert calls == [0]

    def total(items):
        return sum(x.sum().item() for x, _ in items)

    ours = [float(v) for v in data.DataLoader(ds, batch_size=3, collate_fn=total)]
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=3, collate_fn=total
    )
    assert ours == [float(v) for v in theirs]  # the user's collate_fn sees the items, as in torch
    with pytest.raises(ValueError, match="num_workers must be a non-negative integer"):
        data.DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="cannot be combined with shuffle=True"):
        data.DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="batch_sampler gives whole batches"):
        data.DataLoader(ds, batch_size=4, batch_sampler=[[0]])
    with pytest.raises(TypeError, match="sampler must be an iterable of indices with a length"):
        data.DataLoader(ds, sampler=3)
    with pytest.raises(IndexError, match="outside"):
        list(data.DataLoader(ds, sampler=[0, 99]))


def test_seeded_order_still_depends_only_on_seed_and_epoch():
    X, y = _xy(10)
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=3, shuffle=True, seed=7)
    list(loader)
    second = [xb.data.copy() for xb, _ in loader]
    fresh = data.DataLoader(data.TensorDataset(X, y), batch_size=3, shuffle=True, seed=7)
    fresh.load_state_dict({"epoch": 1})
    assert all(np.array_equal(p, q.data) for p, (q, _) in zip(second, fresh, strict=True))
    assert np.array_equal(fresh.permutation(1), np.random.default_rng([7, 1]).permutation(10))


def test_random_split_accepts_a_generator():
    parts = data.random_split(list(range(10)), [7, 3], generator=np.random.default_rng(0))
    again = data.random_split(list(range(10)), [7, 3], generator=np.random.default_rng(0))
    assert [list(p.indices) for p in parts] == [list(p.indices) for p in again]
    assert sorted(list(parts[0].indices) + list(parts[1].indices)) == list(range(10))
