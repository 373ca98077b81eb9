import math

import pytest

from numnet.train import History


def test_history_records_and_round_trips(tmp_path):
    history = History()
    history.record_step(2.0, 0.1)
    history.record_epoch({"loss": 2.0, "accuracy": 0.5, "lr": 0.1})
    history.record_step(1.0, 0.1)
    history.record_epoch({"loss": 1.0, "accuracy": 0.75, "val_loss": float("nan"), "lr": 0.1})
    assert history["loss"] == [2.0, 1.0]
    assert math.isnan(history["val_loss"][0])  # recorded in a later epoch only
    assert history.best("accuracy", mode="max") == (1, 0.75)
    assert history.last("loss") == 1.0
    assert "accuracy" in history and len(history) == 2
    with pytest.raises(KeyError, match="recorded keys: loss, accuracy, lr, val_loss"):
        history["val_accuracy"]
    path = history.save(tmp_path / "h.json")
    loaded = History.load(path)
    assert loaded["loss"] == [2.0, 1.0]
    assert loaded.step_loss == [2.0, 1.0]
    assert loaded.epochs[1]["val_loss"] is None  # NaN is written as JSON null
