"""one_hot, Standardizer / standardize and train_test_split."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet.data import Standardizer, one_hot, standardize, train_test_split


def test_one_hot_values_shape_and_dtype():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert one_hot([1], num_classes=5).shape == (1, 5)
    grid = one_hot(np.array([[0, 1], [1, 0]]), num_classes=2)
    assert grid.shape == (2, 2, 2)
    np.testing.assert_array_equal(grid.argmax(-1), [[0, 1], [1, 0]])
    assert one_hot(np.array([1], dtype=np.uint8), 2, dtype=np.float64).dtype == np.float64
    assert one_hot(numnet.tensor(np.array([0, 1])), 2).shape == (2, 2)
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    ("labels", "kwargs", "error", "match"),
    [
        ([0, -1, 2], {}, ValueError, "non-negative"),
        ([0, 3], {"num_classes": 3}, ValueError, "out of range"),
        (np.array([0.0, 1.0]), {}, TypeError, "integers"),
        (np.array([0.5]), {}, TypeError, "integers"),
        (np.array([True, False]), {}, TypeError, "integers"),
        ([0, 1], {"num_classes": 0}, ValueError, "num_classes"),
        (np.array([], dtype=np.int64), {}, ValueError, "num_classes"),
    ],
)
def test_one_hot_errors(labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        one_hot(labels, **kwargs)


def test_standardizer_fit_transform_inverse():
    rng = np.random.default_rng(0)
    X = (rng.normal(3.0, 2.0, size=(200, 4)) * [1, 10, 100, 0]).astype(np.float32)  # last feature constant
    scaler = Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape
    np.testing.assert_allclose(Z[:, :3].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(Z[:, 3], 0.0)  # std 0 -> 1, so no NaN
    assert scaler.std_[3] == 1.0
    np.testing.assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(Standardizer().fit_transform(X), Z)


def test_standardizer_state_is_arrays_and_round_trips():
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    scaler = Standardizer().fit(X)
    state = scaler.state_dict()
    assert set(state) == {"mean", "std"}
    assert all(isinstance(v, np.ndarray) and v.shape == (3,) for v in state.values())
    np.testing.assert_allclose(state["mean"], X.mean(axis=0))
    np.testing.assert_allclose(state["std"], X.std(axis=0))
    restored = Standardizer()
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))


def test_standardizer_errors_and_integer_input():
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.zeros((2, 2)))
    scaler = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape"):
        scaler.transform(np.zeros((3, 5)))
    with pytest.raises(ValueError):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError):
        Standardizer().load_state_dict({"mean": np.zeros(2), "std": np.zeros(2)})
    assert Standardizer().fit_transform(np.array([[1, 2], [3, 4]])).dtype == numnet.get_default_dtype()


def test_standardize_with_own_or_given_statistics():
    X = np.array([[1.0, 10.0], [3.0, 10.0]], dtype=np.float32)
    np.testing.assert_allclose(standardize(X), [[-1.0, 0.0], [1.0, 0.0]])
    test = np.array([[5.0, 12.0]], dtype=np.float32)
    np.testing.assert_allclose(standardize(test, mean=[2.0, 10.0], std=[1.0, 0.0]), [[3.0, 2.0]])
    with pytest.raises(ValueError):
        standardize(X, mean=[0.0, 0.0])


def test_train_test_split():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, seed=0)
    assert X_tr.shape == (7, 2) and X_te.shape == (3, 2)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), y)
    again = train_test_split(X, y, test_size=0.3, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    _, b = train_test_split(y, test_size=2, shuffle=False)
    np.testing.assert_array_equal(b, [8, 9])
    with pytest.raises(ValueError):
        train_test_split(X, y[:5])
    with pytest.raises(ValueError):
        train_test_split(X, test_size=1.5)
