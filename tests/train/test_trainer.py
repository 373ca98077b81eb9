"""fit(): the loop, its history and metrics, early stopping, schedulers, divergence."""

import math

import numpy as np
import pytest

import numnet
from numnet import nn, optim
from numnet.data import DataLoader, TensorDataset, make_moons
from numnet.train import (
    EarlyStopping,
    LambdaCallback,
    LRScheduler,
    Trainer,
    TrainingDiverged,
    evaluate,
    fit,
)


@pytest.fixture
def moons():
    X, y = make_moons(400, noise=0.15, seed=0)
    return X[:300], y[:300], X[300:], y[300:]


def small_net(seed=0, hidden=16):
    numnet.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def loaders(moons, batch_size=32):
    X, y, Xv, yv = moons
    return (
        DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=0),
        DataLoader(TensorDataset(Xv, yv), batch_size=100),
    )


def test_fit_learns_and_records_history(moons):
    model = small_net()
    train, val = loaders(moons)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=0.02),
        train,
        epochs=15,
        val_loader=val,
        metrics=["accuracy"],
        progress=False,
    )
    assert len(history) == 15
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["val_accuracy"][-1] > 0.95
    assert len(history.step_loss) == 15 * len(train)
    assert set(history.keys()) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    # the epoch's loss is the batch-size-weighted mean of its steps
    steps = np.array(history.step_loss[: len(train)])
    sizes = np.array([32] * (len(train) - 1) + [300 - 32 * (len(train) - 1)])
    assert history["loss"][0] == pytest.approx(float((steps * sizes).sum() / sizes.sum()))
    # the recorded validation values are what evaluate() computes on the final model
    final = evaluate(model, val, nn.CrossEntropyLoss(), ["accuracy"])
    assert final["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert model.training  # fit leaves the model in training mode, and evaluate restores the mode it found


def test_evaluate_restores_training_mode_and_records_no_graph(moons):
    model = small_net()
    _, val = loaders(moons)
    model.train()
    evaluate(model, val, nn.CrossEntropyLoss())
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_metrics_accept_functions_and_reject_unknown_names(moons):
    model = small_net()
    train, _ = loaders(moons)

    def error_rate(y_true, scores):
        return float(np.mean(scores.argmax(axis=1) != y_true))

    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        train,
        2,
        metrics=[error_rate],
        progress=False,
    )
    assert 0 <= history["error_rate"][-1] <= 1
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        fit(
            model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, 1, metrics=["acuracy"]
        )


def test_early_stopping_stops_and_restores_best_weights(moons):
    model = small_net()
    train, val = loaders(moons)
    snapshots = []
    record = LambdaCallback(
        on_epoch_end=lambda trainer, epoch, logs: snapshots.append(trainer.model.state_dict())
    )
    # a learning rate this high makes validation loss wander: patience 2 must stop it early
    stopper = EarlyStopping("val_loss", patience=2)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=3.0),
        train,
        50,
        val_loader=val,
        callbacks=[stopper, record],
        progress=False,
    )
    assert len(history) < 50
    assert stopper.stopped_epoch == len(history) - 1
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[best][name])


def test_early_stopping_names_missing_monitor(moons):
    model = small_net()
    train, _ = loaders(moons)
    with pytest.raises(KeyError, match=r"val_loss.*need a val_loader"):
        fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1),
            train,
            3,
            callbacks=[EarlyStopping("val_loss")],
            progress=False,
        )


def test_lr_scheduler_per_epoch_and_per_step(moons):
    model = small_net()
    train, _ = loaders(moons)
    opt = optim.SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train,
        3,
        callbacks=[LRScheduler(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5))],
        progress=False,
    )
    assert history["lr"] == [1.0, 0.5, 0.25]  # the rate each epoch trained with
    opt = optim.SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train,
        1,
        progress=False,
        callbacks=[LRScheduler(optim.lr_scheduler.ExponentialLR(opt, gamma=0.9), interval="step")],
    )
    np.testing.assert_allclose(history.step_lr, 0.9 ** np.arange(len(train)))


def test_reduce_on_plateau_is_stepped_with_the_monitored_value(moons):
    model = small_net()
    train, val = loaders(moons)
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(
        opt, patience=0, factor=0.5, threshold=10.0, threshold_mode="abs"
    )
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train,
        3,
        val_loader=val,
        callbacks=[LRScheduler(plateau, monitor="val_loss")],
        progress=False,
    )
    # an absolute threshold of 10 means no epoch after the first counts as an improvement
    assert history["lr"] == [0.1, 0.1, 0.05]


def test_non_finite_loss_stops_before_the_bad_step(moons):
    X, y, _, _ = moons
    X = X.copy()
    X[40] = np.nan  # the second batch of an unshuffled loader
    model = small_net()
    before = None
    train = DataLoader(TensorDataset(X, y), batch_size=32)

    def remember(trainer, step, loss):
        nonlocal before
        before = trainer.model.state_dict()

    with pytest.raises(
        TrainingDiverged, match=r"loss became nan at epoch 1, step 2.*Lower the learning rate"
    ) as info:
        fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1),
            train,
            3,
            callbacks=[LambdaCallback(on_batch_end=remember)],
            progress=False,
        )
    assert len(info.value.history.step_loss) == 1
    for name, value in model.state_dict().items():  # the NaN step was never applied
        np.testing.assert_array_equal(value, before[name])
        assert np.all(np.isfinite(value))


def test_fit_validates_arguments(moons):
    model = small_net()
    train, _ = loaders(moons)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        fit(model, nn.CrossEntropyLoss(), opt, train, -1)
    with pytest.raises(TypeError, match="callbacks must be"):
        fit(model, nn.CrossEntropyLoss(), opt, train, 1, callbacks=[lambda: None])
    bad = DataLoader(TensorDataset(np.zeros((4, 2), np.float32)), batch_size=2)
    with pytest.raises(ValueError, match=r"\(inputs, targets\) pair"):
        fit(model, nn.CrossEntropyLoss(), opt, bad, 1, progress=False)


def test_trainer_exposes_state_to_callbacks(moons):
    model = small_net()
    train, _ = loaders(moons)
    seen = []
    cb = LambdaCallback(on_epoch_begin=lambda trainer, epoch: seen.append((epoch, trainer.step)))
    trainer = Trainer(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        train,
        callbacks=[cb],
        progress=False,
    )
    trainer.fit(3)
    assert seen == [(0, 0), (1, len(train)), (2, 2 * len(train))]
    assert trainer.epoch == 3 and not math.isnan(trainer.history.last("loss"))


def test_one_early_stopping_instance_serves_two_runs(moons):
    train, val = loaders(moons)
    stopper = EarlyStopping("val_loss", patience=2)
    model = small_net()
    first = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=3.0),
        train,
        50,
        val_loader=val,
        callbacks=[stopper],
        progress=False,
    )
    assert len(first) < 50 and stopper.stopped_epoch is not None
    model = small_net(seed=1)
    second = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.05),
        train,
        4,
        val_loader=val,
        callbacks=[stopper],
        progress=False,
    )
    assert len(second) == 4  # the first run's stop and patience count did not carry over
    assert stopper.best == min(second["val_loss"])


def test_an_iterable_of_batches_without_a_length_trains(moons):
    X, y, _, _ = moons

    class Batches:  # re-iterable, no __len__
        def __iter__(self):
            return ((numnet.Tensor(X[i : i + 50]), y[i : i + 50]) for i in range(0, 300, 50))

    model = small_net()
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.CrossEntropyLoss(), opt, Batches(), 2, progress=True)
    assert len(history) == 2 and len(history.step_loss) == 12


def test_r2_leaves_out_training_batches_of_one_sample():
    # batch_size=3 over 7 samples ends with a batch of one, where R² is undefined: that batch is left out
    # of the epoch's R² (not a crash), and the R² is the sample-weighted mean of the other batches' scores.
    from numnet import metrics

    numnet.manual_seed(0)
    X = np.linspace(-1, 1, 7, dtype=np.float32)[:, None]
    y = (2 * X + 0.5).astype(np.float32)
    model = nn.Linear(1, 1)
    loader = DataLoader(TensorDataset(X, y), batch_size=3)
    history = fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), loader, epochs=1, metrics=["r2"]
    )
    with numnet.no_grad():
        pred = model(numnet.tensor(X)).data
    expected = (metrics.r2_score(y[:3], pred[:3]) * 3 + metrics.r2_score(y[3:6], pred[3:6]) * 3) / 6
    assert history["r2"][-1] == pytest.approx(expected, rel=1e-6)
