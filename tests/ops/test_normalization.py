"""ops.BatchNorm in training (batch statistics) and evaluation (given statistics), (N, C) and (N, C, L)."""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F

from numnet import Tensor, ops

from ._oracle import check

FAMILY = "normalization"
SHAPES = [(5, 3), (4, 3, 2), (2, 3, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_training(rng, shape):
    x = rng.standard_normal(shape) * 2 + 1
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    check(
        FAMILY,
        "batch_norm(train)",
        lambda x, g, b: ops.BatchNorm.apply(x, g, b, eps=1e-5, training=True),
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
        x,
        gamma,
        beta,
    )


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_eval(rng, shape):
    x = rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    check(
        FAMILY,
        "batch_norm(eval)",
        lambda x, g, b: ops.BatchNorm.apply(x, g, b, mean=mean, var=var, eps=1e-3, training=False),
        lambda x, g, b: F.batch_norm(x, _t(mean), _t(var), g, b, training=False, eps=1e-3),
        x,
        gamma,
        beta,
    )


def _t(a):
    import torch

    return torch.from_numpy(a)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_without_affine_parameters(rng, training):
    x = rng.standard_normal((6, 2))
    mean, var = np.array([0.1, -0.2]), np.array([1.5, 0.5])
    check(
        FAMILY,
        "batch_norm(no affine)",
        lambda x: ops.BatchNorm.apply(x, None, None, mean=mean, var=var, training=training),
        lambda x: F.batch_norm(x, _t(mean), _t(var), None, None, training=training),
        x,
    )


@pytest.mark.parametrize("requires", [[True, False, False], [False, True, True]], ids=str)
def test_batch_norm_with_some_inputs_constant(rng, requires):
    x, gamma, beta = rng.standard_normal((5, 3)), rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    check(
        FAMILY,
        "batch_norm(train)",
        lambda x, g, b: ops.BatchNorm.apply(x, g, b),
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
        x,
        gamma,
        beta,
        requires=requires,
    )


def test_statistics_given_positionally_or_as_tensors(rng):
    x = rng.standard_normal((4, 3))
    gamma, beta = Tensor(np.ones(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    mean, var = np.full(3, 0.5), np.full(3, 2.0)
    a = ops.BatchNorm.apply(Tensor(x), gamma, beta, mean, var, 1e-5, False)
    b = ops.BatchNorm.apply(Tensor(x), gamma, beta, mean=Tensor(mean), var=Tensor(var), training=False)
    np.testing.assert_allclose(a.data, (x - 0.5) / np.sqrt(2.0 + 1e-5))
    np.testing.assert_array_equal(a.data, b.data)
    a.sum().backward()  # five inputs: the statistics get no gradient, and backward must say so
    assert gamma.grad.shape == (3,)


def test_training_keeps_the_batch_statistics(rng):
    x = rng.standard_normal((8, 3, 2))
    out = ops.BatchNorm.apply(Tensor(x), np.ones(3), np.zeros(3))
    fn = ops.BatchNorm.__new__(ops.BatchNorm)
    fn.forward(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(fn.batch_mean, x.mean(axis=(0, 2)))
    np.testing.assert_allclose(fn.batch_var, x.var(axis=(0, 2)))  # biased (÷ m), as used to normalise
    np.testing.assert_allclose(out.data.mean(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.data.var(axis=(0, 2)), 1.0, rtol=1e-4)


def test_float32_batch_norm_stays_float32(rng):
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    g = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    for training, stats in ((True, {}), (False, {"mean": np.zeros(3), "var": np.ones(3)})):
        y = ops.BatchNorm.apply(x, g, b, training=training, **stats)
        assert y.dtype == np.float32
        (y * y).sum().backward()
        assert x.grad.dtype == g.grad.dtype == b.grad.dtype == np.float32


def test_batch_norm_errors_say_what_is_wrong():
    g, b = np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"must be \(N, C\) or \(N, C, \.\.\.\), got shape \(3,\)"):
        ops.BatchNorm.apply(Tensor(np.ones(3)), g, b)
    with pytest.raises(
        ValueError, match=r"input has 4 channels \(shape \(2, 4\)\) but weight has shape \(3,\)"
    ):
        ops.BatchNorm.apply(Tensor(np.ones((2, 4))), g, np.zeros(4))
    with pytest.raises(ValueError, match=r"more than one value per channel, got input shape \(1, 3\)"):
        ops.BatchNorm.apply(Tensor(np.ones((1, 3))), g, b, training=True)
    with pytest.raises(ValueError, match=r"needs the running mean and var"):
        ops.BatchNorm.apply(Tensor(np.ones((2, 3))), g, b, training=False)
