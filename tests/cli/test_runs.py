"""Runs never clobber each other, and --resume continues the same run or says why it cannot."""

import json
import os
import subprocess
import sys

import pytest

from numnet.cli import main
from numnet.train import load_checkpoint

XOR = ["train", "--dataset", "xor", "--hidden", "4", "--batch-size", "4", "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "numnet", "train", "--dataset", "xor", "--epochs", "1", "--quiet"]
    argv += ["--hidden", "3", "--batch-size", "4"]
    processes = [
        subprocess.Popen(
            [*argv, "--seed", str(seed)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in range(4)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    folders = sorted((tmp_path / "runs").iterdir())
    assert len(folders) == 4  # one each, however many started in the same second
    seeds = sorted(json.loads((f / "summary.json").read_text())["settings"]["seed"] for f in folders)
    assert seeds == [0, 1, 2, 3]  # every result kept: none overwrote another's
    for folder in folders:
        assert (folder / "model.npz").is_file() and (folder / "history.json").is_file()


def test_an_out_folder_holding_another_run_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, *XOR, "--epochs", "1", "--out", str(out))[0] == 0
    before = (out / "summary.json").read_bytes()
    code, _, err = run(capsys, *XOR, "--epochs", "2", "--out", str(out))
    assert code == 2 and "already holds another run" in err
    assert (out / "summary.json").read_bytes() == before
    (tmp_path / "empty").mkdir()
    assert (
        run(capsys, *XOR, "--epochs", "1", "--out", str(tmp_path / "empty"))[0] == 0
    )  # an empty one is fine


@pytest.fixture
def checkpointed(tmp_path, capsys):
    out = tmp_path / "a"
    code, _, err = run(
        capsys, *XOR, "--epochs", "2", "--checkpoint-every", "1", "--lr", "0.1", "--out", str(out)
    )
    assert code == 0, err
    return out / "checkpoint.npz"


def test_the_checkpoint_records_the_runs_settings(checkpointed):
    settings = load_checkpoint(checkpointed)["settings"]
    assert settings["lr"] == 0.1 and settings["hidden"] == "4" and settings["dataset"] == "xor"
    assert settings["epochs"] == 2


def test_resume_with_settings_that_change_the_run_is_refused_naming_each(checkpointed, tmp_path, capsys):
    code, _, err = run(
        capsys,
        *XOR[:-1],
        "--epochs",
        "4",
        "--lr",
        "0.5",
        "--hidden",
        "8",
        "--batchnorm",
        "--resume",
        str(checkpointed),
        "--out",
        str(tmp_path / "b"),
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "lr 0.1 → 0.5" in err and "hidden '4' → '8'" in err and "batchnorm False → True" in err
    assert "epochs" not in err.split("differ")[1]  # more epochs is what resuming is for
    assert not (tmp_path / "b" / "summary.json").exists()  # nothing recorded that was not used


def test_resume_with_the_same_settings_records_what_was_used(checkpointed, tmp_path, capsys):
    out = tmp_path / "b"
    code, _, err = run(
        capsys, *XOR, "--epochs", "4", "--lr", "0.1", "--resume", str(checkpointed), "--out", str(out)
    )
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["lr"] == 0.1 and summary["settings"]["epochs"] == 4
    assert summary["epochs_run"] == 4
    assert load_checkpoint(out / "checkpoint.npz")["epoch"] == 4


def test_resume_with_fewer_epochs_than_the_checkpoint_says_so(checkpointed, tmp_path, capsys):
    code, _, err = run(
        capsys, *XOR, "--epochs", "1", "--resume", str(checkpointed), "--out", str(tmp_path / "b")
    )
    assert code == 2 and "already completed 2 epochs, more than --epochs 1" in err
    code, _, err = run(
        capsys, *XOR, "--epochs", "2", "--resume", str(checkpointed), "--out", str(tmp_path / "c")
    )
    assert code == 0 and "warning: " in err and "nothing to train" in err


def test_resume_may_continue_in_its_own_folder(checkpointed, capsys):
    out = checkpointed.parent
    code, _, err = run(capsys, *XOR, "--epochs", "3", "--resume", str(checkpointed), "--out", str(out))
    assert code == 0, err
    assert json.loads((out / "summary.json").read_text())["epochs_run"] == 3
