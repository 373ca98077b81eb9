"""Losses and layers beyond the numbers: stability at extreme inputs, target handling, and error messages
that name the layer or loss the user called, with the shapes involved."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import numnet
from numnet import nn

EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, -1e4, 1e4]], dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_losses_are_finite_and_silent_at_extreme_logits(dtype):
    logits = EXTREME.astype(dtype)
    cases = [
        (nn.CrossEntropyLoss(), np.array([1, 0, 1])),  # true class at −1e4: loss ≈ 2e4, still finite
        (nn.CrossEntropyLoss(label_smoothing=0.1), np.array([2, 2, 0])),
        (nn.CrossEntropyLoss(), np.eye(3, dtype=dtype)[[1, 0, 1]]),
        (nn.BCEWithLogitsLoss(), (np.arange(9).reshape(3, 3) % 2).astype(dtype)),
        (nn.MSELoss(), np.zeros((3, 3), dtype=dtype)),
        (nn.BCELoss(), (np.arange(9).reshape(3, 3) % 2).astype(dtype)),  # on σ(±1e4) = exactly 0 or 1
        (nn.NLLLoss(), np.array([1, 0, 1])),  # on log_softmax of the extremes
    ]
    for loss_fn, target in cases:
        x = numnet.Tensor(logits.copy(), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # overflow, divide-by-zero, invalid: any warning fails
            inp = x
            if isinstance(loss_fn, nn.BCELoss):
                inp = nn.Sigmoid()(x)
            elif isinstance(loss_fn, nn.NLLLoss):
                inp = nn.LogSoftmax(dim=1)(x)
            loss = loss_fn(inp, target)
            loss.backward()
        assert np.isfinite(loss.data).all(), type(loss_fn).__name__
        assert np.isfinite(x.grad).all(), type(loss_fn).__name__
        assert loss.dtype == dtype and x.grad.dtype == dtype


def test_cross_entropy_at_extreme_logits_has_the_exact_value():
    logits = numnet.Tensor(np.array([[1e4, -1e4]]), requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, np.array([1]))
    assert loss.item() == pytest.approx(2e4)
    loss.backward()
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0]])  # softmax − onehot


def test_targets_as_tensors_or_arrays_give_the_same_loss_and_no_target_grad():
    y = numnet.Tensor(np.array([[0.2], [0.7]], dtype=np.float32), requires_grad=True)
    t_array = np.array([[0.0], [1.0]])  # float64 array for a float32 prediction
    t_tensor = numnet.Tensor(t_array)
    a, b, c = (nn.MSELoss()(y, t) for t in (t_array, t_tensor, t_array.tolist()))
    assert a.item() == b.item() == c.item()
    assert a.dtype == np.float32  # the target is brought to the prediction's dtype
    a.backward()
    assert t_tensor.grad is None and not t_tensor.requires_grad
    ce = nn.CrossEntropyLoss()
    logits = numnet.randn(3, 2)
    assert ce(logits, numnet.Tensor(np.array([0, 1, 1]))).item() == ce(logits, [0, 1, 1]).item()
    assert ce(logits, np.array([False, True, True])).item() == ce(logits, [0, 1, 1]).item()
    bce = nn.BCEWithLogitsLoss()
    assert bce(logits, np.ones((3, 2), dtype=bool)).item() == bce(logits, np.ones((3, 2))).item()


def test_one_hot():
    f = nn.functional
    np.testing.assert_array_equal(f.one_hot(np.array([2, 0]), 3).data, [[0, 0, 1], [1, 0, 0]])
    assert f.one_hot([1, 0]).shape == (2, 2) and f.one_hot([1, 0]).dtype == np.float32
    assert f.one_hot([1], 2, dtype=np.int64).dtype == np.int64
    assert not f.one_hot([1]).requires_grad
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        f.one_hot([3], 3)
    with pytest.raises(ValueError, match="integers"):
        f.one_hot([1.0])


# --- errors ------------------------------------------------------------------------------------------------


def test_linear_width_mismatch_names_the_layer_and_both_shapes():
    layer = nn.Linear(3, 4)
    with pytest.raises(ValueError) as info:
        layer(numnet.randn(8, 5))
    expected = "Linear(in_features=3, out_features=4) expects inputs of shape (N, 3), got (8, 5)"
    assert str(info.value) == expected
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*got \(\)"):
        layer(numnet.tensor(1.0))
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*got list"):
        layer([[1.0, 2.0, 3.0]])
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=1\).* got \(5, 3\)"):
        net(numnet.randn(5, 2))


def test_batchnorm_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\) expects inputs of shape \(N, 3\).*got \(4, 2\)"):
        nn.BatchNorm1d(3)(numnet.randn(4, 2))
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn(numnet.randn(1, 3))
    assert int(bn.num_batches_tracked) == 0 and (bn.running_mean == 0).all()  # a rejected batch: no change


@pytest.mark.parametrize(
    ("loss_fn", "prediction", "target"),
    [
        (nn.MSELoss(), np.zeros((8, 1)), np.zeros((7, 1))),
        (nn.BCELoss(), np.full((8, 1), 0.5), np.zeros((7, 1))),
        (nn.BCEWithLogitsLoss(), np.zeros((8, 1)), np.zeros((7, 1))),
        (nn.CrossEntropyLoss(), np.zeros((8, 3)), np.zeros(7, dtype=np.int64)),
        (nn.CrossEntropyLoss(), np.zeros((8, 3)), np.zeros((7, 3))),
        (nn.NLLLoss(), np.zeros((8, 3)), np.zeros(7, dtype=np.int64)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "",
)
def test_loss_length_mismatch_names_the_loss_and_both_shapes(loss_fn, prediction, target):
    with pytest.raises(ValueError) as info:
        loss_fn(numnet.Tensor(prediction, requires_grad=True), target)
    message = str(info.value)
    assert message.startswith(type(loss_fn).__name__ + ": "), message
    assert str(prediction.shape) in message and str(target.shape) in message, message


def test_loss_argument_errors():
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: class labels must lie in \[0, 2\]"):
        nn.CrossEntropyLoss()(numnet.randn(2, 3), [0, 3])
    with pytest.raises(ValueError, match=r"NLLLoss: class labels must lie in \[0, 2\], got \[-1, 0\]"):
        nn.NLLLoss()(numnet.randn(2, 3), [0, -1])
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: .*look like class labels.*astype"):
        nn.CrossEntropyLoss()(numnet.randn(2, 3), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"BCELoss: predictions must be probabilities.*logits"):
        nn.BCELoss()(numnet.Tensor(np.array([1.5])), np.array([1.0]))
    with pytest.raises(ValueError, match=r"label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match=r"MSELoss: the prediction must be a Tensor"):
        nn.MSELoss()([1.0], [1.0])


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match=r"out_features must be a positive integer, got 2\.5"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match="Dropout: p must be a probability"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm1d(-1)
    with pytest.raises(ValueError, match="softmax: dim=2 is out of range for an input of shape"):
        nn.Softmax(dim=2)(numnet.randn(2, 3))
    with pytest.raises(ValueError, match="flatten: start_dim=1, end_dim=-1 do not fit"):
        nn.Flatten()(numnet.randn(3))
