"""Dataset, TensorDataset, Subset and random_split."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.data import Dataset, Subset, TensorDataset, random_split


def test_tensor_dataset_items_and_length():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6, dtype=np.int64)
    ds = TensorDataset(X, y)
    assert len(ds) == 6
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3])
    assert y3 == 3
    assert ds.arrays[0] is X  # no copy
    assert ds.arrays[1].dtype == np.int64


def test_tensor_dataset_accepts_tensors_without_copy():
    t = numnet.tensor(np.ones((3, 2), dtype=np.float32))
    ds = TensorDataset(t, [0, 1, 2])
    assert ds.arrays[0] is t.data
    assert ds.arrays[1].shape == (3,)


def test_tensor_dataset_length_mismatch_names_lengths():
    with pytest.raises(ValueError, match=r"\[5, 4\]"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))


def test_tensor_dataset_rejects_scalars_and_nothing():
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError):
        TensorDataset()


def test_dataset_base_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_subset_maps_indices_and_negative_ones():
    ds = TensorDataset(np.arange(10))
    sub = Subset(ds, [7, 2, -1])
    assert len(sub) == 3
    assert [sub[i][0] for i in range(3)] == [7, 2, 9]
    with pytest.raises(IndexError):
        Subset(ds, [10])
    with pytest.raises(TypeError):
        Subset(ds, [0.5])


def test_random_split_lengths_cover_disjointly():
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, [7, 3], seed=0)
    assert [len(p) for p in parts] == [7, 3]
    joined = np.sort(np.concatenate([p.indices for p in parts]))
    np.testing.assert_array_equal(joined, np.arange(10))


def test_random_split_fractions_hand_out_remainder():
    ds = TensorDataset(np.arange(11))
    parts = random_split(ds, [0.5, 0.3, 0.2], seed=1)
    # floors 5, 3, 2 = 10; the one left over goes to the first split
    assert [len(p) for p in parts] == [6, 3, 2]


def test_random_split_is_reproducible_by_seed_and_by_manual_seed():
    ds = TensorDataset(np.arange(50))
    a = random_split(ds, [25, 25], seed=3)
    b = random_split(ds, [25, 25], seed=3)
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    np.testing.assert_array_equal(a[0].indices, np.random.default_rng(3).permutation(50)[:25])
    numnet.manual_seed(5)
    c = random_split(ds, [25, 25])
    numnet.manual_seed(5)
    d = random_split(ds, [25, 25])
    np.testing.assert_array_equal(c[1].indices, d[1].indices)


def test_random_split_errors():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError):
        random_split(ds, [0.5, 0.6])
    with pytest.raises(ValueError):
        random_split(ds, [])
