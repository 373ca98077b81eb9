"""numnet.compiled: a recorded-and-replayed training step gives exactly what the eager step gives."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import data, nn, optim
from numnet.compiled import compile_step


def _fit_net():
    numnet.manual_seed(2)
    return nn.Sequential(nn.Linear(1, 16), nn.Sigmoid(), nn.Linear(16, 1))


def _classifier(dropout: float = 0.0):
    numnet.manual_seed(3)
    layers = [nn.Linear(6, 8), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def _curve(n=40):
    x, y = data.make_curve(n, seed=4)
    return x.astype(np.float32), y.astype(np.float32)


def _labels(n=50):
    rng = np.random.default_rng(5)
    return rng.standard_normal((n, 6)).astype(np.float32), rng.integers(0, 3, n)


def _eager_and_compiled(build, make_opt, loss_fn, batches, seed=11):
    """Train two identical models on the same batches, eagerly and compiled; return both, and the losses."""
    m_eager, m_comp = build(), build()
    o_eager, o_comp = make_opt(m_eager), make_opt(m_comp)
    step = compile_step(m_comp, loss_fn, o_comp)
    numnet.manual_seed(seed)
    eager = []
    for xb, yb in batches():
        o_eager.zero_grad()
        loss = loss_fn(m_eager(xb), yb)
        loss.backward()
        o_eager.step()
        eager.append(loss.item())
    numnet.manual_seed(seed)
    compiled = [step(xb, yb).item() for xb, yb in batches()]
    return (m_eager, o_eager), (m_comp, o_comp), eager, compiled, step


def _assert_same_models(a, b):
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert x.dtype == y.dtype == np.float32, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_fit_net_single_samples_sgd_is_bit_identical():
    x, y = _curve()
    mse = nn.MSELoss(reduction="sum")
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=1)

    def batches():
        for _ in range(3):
            yield from loader

    (me, _), (mc, _), eager, compiled, step = _eager_and_compiled(
        _fit_net, lambda m: optim.SGD(m.parameters(), lr=0.1), lambda z, t: 0.5 * mse(z, t), batches
    )
    assert eager == compiled
    _assert_same_models(me, mc)
    assert step.traces == 1  # recorded once, replayed 119 times
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        np.testing.assert_array_equal(pe.grad, pc.grad)  # the last step's gradients are there too
        assert pc.grad.dtype == np.float32


@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "adam", "rmsprop"])
def test_classifier_with_cross_entropy_and_a_smaller_last_batch(opt_name):
    x, y = _labels(50)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)

    def batches():
        for epoch in range(3):
            loader.set_epoch(epoch)
            yield from loader

    (me, _), (mc, _), eager, compiled, step = _eager_and_compiled(
        _classifier,
        lambda m: optim.create_optimizer(opt_name, m.parameters(), lr=0.05),
        nn.CrossEntropyLoss(),
        batches,
    )
    assert eager == compiled
    _assert_same_models(me, mc)
    assert step.traces == 2  # batches of 16, then the last one of 2: each shape recorded once


def test_dropout_draws_the_same_masks_as_eager():
    x, y = _labels(32)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8)

    def batches():
        for _ in range(4):
            yield from loader

    (me, _), (mc, _), eager, compiled, _ = _eager_and_compiled(
        lambda: _classifier(dropout=0.5),
        lambda m: optim.SGD(m.parameters(), lr=0.1),
        nn.CrossEntropyLoss(),
        batches,
    )
    assert eager == compiled
    _assert_same_models(me, mc)


def test_a_learning_rate_changed_between_steps_is_used():
    x, y = _curve(8)
    mse = nn.MSELoss()
    model = _fit_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, mse, opt)
    step(x, y)
    opt.param_groups[0]["lr"] = 0.0  # a scheduler's change: the replayed step must see it
    before = [p.data.copy() for p in model.parameters()]
    step(x, y)
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_switching_to_eval_mode_records_the_step_again():
    x, y = _labels(8)
    model = _classifier(dropout=0.5)
    step = compile_step(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    step(x, y)
    step(x, y)
    model.eval()
    step(x, y)
    assert step.traces == 2


def test_the_returned_loss_has_no_graph():
    x, y = _curve(8)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    for _ in range(2):
        loss = step(x, y)
        assert loss.grad_fn is None and not loss.requires_grad and loss.dtype == np.float32


def test_refuses_a_model_with_buffers():
    numnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"holds buffers .*running_mean.*train it eagerly"):
        compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))


def test_refuses_a_target_that_the_step_converts():
    x, y = _curve(8)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"not the input itself .*dtypes the model uses"):
        step(x, y.astype(np.float64))  # mse_loss casts it to float32: a new array each step


def test_bad_arguments_are_type_errors():
    model = _fit_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"model must be an nn\.Module"):
        compile_step(lambda x: x, nn.MSELoss(), opt)
    with pytest.raises(TypeError, match=r"optimizer must be an optim\.Optimizer"):
        compile_step(model, nn.MSELoss(), "sgd")
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        compile_step(model, 3, opt)


def test_no_grad_is_refused():
    x, y = _curve(4)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    with numnet.no_grad(), pytest.raises(RuntimeError, match="needs gradients"):
        step(x, y)


def test_prediction_is_each_steps_model_output():
    """``step.prediction`` is model(x) of the step just taken (before its update), as the eager forward's."""
    x, y = _curve(12)
    mse = nn.MSELoss(reduction="sum")
    eager_model, compiled_model = _fit_net(), _fit_net()
    eager_opt = optim.SGD(eager_model.parameters(), lr=0.1)
    step = compile_step(
        compiled_model, lambda z, t: 0.5 * mse(z, t), optim.SGD(compiled_model.parameters(), lr=0.1)
    )
    assert step.prediction is None
    for i in range(len(x)):
        xb, yb = x[i : i + 1], y[i : i + 1]
        out = eager_model(numnet.tensor(xb))
        loss = 0.5 * mse(out, yb)
        eager_opt.zero_grad()
        loss.backward()
        eager_opt.step()
        step(xb, yb)
        assert step.prediction.grad_fn is None and step.prediction.shape == (1, 1)
        np.testing.assert_array_equal(step.prediction.data, out.data)  # recorded (i = 0) and replayed
    assert step.traces == 1


class _Weights(nn.Module):
    """A "model" whose output is its parameter, or a view of it: memory that SGD updates in place."""

    def __init__(self, view: bool):
        super().__init__()
        self.w, self.view = nn.Parameter(np.zeros(2, np.float32)), view

    def forward(self, x):
        return self.w.reshape(1, 2) if self.view else self.w


@pytest.mark.parametrize("view", [True, False], ids=["view of a parameter", "the parameter"])
def test_prediction_is_taken_before_the_update(view):
    model = _Weights(view)
    target = np.ones((1, 2) if view else 2, np.float32)
    step = compile_step(model, nn.MSELoss(reduction="sum"), optim.SGD(model.parameters(), lr=0.25))
    for expected in (0.0, 0.5, 0.75):  # w ← w − 0.25·2(w − 1): 0 → 0.5 → 0.75
        step(np.zeros((1, 2), np.float32), target)
        np.testing.assert_array_equal(step.prediction.data, np.full(target.shape, expected, np.float32))
    assert step.traces == 1


def test_a_call_that_fails_leaves_no_prediction():
    x, y = _curve(4)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    step(x, y)
    assert step.prediction is not None
    with pytest.raises(ValueError):
        step(np.ones((4, 3), np.float32), y)  # three features for a one-feature net: recording fails
    assert step.prediction is None


class _TiedNet(nn.Module):
    """A graph with every way a gradient can gather: a weight used twice (tied), a tensor used twice in a
    hand-written loss, a (1,)-shaped parameter broadcast over the batch, and a tensor with requires_grad that
    the optimizer does not update (its .grad adds up over the steps, as in eager mode)."""

    def __init__(self) -> None:
        super().__init__()
        numnet.manual_seed(6)
        self.w = nn.Parameter(numnet.randn(6, 6).data * 0.3)
        self.shift = nn.Parameter(np.array([0.1], dtype=np.float32))
        self.outside = numnet.tensor(np.full((1, 6), 0.5, dtype=np.float32), requires_grad=True)

    def forward(self, x):
        h = (x @ self.w).tanh() @ self.w + self.shift  # w twice; shift (1,) broadcast to (N, 6)
        return h * self.outside


def test_tied_weights_repeated_tensors_and_broadcasts_gather_gradients_as_eager():
    x, labels = _labels(24)
    y = np.eye(6, dtype=np.float32)[labels]

    def loss_fn(z, t):
        d = z - t
        return (d * d).mean()  # d reaches its node twice

    def batches():
        for _ in range(4):
            for i in (0, 8, 16):
                yield numnet.tensor(x[i : i + 8]), numnet.tensor(y[i : i + 8])

    (me, _), (mc, _), eager, compiled, step = _eager_and_compiled(
        _TiedNet, lambda m: optim.SGD(m.parameters(), lr=0.1), loss_fn, batches
    )
    assert eager == compiled and step.traces == 1
    _assert_same_models(me, mc)
    for pe, pc in zip(me.parameters(), mc.parameters(), strict=True):
        np.testing.assert_array_equal(pe.grad, pc.grad)
    np.testing.assert_array_equal(me.outside.grad, mc.outside.grad)  # summed over the 12 steps
    assert np.abs(mc.outside.grad.numpy()).sum() > 0


def test_source_is_the_replay_of_the_recorded_step():
    x, y = _curve(8)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    assert step.source == ""
    step(x[:4], y[:4])
    source = step.source
    assert source.startswith("def replay(v0, v1):")
    # one forward call per recorded op (LinearSigmoid, Linear, MSE), then their backwards in reverse
    assert source.count(".data") == 4 and source.count(".backward(") == 3
    assert "(4, 16)" in source  # the shapes the gradients are checked against are the recorded ones
    step(x[:3], y[:3])  # another batch size: recorded again, and `source` is that new step's
    assert step.traces == 2 and "(3, 16)" in step.source and "(4, 16)" not in step.source


def test_a_dropped_step_frees_its_recorded_nodes_without_the_garbage_collector():
    import gc
    import weakref

    x, y = _curve(8)
    model = _fit_net()
    step = compile_step(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1))
    step(x[:4], y[:4])
    step(x[:4], y[:4])
    replay = weakref.ref(next(iter(step._plans.values())).run)
    gc.disable()
    try:
        del step
        assert replay() is None  # no reference cycle keeps the replay (and the arrays it holds) alive
    finally:
        gc.enable()


def _flat_buffer_of(model):
    """The one array that every parameter's values are a view of, or None (each parameter has its own)."""
    bases = {id(p.data.base) if p.data.base is not None else None for p in model.parameters()}
    return None if None in bases or len(bases) != 1 else next(iter(model.parameters())).data.base


def _single_sample_batches(n=12, rounds=3, dtype=np.float32):
    x, y = _curve(n)
    for _ in range(rounds):
        for i in range(n):
            yield x[i : i + 1].astype(dtype), y[i : i + 1].astype(dtype)


def _train_twins(build, make_opt, batches, change=None, change_at=5):
    """Train an eager model and a compiled twin side by side, asserting after every step that both have the
    same loss, the same gradients and the same values; ``change(model, optimizer)`` is applied to both before
    step ``change_at`` (first asserting that the replays before it took the flat update). Returns the twin."""
    mse = nn.MSELoss(reduction="sum")
    m_eager, m_comp = build(), build()
    o_eager, o_comp = make_opt(m_eager), make_opt(m_comp)
    step = compile_step(m_comp, mse, o_comp)
    for i, (xb, yb) in enumerate(batches):
        if change is not None and i == change_at:
            assert _flat_buffer_of(m_comp) is not None  # replays 1 to change_at − 1 took the flat update
            change(m_eager, o_eager)
            change(m_comp, o_comp)
        o_eager.zero_grad()
        loss = mse(m_eager(xb), yb)
        loss.backward()
        o_eager.step()
        assert step(xb, yb).item() == loss.item(), i
        for pe, pc in zip(m_eager.parameters(), m_comp.parameters(), strict=True):
            if pe.grad is None:
                assert pc.grad is None
                continue
            assert type(pc.grad) is numnet.Tensor and pc.grad.dtype == pe.dtype
            np.testing.assert_array_equal(pc.grad.data, pe.grad.data, err_msg=f"step {i}")  # each step's own
            np.testing.assert_array_equal(pc.data, pe.data, err_msg=f"step {i}")
    return m_comp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_of_a_small_model_is_one_flat_update_with_eager_numbers(dtype):
    model = _train_twins(
        lambda: _fit_net().to(dtype),
        lambda m: optim.SGD(m.parameters(), lr=0.1),
        _single_sample_batches(dtype=dtype),
    )
    flat = _flat_buffer_of(model)
    assert flat is not None and flat.dtype == dtype  # the values moved into one buffer, in place since
    assert flat.size == sum(p.data.size for p in model.parameters())
    before = model[0].weight.data.copy()
    model[0].weight.grad.data[...] = 1e9  # a .grad is the user's to write: the values are another buffer
    np.testing.assert_array_equal(model[0].weight.data, before)


def _change_lr(model, opt):
    opt.param_groups[0]["lr"] = 0.03


def _add_momentum(model, opt):
    opt.param_groups[0]["momentum"] = 0.9


def _replace_data(model, opt):
    model[0].weight.data = model[0].weight.data * np.float32(0.5)  # a new array, not a view of the buffer


def _load_weights(model, opt):
    model.load_state_dict({k: v * np.float32(0.5) for k, v in model.state_dict().items()})


def _new_group(model, opt):
    opt.add_param_group({"params": [numnet.tensor(np.ones(3, dtype=np.float32), requires_grad=True)]})


@pytest.mark.parametrize("change", [_change_lr, _add_momentum, _replace_data, _load_weights, _new_group])
def test_changes_between_replays_give_eager_numbers(change):
    """What a user or a scheduler may change between steps: the flat update must follow it or step aside."""
    _train_twins(_fit_net, lambda m: optim.SGD(m.parameters(), lr=0.1), _single_sample_batches(), change)


class _PartlyUsed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = _fit_net()
        self.unused = nn.Parameter(np.ones(4, dtype=np.float32))

    def forward(self, x):
        return self.net(x)


def _wide_layer():
    numnet.manual_seed(7)
    return nn.Linear(300, 300)


def _wide_batches(n=4):
    rng = np.random.default_rng(0)
    for _ in range(n):
        yield rng.standard_normal((2, 300)).astype(np.float32), np.zeros((2, 300), dtype=np.float32)


@pytest.mark.parametrize(
    "build, make_opt, batches",
    [
        (_PartlyUsed, lambda m: optim.SGD(m.parameters(), lr=0.1), _single_sample_batches),  # no gradient
        (_wide_layer, lambda m: optim.SGD(m.parameters(), lr=0.01), _wide_batches),  # 90,300 values
        (_fit_net, lambda m: optim.SGD(m.parameters(), lr=0.1, weight_decay=0.01), _single_sample_batches),
        (_fit_net, lambda m: optim.Adam(m.parameters(), lr=0.01), _single_sample_batches),
    ],
    ids=["unused parameter", "large", "weight decay", "adam"],
)
def test_models_that_do_not_fit_the_flat_update_keep_their_arrays(build, make_opt, batches):
    built = []

    def build_and_keep():
        model = build()
        built.append((model, [p.data for p in model.parameters()]))
        return model

    model = _train_twins(build_and_keep, make_opt, batches())
    arrays = built[1][1]  # the compiled twin's parameters, as built
    assert all(p.data is a for p, a in zip(model.parameters(), arrays, strict=True))
    if isinstance(model, _PartlyUsed):
        assert model.unused.grad is None
