"""``numnet demo cnn`` end to end on a small run, and the SimpleConvNet benchmark workload: numnet and
PyTorch, from the same weights and batch order, end with the same test accuracy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numnet import demos

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_demo_cnn_small_run(tmp_path, capsys, image_dataset):
    dataset = image_dataset
    figures = demos.run_demo(
        "cnn", out=tmp_path, dataset=dataset, epochs=1, train_size=1000, eval_train_size=500, filters=6
    )
    assert figures["test_accuracy"] > 0.25  # well above chance (0.1) after only 10 Adam steps
    epochs = figures["history"]["epochs"]
    assert len(epochs) == 2 and epochs[1]["test_accuracy"] == figures["test_accuracy"]  # before and after
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "0.989" in printed and "load average" in printed
    for name in ("filters.png", "feature_maps.png", "accuracy.png", "loss.png", "confusion_matrix.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    assert "filters before" in (tmp_path / "summary.md").read_text()


def test_demo_cnn_is_registered():
    assert "cnn" in demos.names()
    settings = demos.settings("cnn")
    assert (settings.epochs, settings.batch_size, settings.lr, settings.weight_std) == (20, 100, 0.001, 0.01)
    assert demos.settings("cnn", quick=True).epochs < settings.epochs


def _run(module: str, data: Path, variant: str = "default") -> dict:
    env = {"PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        f"benchmarks.workloads.{module}",
        "--json",
        "--workload",
        "cnn",
        "--data",
        str(data),
        "--threads",
        "1",
        "--variant",
        variant,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_cnn_workload_numnet_and_torch_agree(tmp_path):
    from benchmarks.workloads.cnn_common import build_cnn_workload

    data = build_cnn_workload(tmp_path, quick=True, seed=3)
    ours, theirs = _run("cnn_numnet", data, "loader"), _run("cnn_torch", data, "slice")
    reference = _run("cnn_numnet", data, "im2col")
    floor = _run("cnn_floor", data)
    assert ours["quality"] == theirs["quality"] == reference["quality"]  # same predictions, same accuracy
    assert abs(ours["final_loss"] - theirs["final_loss"]) < 1e-4 * abs(theirs["final_loss"])
    assert "order checked equal" in ours["notes"]
    for result in (ours, theirs, floor):
        assert result["unit"] == "s/epoch" and len(result["samples"]) == 1 and result["rss_peak_mib"] > 0
    assert np.isfinite(floor["samples"][0])
