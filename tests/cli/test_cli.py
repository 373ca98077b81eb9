"""The numnet command: train / evaluate / predict / summary, config files, and one-line errors."""

import json

import numpy as np
import pytest

from numnet.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def trained(tmp_path, capsys):
    out = tmp_path / "moons"
    code, stdout, _ = run(
        capsys,
        "train",
        "--dataset",
        "moons",
        "--hidden",
        "16",
        "--activation",
        "relu",
        "--init",
        "he",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--epochs",
        "15",
        "--batch-size",
        "32",
        "--out",
        str(out),
        "--seed",
        "1",
    )
    assert code == 0, stdout
    return out, stdout


def test_train_writes_model_history_summary_and_pictures(trained):
    out, stdout = trained
    assert "epoch 15/15" in stdout
    assert "test: loss" in stdout and "accuracy" in stdout
    for name in ("model.npz", "history.json", "summary.md", "summary.json", "loss.png", "accuracy.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["results"]["test"]["accuracy"] > 0.9
    assert summary["settings"]["hidden"] == "16"
    history = json.loads((out / "history.json").read_text())
    assert len(history["epochs"]) == 15


def test_evaluate_predict_and_summary_use_the_saved_model(trained, tmp_path, capsys):
    out, _ = trained
    summary = json.loads((out / "summary.json").read_text())
    code, stdout, _ = run(capsys, "evaluate", str(out / "model.npz"))
    assert code == 0
    accuracy = float(stdout.split("accuracy ")[1].split()[0].rstrip(","))
    assert accuracy == pytest.approx(summary["results"]["test"]["accuracy"], abs=1e-4)

    inputs = tmp_path / "points.csv"
    inputs.write_text("x0,x1\n-1.0,0.5\n2.0,0.0\n")
    code, stdout, _ = run(capsys, "predict", str(out / "model.npz"), str(inputs))
    assert code == 0 and stdout.split() == [
        "0",
        "1",
    ]  # far in the upper-left moon, far in the lower-right one
    code, stdout, _ = run(
        capsys, "predict", str(out / "model.npz"), str(inputs), "--proba", "-o", str(tmp_path / "p.npy")
    )
    proba = np.load(tmp_path / "p.npy")
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1)

    code, stdout, _ = run(capsys, "summary", str(out / "model.npz"))
    assert code == 0
    assert "Linear" in stdout and "(N, 16)" in stdout and "82 parameters" in stdout  # 2·16+16 + 16·2+2


def test_config_file_sets_values_and_flags_override_it(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(
        'dataset = "xor"\nhidden = [8]\nactivation = "tanh"\nepochs = 300\nlr = 0.5\nbatch-size = 4\n'
        'init = "xavier"\nquiet = true\n'
    )
    code, stdout, _ = run(
        capsys, "train", "--config", str(config), "--epochs", "400", "--out", str(tmp_path / "x")
    )
    assert code == 0
    settings = json.loads((tmp_path / "x" / "summary.json").read_text())["settings"]
    assert settings["epochs"] == 400 and settings["hidden"] == "8" and settings["activation"] == "tanh"
    assert "test: loss" in stdout and "accuracy 1.0000" in stdout


def test_csv_file_with_named_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    label = (x[:, 0] + x[:, 2] > 0).astype(int)
    rows = ["a,label,b,c"] + [f"{a:.4f},{t},{b:.4f},{c:.4f}" for (a, b, c), t in zip(x, label, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run(
        capsys,
        "train",
        "--dataset",
        str(tmp_path / "d.csv"),
        "--target",
        "label",
        "--hidden",
        "8",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.05",
        "--epochs",
        "20",
        "--batch-size",
        "16",
        "--out",
        str(tmp_path / "csv"),
        "--quiet",
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "csv" / "summary.json").read_text())
    assert summary["results"]["test"]["accuracy"] > 0.85


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--dataset", "nope"], "unknown dataset 'nope'"),
        (["train", "--dataset", "xor", "--hidden", "8,x"], "--hidden takes comma-separated layer sizes"),
        (["train", "--dataset", "xor", "--lr", "-1"], "--lr must be positive"),
        (["train", "--dataset", "xor", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--dataset", "missing.csv"], "data file missing.csv does not exist"),
        (
            ["train", "--dataset", "xor", "--loss", "cross_entropy", "--dataset", "curve"],
            "needs class labels",
        ),
        (["train", "--config", "nowhere.toml"], "config file nowhere.toml does not exist"),
        (["evaluate", "no-model.npz"], "model file no-model.npz does not exist"),
        (["summary", "README.md"], "model file README.md does not exist"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(capsys, argv, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_file_that_is_not_a_model_is_refused_in_one_line(tmp_path, capsys):
    fake = tmp_path / "model.npz"
    fake.write_text("not a model")
    code, _, err = run(capsys, "summary", str(fake))
    assert code == 2 and "not a numnet file" in err and "Traceback" not in err


def test_bad_config_key_and_unknown_choice(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"learning_rate": 0.1}))
    code, _, err = run(capsys, "train", "--config", str(config))
    assert code == 2 and "unknown setting 'learning_rate'" in err
    with pytest.raises(SystemExit) as exit_info:  # argparse's own usage errors exit 2 too
        main(["train", "--optimizer", "adamax"])
    assert exit_info.value.code == 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_training_exits_1_with_advice(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "train",
        "--dataset",
        "curve",
        "--hidden",
        "8",
        "--activation",
        "relu",
        "--lr",
        "1e6",
        "--epochs",
        "5",
        "--batch-size",
        "10",
        "--out",
        str(tmp_path / "d"),
        "--quiet",
    )
    assert code == 1
    assert "training diverged" in err and "Lower the learning rate" in err
    assert (tmp_path / "d" / "history.json").is_file()


def test_bad_csv_and_config_values_get_one_line(tmp_path, capsys):
    (tmp_path / "ragged.csv").write_text("a,b,t\n1,2,0\n1,2\n3,4,1\n")
    (tmp_path / "tiny.csv").write_text("a,t\n1,0\n2,1\n3,0\n4,1\n\n")  # a blank line is not a row
    (tmp_path / "c.json").write_text(json.dumps({"dataset": "xor", "lr": "0.1"}))
    for argv, message in (
        (["--dataset", str(tmp_path / "ragged.csv")], "data row 2 has 2 values but the header has 3"),
        (["--dataset", str(tmp_path / "tiny.csv")], "4 samples are too few to split"),
        (["--config", str(tmp_path / "c.json")], "lr must be a number, got '0.1'"),
    ):
        code, _, err = run(capsys, "train", *argv, "--out", str(tmp_path / "o"))
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_resume_with_other_verbosity_continues(tmp_path, capsys):
    common = ["train", "--dataset", "xor", "--hidden", "4", "--batch-size", "4"]
    assert (
        run(
            capsys,
            *common,
            "--epochs",
            "2",
            "--checkpoint-every",
            "1",
            "--quiet",
            "--out",
            str(tmp_path / "a"),
        )[0]
        == 0
    )
    code, stdout, err = run(
        capsys,
        *common,
        "--epochs",
        "3",
        "--resume",
        str(tmp_path / "a" / "checkpoint.npz"),
        "--no-progress",
        "--out",
        str(tmp_path / "b"),
    )
    assert code == 0, err
    assert "epoch 3/3" in stdout and "epoch 1/3" not in stdout
