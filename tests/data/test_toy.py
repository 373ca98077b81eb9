"""Toy data sets: exact tutorial values, shapes, dtypes, determinism; and scikit-learn's digits."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import numnet
from numnet.data import (
    GENDER_OFFSETS,
    curve_function,
    curve_linspace,
    load_digits,
    load_gender,
    make_circles,
    make_curve,
    make_moons,
    make_spirals,
    make_xor,
)


def test_make_xor_exact():
    X, y = make_xor()
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_curve_function_formula():
    x = np.array([0.0, 0.25, 0.5, 1.0])
    expected = 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.01 * np.cos(50 * x) - 0.3
    np.testing.assert_allclose(curve_function(x), expected, rtol=0, atol=1e-15)
    assert curve_function(0.0) == pytest.approx(0.01 - 0.3)
    assert curve_function(np.float32(0.5)).dtype == np.float32


def test_make_curve_shapes_range_formula_and_seed():
    x, y = make_curve(1000, seed=2)
    assert x.shape == y.shape == (1000, 1)
    assert x.dtype == y.dtype == np.float32
    assert x.min() >= 0.0 and x.max() < 1.0
    xd = x.astype(np.float64)
    expected = 0.4 * xd**2 + 0.3 * xd * np.sin(15 * xd) + 0.01 * np.cos(50 * xd) - 0.3
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-7)
    x2, y2 = make_curve(1000, seed=2)
    assert x2.tobytes() == x.tobytes() and y2.tobytes() == y.tobytes()
    assert not np.array_equal(make_curve(1000, seed=3)[0], x)
    numnet.manual_seed(9)
    a = make_curve(10)[0]
    numnet.manual_seed(9)
    np.testing.assert_array_equal(make_curve(10)[0], a)


def test_curve_linspace():
    x, y = curve_linspace(100)
    assert x.shape == y.shape == (100, 1) and x.dtype == np.float32
    assert x[0, 0] == 0.0 and x[-1, 0] == 1.0
    np.testing.assert_allclose(y, curve_function(x.astype(np.float64)), atol=1e-7)


def test_load_gender_exact():
    g = load_gender()
    assert g.data.dtype == np.float32 and g.target.dtype == np.int64
    np.testing.assert_array_equal(g.data, [[-2, -1], [25, 6], [17, 4], [-15, -6]])
    np.testing.assert_array_equal(g.target, [1, 0, 0, 1])
    assert g.names == ["Alice", "Bob", "Charlie", "Diana"]
    assert len(g.feature_names) == 2 and g.target_names[1] == "female"
    X, y = g
    assert X is g.data and y is g.target
    # Alice weighs 133 lb and is 65 in tall: the features are offsets from (135, 66)
    np.testing.assert_array_equal(np.array([133.0, 65.0]) - GENDER_OFFSETS, g.data[0])


@pytest.mark.parametrize("maker", [make_moons, make_circles, make_spirals])
def test_2d_sets_shapes_dtypes_and_determinism(maker):
    X, y = maker(101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    X2, y2 = maker(101, noise=0.1, seed=0)
    assert X.tobytes() == X2.tobytes() and y.tobytes() == y2.tobytes()
    assert not np.array_equal(maker(101, noise=0.1, seed=1)[0], X)
    numnet.manual_seed(4)
    a = maker(20, noise=0.1)[0]
    numnet.manual_seed(4)
    np.testing.assert_array_equal(maker(20, noise=0.1)[0], a)
    with pytest.raises(ValueError):
        maker(0)
    with pytest.raises(ValueError):
        maker(10, noise=-1.0)


def test_make_moons_geometry_without_noise():
    X, y = make_moons(100, shuffle=False)
    assert np.bincount(y).tolist() == [50, 50]
    outer, inner = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, atol=1e-6)
    assert outer[:, 1].min() >= -1e-6 and inner[:, 1].max() <= 0.5 + 1e-6


def test_make_circles_geometry_without_noise():
    X, y = make_circles(100, factor=0.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.5, atol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.0)


def test_make_spirals_classes_and_radius():
    X, y = make_spirals(301, classes=3, seed=0)
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-6
    with pytest.raises(ValueError):
        make_spirals(2, classes=3)


def test_load_digits_shape_and_range():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_load_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"numnet\[sklearn\]"):
        load_digits()
