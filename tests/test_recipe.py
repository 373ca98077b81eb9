"""numnet.recipe: settings checks, model, loss and target choices, resume comparison; without the CLI."""

import ast
from pathlib import Path

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.recipe import (
    DEFAULTS,
    build_model,
    check_settings,
    choose_loss,
    settings_differences,
    targets_for,
    train_from_settings,
)


def test_check_settings_fills_defaults_and_normalises():
    settings = check_settings({"dataset": "xor", "hidden": [8, 4], "lr": 1, "batch_size": np.int64(4)})
    assert set(settings) == set(DEFAULTS)
    assert settings["hidden"] == "8,4" and settings["lr"] == 1.0 and isinstance(settings["lr"], float)
    assert settings["batch_size"] == 4 and type(settings["batch_size"]) is int


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"learning_rate": 0.1}, "unknown setting"),
        ({"quiet": 1}, "quiet must be true or false"),
        ({"epochs": 2.0}, "epochs must be a whole number"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"model": "resnet"}, "model must be one of mlp"),
        ({"dropout": 1.0}, "--dropout must be in"),
    ],
)
def test_check_settings_refuses_with_a_value_error_naming_the_setting(bad, message):
    with pytest.raises(ValueError, match=message):
        check_settings(bad)


def test_build_model_is_the_one_place_models_are_made():
    numnet.manual_seed(0)
    settings = check_settings({"hidden": "5", "batchnorm": True, "activation": "tanh"})
    model = build_model(settings, (3,), 2)
    kinds = [type(m).__name__ for _, m in model.named_children()]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Linear"]
    assert model(numnet.Tensor(np.zeros((4, 3), dtype=np.float32))).shape == (4, 2)


def test_loss_choice_and_targets():
    loss, name = choose_loss("auto", "classification", 3)
    assert name == "cross_entropy" and isinstance(loss, nn.CrossEntropyLoss)
    assert choose_loss("auto", "regression", 1)[1] == "mse"
    with pytest.raises(ValueError, match="needs class labels"):
        choose_loss("cross_entropy", "regression", 1)
    with pytest.raises(ValueError, match="two classes"):
        choose_loss("bce", "classification", 3)
    labels = np.array([0, 2])
    assert targets_for(labels, "mse", 3).tolist() == [[1, 0, 0], [0, 0, 1]]
    assert targets_for(labels[:1], "bce", 2).shape == (1, 1)


def test_settings_differences_name_each_change_and_ignore_run_only_ones():
    saved = check_settings({"hidden": "4", "lr": 0.1, "epochs": 2})
    assert settings_differences(saved, {**saved, "epochs": 5, "quiet": True, "out": "x"}) == []
    changed = settings_differences(saved, {**saved, "lr": 0.5, "momentum": 0.9})
    assert changed == ["lr 0.1 → 0.5", "momentum 0.0 → 0.9"]
    scheduled = {**saved, "lr_schedule": "cosine"}
    assert any("lr schedule" in d for d in settings_differences(scheduled, {**scheduled, "epochs": 9}))


def test_train_from_settings_raises_value_errors_not_cli_errors(tmp_path):
    with pytest.raises(ValueError, match="--patience needs a validation split"):
        train_from_settings({"dataset": "xor", "patience": 2, "epochs": 1, "out": str(tmp_path / "o")})


def test_the_recipe_never_imports_the_cli():
    for path in Path(numnet.__file__).parent.joinpath("recipe").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "numnet.cli" or n.startswith("numnet.cli.") for n in names), path


def test_the_book_cnn_trains_with_the_books_optimizer_unless_told_otherwise():
    # SimpleConvNet's 0.01-std weights hardly move under the MLP's SGD lr 0.1: its defaults are the book's
    # Adam lr 0.001 and 20 epochs; a value the user gives still wins, and the MLP keeps its own defaults.
    from numnet.recipe import DEFAULTS, check_settings

    cnn = check_settings({"model": "simple-cnn"})
    assert (cnn["optimizer"], cnn["lr"], cnn["epochs"]) == ("adam", 0.001, 20)
    assert check_settings({"model": "simple-cnn", "lr": 0.01})["lr"] == 0.01
    mlp = check_settings({})
    assert (mlp["optimizer"], mlp["lr"], mlp["epochs"]) == (DEFAULTS["optimizer"], 0.1, 30)
