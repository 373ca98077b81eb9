"""nn.functional: the stateless forms compute exactly what the layers compute."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import nn


def test_functional_forms_equal_their_layers():
    x = numnet.randn(4, 3)
    layer = nn.Linear(3, 2)
    pairs = [
        (F.linear(x, layer.weight, layer.bias), layer(x)),
        (F.relu(x), nn.ReLU()(x)),
        (F.leaky_relu(x, 0.2), nn.LeakyReLU(0.2)(x)),
        (F.sigmoid(x), nn.Sigmoid()(x)),
        (F.tanh(x), nn.Tanh()(x)),
        (F.step(x), nn.Step()(x)),
        (F.softmax(x, dim=0), nn.Softmax(dim=0)(x)),
        (F.log_softmax(x), nn.LogSoftmax()(x)),
        (F.flatten(x.reshape(2, 2, 3), 1), nn.Flatten()(x.reshape(2, 2, 3))),
    ]
    for a, b in pairs:
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(F.linear(x, layer.weight).data, x.data @ layer.weight.data.T, rtol=1e-6)
    np.testing.assert_allclose(F.softmax(x).data.sum(axis=-1), 1, rtol=1e-6)


def test_functional_losses_equal_their_layers():
    logits, labels = numnet.randn(5, 3), np.array([0, 2, 1, 1, 0])
    probs = F.one_hot(labels, 3)
    assert F.cross_entropy(logits, labels).item() == nn.CrossEntropyLoss()(logits, labels).item()
    expected = F.cross_entropy(logits, labels).item()
    assert F.cross_entropy(logits, probs).item() == pytest.approx(expected, rel=1e-6)
    assert F.nll_loss(F.log_softmax(logits), labels).item() == pytest.approx(
        F.cross_entropy(logits, labels).item(), rel=1e-6
    )
    y = numnet.rand(5, 3)
    assert F.mse_loss(y, probs, reduction="sum").item() == nn.MSELoss(reduction="sum")(y, probs).item()
    assert F.binary_cross_entropy(y, probs).item() == nn.BCELoss()(y, probs).item()
    with_logits = F.binary_cross_entropy_with_logits(logits, probs)
    assert with_logits.item() == nn.BCEWithLogitsLoss()(logits, probs).item()


def test_dropout_functional():
    x = numnet.randn(50, 50)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 0.5)
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 2 * x.data[kept], rtol=1e-6)
    with pytest.raises(ValueError, match="probability"):
        F.dropout(x, -0.1)


def test_batch_norm_functional_updates_the_running_arrays_in_place():
    x = numnet.randn(16, 3) * 2 + 1
    mean, var = np.zeros(3, dtype=np.float32), np.ones(3, dtype=np.float32)
    out = F.batch_norm(x, mean, var, training=True, momentum=0.5)
    np.testing.assert_allclose(out.data.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(mean, 0.5 * x.data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.5 + 0.5 * x.data.var(axis=0, ddof=1), rtol=1e-5)  # unbiased
    evaluated = F.batch_norm(x, mean, var, training=False)
    np.testing.assert_allclose(evaluated.data, (x.data - mean) / np.sqrt(var + 1e-5), rtol=1e-5)
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)


def test_batchnorm_layer_modes_use_the_right_statistics():
    bn = nn.BatchNorm1d(2)
    x = numnet.Tensor(np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32))
    train_out = bn(x)
    np.testing.assert_allclose(train_out.data, [[-1, -1], [1, 1]], rtol=1e-3)  # batch statistics
    np.testing.assert_allclose(bn.running_mean, [0.2, 2.0], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var, [0.9 + 0.1 * 2.0, 0.9 + 0.1 * 200.0], rtol=1e-6)
    bn.eval()
    eval_out = bn(x)
    expected = (x.data - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    np.testing.assert_allclose(eval_out.data, expected, rtol=1e-6)
    assert int(bn.num_batches_tracked) == 1  # evaluation does not count
