"""nn.Conv2d, the pooling layers, BatchNorm2d and Dropout2d against PyTorch (float64): outputs, gradients,
running statistics, default initialisation, repr, bad input; config / save / load / summary; and a LeNet-style
net trained 20 SGD-momentum steps from PyTorch's initial weights ends with PyTorch's weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import numnet
from numnet import models, nn, optim
from numnet.nn import config
from numnet.ops.conv import use_method

RTOL = 1e-7


def rel(ours, theirs) -> float:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert ours.shape == theirs.shape
    scale = np.max(np.abs(theirs)) if theirs.size else 0.0
    return float(np.max(np.abs(ours - theirs)) / scale) if scale > 0 else float(np.max(np.abs(ours - theirs)))


def copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    """PyTorch's initial weights (and buffers) into numnet's model, matched by state_dict name."""
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


@pytest.fixture
def rng():
    return np.random.default_rng(42)


@pytest.fixture(autouse=True)
def _float64_and_one_torch_thread():
    numnet.set_default_dtype(np.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


LAYERS = [
    (lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    (
        lambda: nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 2), dilation=(2, 1), groups=2, bias=False),
        lambda: torch.nn.Conv2d(
            4, 6, (3, 2), stride=2, padding=(1, 2), dilation=(2, 1), groups=2, bias=False
        ),
        (1, 4, 9, 8),
    ),
    (
        lambda: nn.Conv2d(2, 3, 4, padding="same"),
        lambda: torch.nn.Conv2d(2, 3, 4, padding="same"),
        (2, 2, 5, 7),
    ),
    (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2), (2, 3, 8, 9)),
    (
        lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        lambda: torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True),
        (2, 2, 8, 7),
    ),
    (
        lambda: nn.AvgPool2d((3, 2), stride=1, padding=1, count_include_pad=False),
        lambda: torch.nn.AvgPool2d((3, 2), stride=1, padding=1, count_include_pad=False),
        (2, 2, 5, 6),
    ),
    (lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda: torch.nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    (lambda: nn.Flatten(), lambda: torch.nn.Flatten(), (2, 3, 4, 5)),
]


@pytest.mark.parametrize(("ours", "theirs", "shape"), LAYERS)
def test_layers_match_pytorch(rng, ours, theirs, shape):
    mine, ref = ours(), theirs().double()
    assert repr(mine) == repr(ref)
    if list(ref.parameters()):
        copy_weights(mine, ref)
    x = rng.permutation(math.prod(shape)).reshape(shape) * 0.01 + rng.uniform(-1e-3, 1e-3, shape)
    xn, xt = numnet.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = mine(xn), ref(xt)
    assert rel(out.data, out_t.detach().numpy()) <= RTOL
    g = rng.standard_normal(out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    assert rel(xn.grad, xt.grad.numpy()) <= RTOL
    for (name, p), (_, pt) in zip(mine.named_parameters(), ref.named_parameters(), strict=True):
        assert rel(p.grad, pt.grad.numpy()) <= RTOL, name


def test_conv2d_default_init_is_pytorchs():
    # kaiming_uniform(a=√5): W ~ U(±1/√fan_in), b ~ U(±1/√fan_in), fan_in = in/groups·kh·kw
    layer = nn.Conv2d(12, 66, (3, 5), groups=3)
    bound = 1 / math.sqrt(4 * 3 * 5)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (66, 4, 3, 5) and b.shape == (66,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(np.abs(w).max() - bound) < 0.01 * bound  # the whole range is used
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform: std = bound/√3
    assert nn.Conv2d(1, 2, 3).weight.dtype == np.float64  # the default dtype of this test
    numnet.set_default_dtype(np.float32)
    assert nn.Conv2d(1, 2, 3).weight.dtype == np.float32


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_running_stats_match_pytorch(rng, momentum):
    mine, ref = nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum).double()
    assert repr(mine) == repr(ref)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    copy_weights(mine, ref)
    for step in range(4):
        x = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        xn, xt = numnet.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, out_t = mine(xn), ref(xt)
        assert rel(out.data, out_t.detach().numpy()) <= RTOL
        out.backward(np.cos(x))
        out_t.backward(torch.from_numpy(np.cos(x)))
        assert rel(xn.grad, xt.grad.numpy()) <= RTOL
    for name in ("running_mean", "running_var"):
        assert rel(getattr(mine, name), getattr(ref, name).numpy()) <= 1e-12, name
    assert int(mine.num_batches_tracked) == int(ref.num_batches_tracked) == 4
    mine.eval(), ref.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    assert rel(mine(numnet.Tensor(x)).data, ref(torch.from_numpy(x)).detach().numpy()) <= RTOL


def test_dropout2d_drops_whole_channels():
    layer = nn.Dropout2d(0.5)
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5))
    x = numnet.Tensor(np.ones((200, 8, 3, 3)), requires_grad=True)
    out = layer(x).data
    per_channel = out.reshape(200, 8, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # a channel is kept or dropped whole
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs((out == 0).mean() - 0.5) < 0.05
    out3 = layer(numnet.Tensor(np.ones((300, 4, 5)))).data  # 3-D: (N, C, L), one draw per (n, c)
    assert np.all(out3.min(axis=2) == out3.max(axis=2)) and 0.4 < (out3 == 0).mean() < 0.6
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (
            lambda: nn.Conv2d(3, 8, 5),
            (2, 1, 28, 28),
            r"Conv2d\(3, 8, kernel_size=\(5, 5\)\).*\(N, 3, H, W\).*\(2, 1, 28, 28\)",
        ),
        (lambda: nn.Conv2d(1, 8, 5), (2, 1, 4, 4), r"Conv2d\(1, 8.*smaller than the kernel"),
        (lambda: nn.Conv2d(1, 8, 5), (28, 28), r"Conv2d\(1, 8.*got \(28, 28\)"),
        (
            lambda: nn.MaxPool2d(3),
            (1, 1, 2, 2),
            r"MaxPool2d\(kernel_size=3.*\(1, 1, 2, 2\).*smaller than the kernel",
        ),
        (lambda: nn.AvgPool2d(2), (4, 4), r"AvgPool2d\(kernel_size=2.*got \(4, 4\)"),
        (lambda: nn.BatchNorm2d(3), (2, 4, 5, 5), r"BatchNorm2d\(3\).*\(N, 3, H, W\).*\(2, 4, 5, 5\)"),
        (lambda: nn.BatchNorm2d(3), (2, 3), r"BatchNorm2d\(3\)"),
    ],
)
def test_bad_input_names_the_layer_and_the_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(numnet.Tensor(np.zeros(shape)))


def test_unbatched_input(rng):
    x = rng.standard_normal((3, 8, 8))
    conv, ref = nn.Conv2d(3, 2, 3), torch.nn.Conv2d(3, 2, 3).double()
    copy_weights(conv, ref)
    out = nn.MaxPool2d(2)(conv(numnet.Tensor(x)))
    expected = torch.nn.MaxPool2d(2)(ref(torch.from_numpy(x))).detach().numpy()
    assert out.shape == (2, 3, 3)
    assert rel(out.data, expected) <= RTOL


def _lenet(lib):
    return lib.Sequential(
        lib.Conv2d(1, 6, 5, padding=2),
        lib.ReLU(),
        lib.MaxPool2d(2),
        lib.Conv2d(6, 16, 5),
        lib.ReLU(),
        lib.AvgPool2d(2),
        lib.Flatten(),
        lib.Linear(16 * 3 * 3, 10),
    )


@pytest.mark.parametrize("method", ["batched", "im2col"])
def test_lenet_trained_20_sgd_momentum_steps_gives_pytorchs_weights(rng, method):
    torch.manual_seed(0)
    ref = _lenet(torch.nn).double()
    mine = _lenet(nn)
    copy_weights(mine, ref)
    opt = optim.SGD(mine.parameters(), lr=0.05, momentum=0.9)
    opt_t = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    loss_fn, loss_t = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    X = rng.random((20 * 8, 1, 20, 20))
    y = rng.integers(0, 10, len(X))
    losses = []
    with use_method(method):
        for step in range(20):
            xb, yb = X[step * 8 : step * 8 + 8], y[step * 8 : step * 8 + 8]
            loss = loss_fn(mine(numnet.Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            lt = loss_t(ref(torch.from_numpy(xb)), torch.from_numpy(yb))
            opt_t.zero_grad()
            lt.backward()
            opt_t.step()
            losses.append((loss.item(), lt.item()))
    assert losses[-1][1] < losses[0][1]  # it did train
    assert max(abs(a - b) / abs(b) for a, b in losses) <= RTOL
    theirs = dict(ref.named_parameters())
    for name, p in mine.named_parameters():
        assert rel(p.data, theirs[name].detach().numpy()) <= RTOL, name


def test_cnn_config_save_load_and_summary(tmp_path, rng):
    numnet.set_default_dtype(np.float32)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same"),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d((2, 2), stride=2),
        nn.Dropout2d(0.25),
        nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=1, groups=2, bias=False),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.Flatten(),
        nn.Linear(24, 3),
    )
    rebuilt = config.from_config(config.to_config(model))
    assert repr(rebuilt) == repr(model)
    x = numnet.Tensor(rng.random((2, 1, 12, 12), dtype=np.float32))
    model(x)  # one training step's statistics, so the saved buffers are not the initial ones
    path = tmp_path / "cnn.npz"
    numnet.save(model, path)
    loaded = numnet.load(path)
    assert repr(loaded) == repr(model)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    np.testing.assert_array_equal(loaded[1].running_var, model[1].running_var)
    from numnet.summary import layer_rows

    rows = layer_rows(model, (1, 12, 12))
    shapes = [shape for _, _, shape, _ in rows]
    # conv (3, 2) stride (2, 1) pad 1 on 6×6: ⌊(6 + 2 − 3)/2⌋ + 1 = 3 rows, 6 + 2 − 2 + 1 = 7 columns;
    # avg-pool 2 with ceil_mode: ⌈(3 − 2)/2⌉ + 1 = 2 rows, ⌈(7 − 2)/2⌉ + 1 = 4 columns
    assert shapes[0] == (-1, 4, 12, 12) and shapes[3] == (-1, 4, 6, 6) and shapes[5] == (-1, 6, 3, 7)
    assert shapes[6] == (-1, 6, 2, 4) and shapes[7] == (-1, 6, 2, 2) and shapes[-1] == (-1, 3)
    assert [count for *_, count in rows][:2] == [4 * 9 + 4, 8]


def test_models_build_the_books_nets():
    numnet.set_default_dtype(np.float32)
    simple = models.build("simple-cnn", (1, 28, 28), 10)
    assert [type(m).__name__ for m in simple] == [
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert simple[0].weight.shape == (30, 1, 5, 5) and simple[4].weight.shape == (100, 4320)
    assert simple.num_parameters() == 30 * 25 + 30 + 4320 * 100 + 100 + 100 * 10 + 10
    assert abs(simple[4].weight.data.std() - 0.01) < 1e-3 and not simple[0].bias.data.any()
    out = simple(numnet.Tensor(np.zeros((2, 1, 28, 28), np.float32)))
    assert out.shape == (2, 10) and out.dtype == np.float32
    deep = models.build("deep-cnn", (1, 28, 28), 10)
    assert deep(numnet.Tensor(np.zeros((2, 1, 28, 28), np.float32))).shape == (2, 10)
    assert abs(deep[2].weight.data.std() - math.sqrt(2 / (16 * 9))) < 0.01
    assert "simple-cnn" in models.names()
    with pytest.raises(ValueError, match="unknown model 'lenet'; choose from simple-cnn"):
        models.build("lenet", (1, 28, 28), 10)
    with pytest.raises(ValueError, match=r"input_shape must be \(channels, height, width\)"):
        models.build("simple-cnn", (784,), 10)


def test_input_shape_from_metadata_and_graph_of_a_cnn(tmp_path):
    from numnet import graph, io

    numnet.set_default_dtype(np.float32)
    model = models.build("simple-cnn", (1, 28, 28), 10)
    with pytest.raises(ValueError, match="metadata=\\{'input_shape': \\[C, H, W\\]\\}"):
        models.input_shape(model)
    assert models.input_shape(models.mlp(784, [50], 10)) == (784,)
    numnet.save(model, tmp_path / "cnn.npz", metadata={"input_shape": [1, 28, 28]})
    loaded, metadata = io.load_with_metadata(tmp_path / "cnn.npz")
    assert models.input_shape(loaded, metadata) == (1, 28, 28)
    dot = graph.to_dot(graph.trace(loaded, numnet.Tensor(np.zeros((1, 1, 28, 28), np.float32))))
    assert "Conv2d" in dot and "MaxPool2d" in dot and "(1, 30, 24, 24)" in dot
