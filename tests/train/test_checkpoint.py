"""Checkpoints: resuming is bit-identical to an uninterrupted run; the file on disk is always a good one."""

import numpy as np
import pytest

import numnet
from numnet import nn, optim
from numnet.data import DataLoader, TensorDataset, make_moons
from numnet.train import Checkpoint, EarlyStopping, LRScheduler, TrainingDiverged, fit, load_checkpoint


def build(seed: int = 1):
    numnet.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


@pytest.fixture
def data():
    X, y = make_moons(200, noise=0.2, seed=0)
    Xv, yv = make_moons(50, noise=0.2, seed=1)
    return X, y, Xv, yv


@pytest.mark.parametrize("loader_seed", [None, 7], ids=["global-rng-shuffle", "seeded-shuffle"])
def test_resume_is_bit_identical(tmp_path, data, loader_seed):
    X, y, Xv, yv = data

    def run(epochs, resume=None, interrupt_seed=None):
        model, opt, sched = build()
        if interrupt_seed is not None:
            numnet.manual_seed(interrupt_seed)  # whatever happened in between must not matter
        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=loader_seed)
        val = DataLoader(TensorDataset(Xv, yv), batch_size=50)
        callbacks = [
            LRScheduler(sched),
            EarlyStopping("val_loss", patience=100),
            Checkpoint(tmp_path / "ck.npz"),
        ]
        history = fit(
            model,
            nn.CrossEntropyLoss(),
            opt,
            loader,
            epochs,
            val_loader=val,
            callbacks=callbacks,
            progress=False,
            resume=resume,
        )
        return model, opt, history

    straight, straight_opt, straight_history = run(6)
    (tmp_path / "ck.npz").unlink()
    run(3)
    assert load_checkpoint(tmp_path / "ck.npz")["epoch"] == 3
    resumed, resumed_opt, resumed_history = run(6, resume=tmp_path / "ck.npz", interrupt_seed=12345)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert straight_history["loss"] == resumed_history["loss"]
    assert straight_history["lr"] == resumed_history["lr"]
    assert straight_history.step_loss == resumed_history.step_loss
    assert straight_opt.state_dict()["state"][0]["step"] == resumed_opt.state_dict()["state"][0]["step"]


def test_checkpoint_every_n_epochs_and_at_the_end(tmp_path, data):
    X, y, _, _ = data
    model, opt, _ = build()
    saved = []
    checkpoint = Checkpoint(tmp_path / "ck.npz", every=2)
    original = checkpoint._save

    def spy(trainer, epoch):
        saved.append(epoch)
        original(trainer, epoch)

    checkpoint._save = spy
    fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        DataLoader(TensorDataset(X, y), batch_size=50),
        5,
        callbacks=[checkpoint],
        progress=False,
    )
    assert saved == [1, 3, 4]  # epochs 2 and 4 (0-based 1, 3), then the final one


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_keeps_the_last_good_checkpoint(tmp_path, data):
    X, y, _, _ = data
    model, opt, _ = build()
    path = tmp_path / "ck.npz"
    loader = DataLoader(TensorDataset(X, y), batch_size=50)
    fit(model, nn.CrossEntropyLoss(), opt, loader, 2, callbacks=[Checkpoint(path)], progress=False)
    good = path.read_bytes()
    for group in opt.param_groups:
        group["lr"] = 1e30  # guaranteed to blow up
    with pytest.raises(TrainingDiverged, match=f"last good checkpoint is {path}"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, 10, callbacks=[Checkpoint(path)], progress=False)
    assert path.read_bytes() == good  # the diverged run did not overwrite it


def test_resume_with_other_callbacks_is_refused(tmp_path, data):
    X, y, _, _ = data
    model, opt, sched = build()
    loader = DataLoader(TensorDataset(X, y), batch_size=50)
    fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        1,
        callbacks=[Checkpoint(tmp_path / "ck.npz")],
        progress=False,
    )
    model, opt, sched = build()
    with pytest.raises(ValueError, match="same callbacks"):
        fit(
            model,
            nn.CrossEntropyLoss(),
            opt,
            loader,
            2,
            progress=False,
            callbacks=[LRScheduler(sched), Checkpoint(tmp_path / "ck.npz")],
            resume=tmp_path / "ck.npz",
        )


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    model, _, _ = build()
    numnet.save(model, tmp_path / "model.npz")
    with pytest.raises(ValueError, match="model"):
        load_checkpoint(tmp_path / "model.npz")


def test_training_diverged_survives_pickling():
    import pickle

    from numnet.train import History

    error = pickle.loads(pickle.dumps(TrainingDiverged("boom", History())))
    assert str(error) == "boom" and isinstance(error.history, History)


def test_resuming_a_run_that_stopped_early_stays_stopped(tmp_path, data):
    X, y, Xv, yv = data

    def run(epochs, resume=None):
        model, opt, _ = build()
        callbacks = [EarlyStopping("val_loss", patience=1), Checkpoint(tmp_path / "ck.npz")]
        for group in opt.param_groups:
            group["lr"] = 0.5  # noisy enough to stop early
        history = fit(
            model,
            nn.CrossEntropyLoss(),
            opt,
            DataLoader(TensorDataset(X, y), batch_size=50),
            epochs,
            val_loader=DataLoader(TensorDataset(Xv, yv), batch_size=50),
            callbacks=callbacks,
            progress=False,
            resume=resume,
        )
        return model, history, callbacks[0]

    model, history, stopper = run(40)
    assert stopper.stopped_epoch is not None and len(history) < 40
    resumed, resumed_history, _ = run(40, resume=tmp_path / "ck.npz")
    assert len(resumed_history) == len(history)  # no extra epoch after the stop
    for name, value in model.state_dict().items():  # both end on the best epoch's weights
        np.testing.assert_array_equal(value, resumed.state_dict()[name])
