"""Inverted dropout: a seeded mask, scaled by 1/(1 − p), the same mask in the backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import Tensor, ops

from ._oracle import assert_gradcheck, assert_matches_torch

FAMILY = "regularization"


def _expected_mask(seed, shape, p, dtype=np.float64):
    numnet.manual_seed(seed)
    return (numnet.get_rng().random(shape, dtype=dtype) >= p) / (1 - p)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(6,), (4, 5), (2, 3, 4)], ids=str)
def test_dropout_gradcheck_and_torch(rng, shape, p):
    x = rng.standard_normal(shape)
    mask = _expected_mask(7, shape, p)

    def dropout(t):
        numnet.manual_seed(7)  # the same mask on every call, so finite differences see one function
        return ops.Dropout.apply(t, p=p)

    assert_gradcheck(dropout, x)
    assert_matches_torch(FAMILY, "dropout", dropout, lambda t: t * torch.from_numpy(mask), x)


def test_dropout_is_reproducible_under_manual_seed():
    x = Tensor(np.ones((50, 40)))
    numnet.manual_seed(3)
    a = ops.Dropout.apply(x, p=0.5).data
    numnet.manual_seed(3)
    b = ops.Dropout.apply(x, p=0.5).data
    c = ops.Dropout.apply(x, p=0.5).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_dropout_keeps_1_minus_p_and_preserves_the_mean():
    numnet.manual_seed(0)
    x = Tensor(np.ones((200, 500), dtype=np.float32), requires_grad=True)
    y = ops.Dropout.apply(x, p=0.25)
    kept = y.data != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    assert y.data.mean() == pytest.approx(1.0, abs=0.02)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # dx = mask/(1 − p) = y for x = 1
    assert x.grad.dtype == np.float32


def test_dropout_p0_is_the_identity():
    x = Tensor(np.arange(6.0), requires_grad=True)
    y = ops.Dropout.apply(x, p=0.0)
    np.testing.assert_array_equal(y.data, x.data)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_invalid_p(p):
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\)"):
        ops.Dropout.apply(Tensor(np.ones(3)), p=p)
