"""Bad input never shows a traceback: one line ``numnet <command>: error: …``, exit 2 (input) or 1."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.cli import main

XOR = ["train", "--dataset", "xor", "--hidden", "4", "--batch-size", "4", "--epochs", "1", "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str, command: str = "train") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"numnet {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"batchnorm": "no"}, "batchnorm must be true or false, got 'no'"),
        ({"patience": 0.5}, "patience must be a whole number, got 0.5"),
        ({"epochs": True}, "epochs must be a whole number, got True"),
        ({"hidden": [4, "x"]}, "--hidden takes comma-separated layer sizes"),
        ({"seed": -1}, "--seed must not be negative"),
        ({"dataset": 3}, "dataset must be a dataset name or a file path"),
        ({"momentum": 1.5}, "--momentum must be below 1"),
    ],
)
def test_config_values_are_type_checked(tmp_path, capsys, config, message):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"dataset": "xor", **config}))
    code, _, err = run(capsys, "train", "--config", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and message in one_error_line(err)
    assert not (tmp_path / "o").exists()  # refused before anything was written


def test_a_config_list_of_hidden_sizes_is_honoured(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('dataset = "xor"\nhidden = [3, 2]\nepochs = 1\nbatch_size = 4\nbatchnorm = false\n')
    code, _, err = run(capsys, "train", "--config", str(path), "--quiet", "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["settings"]["hidden"] == "3,2"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threads", "0"], "--threads must be at least 1"),
        (["--samples", "0"], "--samples must be at least 1"),
        (["--checkpoint-every", "-1"], "--checkpoint-every must not be negative"),
        (["--weight-decay", "-0.1"], "--weight-decay must not be negative"),
    ],
)
def test_values_that_were_silently_ignored_are_refused(tmp_path, capsys, flags, message):
    code, _, err = run(capsys, *XOR, *flags, "--out", str(tmp_path / "o"))
    assert code == 2 and message in one_error_line(err)


def test_flags_that_do_not_apply_warn(tmp_path, capsys):
    code, _, err = run(
        capsys,
        *XOR,
        "--optimizer",
        "adam",
        "--momentum",
        "0.9",
        "--samples",
        "50",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 0, err
    assert "numnet train: warning: --momentum does nothing with --optimizer adam" in err
    assert "numnet train: warning: --samples does nothing with --dataset xor" in err
    code, _, err = run(capsys, *XOR, "--optimizer", "sgd", "--momentum", "0.9", "--out", str(tmp_path / "p"))
    assert code == 0 and "warning" not in err


def test_an_integer_column_with_thousands_of_values_asks_for_task_regression(tmp_path, capsys):
    data = tmp_path / "ids.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.random((200, 2)), y=5000 + 37 * np.arange(200))  # an ID column: int64, 200 values
    code, _, err = run(capsys, "train", "--dataset", str(data), "--epochs", "1", "--out", str(tmp_path / "o"))
    line = one_error_line(err)
    assert code == 2 and "--task regression" in line and "12,364-output layer" in line
    code, _, err = run(
        capsys,
        "train",
        "--dataset",
        str(data),
        "--task",
        "regression",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["settings"]["task"] == "regression" and "r2" in summary["results"]["test"]
    meta = numnet.io.load_with_metadata(tmp_path / "r" / "model.npz")[1]
    assert meta["task"] == "regression" and meta["num_outputs"] == 1


def test_labels_beyond_any_sensible_layer_are_refused_even_as_classes(tmp_path, capsys):
    data = tmp_path / "huge.npz"
    np.savez(data, X=np.zeros((10, 1)), y=np.arange(10) * 10**9)
    code, _, err = run(
        capsys, "train", "--dataset", str(data), "--task", "classification", "--out", str(tmp_path / "o")
    )
    assert code == 2 and "below 100,000" in one_error_line(err)


def test_task_classification_on_a_continuous_target_is_refused(tmp_path, capsys):
    data = tmp_path / "c.csv"
    data.write_text("a,t\n" + "".join(f"{i},{i / 7:.3f}\n" for i in range(20)))
    code, _, err = run(
        capsys, "train", "--dataset", str(data), "--task", "classification", "--out", str(tmp_path)
    )
    assert code == 2 and "needs whole-number class labels" in one_error_line(err)


def test_a_nan_label_is_a_data_error_not_divergence(tmp_path, capsys):
    data = tmp_path / "nan.csv"
    data.write_text("a,t\n" + "".join(f"{i},{'nan' if i == 5 else i % 2}\n" for i in range(20)))
    code, _, err = run(capsys, "train", "--dataset", str(data), "--epochs", "1", "--out", str(tmp_path / "o"))
    line = one_error_line(err)
    assert code == 2 and "NaN" in line and "row 6" in line and "diverged" not in line


def test_numpys_advice_to_unpickle_never_reaches_the_user(tmp_path, capsys):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "objects.npz", X=np.array([[1.0]] * 9), y=np.array([{"a": 1}] * 9, dtype=object))
    model = tmp_path / "m.npz"
    numnet.save(nn.Sequential(nn.Linear(1, 2)), model, metadata={"in_features": 1})
    code, _, err = run(capsys, "predict", str(model), str(tmp_path / "objects.npy"))
    assert code == 2 and "numnet never loads" in one_error_line(err, "predict")
    code, _, err = run(
        capsys, "train", "--dataset", str(tmp_path / "objects.npz"), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "numnet never loads" in one_error_line(err)
    for text in (err,):
        assert "allow_pickle" not in text and "unsafely" not in text


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"in_features": "4"}, "in_features must be an integer in [1, "),
        ({"in_features": 10**12}, "in_features must be an integer in [1, "),
        ({"in_features": 4, "settings": [1]}, "settings must be a dict, got list"),
        ({"in_features": 4, "dataset": "xor", "settings": {"seed": "0"}}, "settings.seed must be an integer"),
        ({"in_features": 4, "loss": "pickle"}, "loss must be one of"),
    ],
)
def test_model_metadata_of_the_wrong_type_is_refused(tmp_path, capsys, metadata, message):
    path = tmp_path / "m.npz"
    numnet.save(nn.Sequential(nn.Linear(4, 2)), path, metadata=metadata)
    for command in ("evaluate", "summary"):
        code, _, err = run(
            capsys, command, str(path), *(["--dataset", "xor"] if command == "evaluate" else [])
        )
        assert code == 2 and message in one_error_line(err, command)


def test_evaluate_never_reads_a_local_file_a_model_file_names(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "secret.csv").write_text("a,t\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    path = tmp_path / "m.npz"
    numnet.save(nn.Sequential(nn.Linear(1, 2)), path, metadata={"in_features": 1, "dataset": "secret.csv"})
    code, _, err = run(capsys, "evaluate", str(path))
    assert code == 2 and "pass --dataset FILE" in one_error_line(err, "evaluate")


def test_an_internal_error_is_one_line_with_exit_1_and_debug_shows_the_traceback(capsys, monkeypatch):
    from numnet.cli import train

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(train, "train_from_settings", broken)
    code, _, err = run(capsys, *XOR)
    assert code == 1 and "internal error: KeyError" in one_error_line(err) and "--debug" in err
    code, _, err = run(capsys, "--debug", *XOR)
    assert code == 1 and "Traceback" in err and "KeyError: 'boom'" in err


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_exits_1(tmp_path, capsys):
    code, _, err = run(
        capsys,
        "train",
        "--dataset",
        "curve",
        "--samples",
        "50",
        "--lr",
        "1e9",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        str(tmp_path / "d"),
    )
    assert code == 1 and "training diverged" in one_error_line(err)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_stop_with_one_line_and_leave_no_temporaries(tmp_path, signum, code):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # curve with many samples and batch 2: long enough to be stopped mid-run, on a checkpoint every epoch
    argv = [
        sys.executable,
        "-m",
        "numnet",
        "train",
        "--dataset",
        "curve",
        "--samples",
        "3000",
        "--hidden",
        "32",
    ]
    argv += ["--batch-size", "2", "--epochs", "1000", "--checkpoint-every", "1", "--quiet"]
    argv += ["--out", str(tmp_path / "run")]
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        deadline = time.monotonic() + 60
        while not (tmp_path / "run" / "checkpoint.npz").exists() and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.05)
        process.send_signal(signum)
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # fail instead of waiting for the run's 1000 epochs
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"numnet train was still running 60 s after {signal.Signals(signum).name}: {err}")
    assert process.returncode == code, err
    assert err.strip().splitlines() == [f"numnet train: stopped by {signal.Signals(signum).name}"]
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".numnet-tmp.")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_signal_whose_exception_python_drops_still_stops_the_run(tmp_path, capsys, monkeypatch):
    """The signal arrives while a finalizer runs (as a ZipFile's __del__ after a checkpoint): Python drops
    the Terminated the handler raises there. The run must still stop, with its one line."""
    import numnet.cli.train as cli_train

    class Finalizer:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs here: its exception is dropped

    real = cli_train.train_from_settings

    def train_after_a_dropped_signal(*args, **kwargs):
        Finalizer()  # collected at once
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_train, "train_from_settings", train_after_a_dropped_signal)
    argv = ["train", "--dataset", "curve", "--samples", "400", "--batch-size", "2", "--epochs", "50"]
    code, _, err = run(capsys, *argv, "--quiet", "--out", str(tmp_path / "run"))
    assert code == 143
    assert err.strip().splitlines() == ["numnet train: stopped by SIGTERM"]  # no "Exception ignored" print
    assert not (tmp_path / "run" / "model.npz").exists()  # it stopped before the end


def test_only_a_dropped_terminated_is_redelivered_and_the_hook_is_restored(capsys):
    import numnet.cli as cli

    seen = []
    previous, sys.unraisablehook = sys.unraisablehook, seen.append
    try:
        with cli._signals_as_exceptions():

            class Other:
                def __del__(self):
                    raise KeyError("not ours")

            Other()  # dropped: handed on to the hook that was there before
        assert sys.unraisablehook == seen.append  # put back when the command ends
    finally:
        sys.unraisablehook = previous
    assert len(seen) == 1 and isinstance(seen[0].exc_value, KeyError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX pipes")
def test_a_pipe_given_as_a_file_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "inputs.npy"
    os.mkfifo(fifo)
    model = tmp_path / "m.npz"
    numnet.save(nn.Sequential(nn.Linear(1, 2)), model, metadata={"in_features": 1})
    code, _, err = run(capsys, "predict", str(model), str(fifo))
    assert code == 2 and "not a regular file" in one_error_line(err, "predict")
    code, _, err = run(capsys, "summary", str(fifo))
    assert code == 2 and "not a regular file" in one_error_line(err, "summary")


def test_control_characters_in_an_error_are_escaped(tmp_path, capsys):
    code, _, err = run(capsys, "summary", str(tmp_path / "evil\x1b[2J\rname.npz"))
    assert (
        code == 2
        and "\x1b" not in err
        and "\r" not in err
        and "evil\\x1b[2J\\rname" in one_error_line(err, "summary")
    )
