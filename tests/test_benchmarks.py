"""Smoke test of the benchmark suite (issue 7): ``python -m benchmarks.run --quick`` end to end.

It checks that every workload's table is produced and that every implementation's child process ran; it
asserts nothing about speed. Quick mode uses synthetic MNIST-shaped data, so it needs no dataset.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "sklearn", "threadpoolctl")),
    reason="the suite compares against torch and scikit-learn and limits threads with threadpoolctl",
)


def test_quick_suite_writes_every_table(tmp_path: Path) -> None:
    report, raw = tmp_path / "BENCHMARKS.md", tmp_path / "raw.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--threads",
            "1",
            "--jobs",
            "2",
            "--output",
            str(report),
            "--raw",
            str(raw),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = report.read_text()

    assert "Quick mode" in text
    for title in (
        "1. MNIST training",
        "2. MNIST inference",
        "3a. Tiny: XOR",
        "3b. Tiny: curve fit",
        "4. Deeper/wider",
        "5. SimpleConvNet training",
        "1,000 images/epoch",
        "Targets (1 thread)",
        "## Targets at a glance",
        "## Machine",
    ):
        assert title in text, title
    for label in (
        "numnet (DataLoader)",
        "PyTorch eager (index slicing)",
        "PyTorch eager + torch DataLoader",
        "scikit-learn MLPClassifier",
        "GEMM floor (NumPy matmuls only)",
        "lean NumPy (hand-written loop)",
        "lean NumPy forward (hand-written, in place)",
        "numnet (DataLoader, compile_step)",
        "numnet (compile_step)",
        "numnet, textbook im2col layout",
        "GEMM floor (im2col GEMMs only)",
    ):
        assert f"| {label} |" in text, label
    assert "| failed |" not in text
    assert "| SimpleConvNet epoch vs PyTorch eager | ≤ 1.0× |" in text

    results = json.loads(raw.read_text())["1"]
    for workload, rows in results.items():
        for row in rows:
            assert not row["errors"], (workload, row["label"], row["errors"])
            (run,) = row["runs"]
            assert run["samples"] and all(s > 0 for s in run["samples"]), (workload, row["label"])
            assert run["threads"] == 1 and run["blas_threads"] == [1], (workload, row["label"])
            assert run["rss_peak_mib"] >= run["rss_imports_mib"] > 0
    # Same data, same initial weights, same batch order: numnet and PyTorch agree on MNIST.
    mnist = {row["label"]: row["runs"][0] for row in results["mnist"]}
    assert mnist["numnet (DataLoader)"]["quality"] == pytest.approx(
        mnist["PyTorch eager (index slicing)"]["quality"], abs=0.02
    )
    assert "order checked equal" in mnist["numnet (DataLoader)"]["notes"]
    # The lean NumPy forward is the same computation as numnet's inference: the very same predictions.
    inference = {row["label"]: row["runs"][0] for row in results["inference"]}
    lean = inference["lean NumPy forward (hand-written, in place)"]
    assert lean["quality"] == inference["numnet (no_grad, DataLoader)"]["quality"]
    assert "| (info) Lean NumPy forward vs GEMM floor | — |" in text
    # compile_step replays the eager step's own formulas: the very same results.
    assert mnist["numnet (DataLoader, compile_step)"]["quality"] == mnist["numnet (DataLoader)"]["quality"]
    # SimpleConvNet: the same weights and batches give numnet (both conv layouts) PyTorch's accuracy.
    cnn = {row["label"]: row["runs"][0] for row in results["cnn"]}
    assert set(cnn) == {
        "numnet (DataLoader)",
        "numnet, textbook im2col layout",
        "PyTorch eager (index slicing)",
        "GEMM floor (im2col GEMMs only)",
    }
    torch_accuracy = cnn["PyTorch eager (index slicing)"]["quality"]
    for label in ("numnet (DataLoader)", "numnet, textbook im2col layout"):
        assert cnn[label]["quality"] == pytest.approx(torch_accuracy, abs=0.01), label
        assert "order checked equal" in cnn[label]["notes"], label
    assert cnn["GEMM floor (im2col GEMMs only)"]["quality"] is None
    fit = {row["label"]: row["runs"][0] for row in results["fit"]}
    assert (
        fit["numnet (DataLoader, compile_step)"]["quality"] == fit["numnet (DataLoader, shuffled)"]["quality"]
    )
    # The fit-demo target is timed on the demo's own loop (its nets side by side), not on a look-alike.
    demo = fit["numnet demo fit's own loop (9 nets side by side)"]
    assert "train_side_by_side: 9 nets" in demo["notes"] and demo["unit"] == "s/step"


def test_sklearn_comparison_quick_mode_writes_its_table(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "SKLEARN.md"
    subprocess.run(
        [sys.executable, "-m", "benchmarks.sklearn_compare", "--quick", "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    table = out.read_text()
    assert "Quick mode" in table
    for dataset in ("digits", "mnist"):
        assert table.count(f"| {dataset} |") == 2  # numnet and scikit-learn rows


def _report(date: str, rows: list[tuple[str, str, str, str]]) -> str:
    """A report as benchmarks.run writes it, reduced to what --previous reads."""
    lines = ["# numnet benchmarks", "", "## Machine", "", f"- Date: {date}", "", "## Targets at a glance", ""]
    lines += ["| Target | Threshold | 2 threads | 1 thread |", "|---|---|---:|---:|"]
    lines += [f"| {name} | {limit} | {a} | {b} |" for name, limit, a, b in rows]
    return "\n".join([*lines, "", "## Thread pools seen by the children", ""])


# (target, threshold, run 1's cells, run 2's cells, the both-runs verdict); None: absent from that run
TWO_RUNS = [
    (
        "MNIST epoch vs PyTorch eager",
        "≤ 0.85×",
        ("0.80× met", "0.70× met"),
        ("0.82× met", "0.71× met"),
        "met",
    ),
    (
        "XOR step vs PyTorch eager",  # one cell of run 1 misses it
        "≤ 0.20×",
        ("0.19× met", "0.21× **not met**"),
        ("0.18× met", "0.19× met"),
        "**not met**",
    ),
    ("(info) compile_step", "—", ("0.15×", "0.16×"), ("0.14×", "0.15×"), "—"),
    (
        "SimpleConvNet epoch vs PyTorch eager",
        "≤ 1.0×",
        ("0.9× met", "0.8× met"),
        ("1.1× **not met**", "not measured"),
        "**not met**",
    ),
    ("A target run 1 did not have", "≤ 1×", None, ("0.5× met", "0.5× met"), "**not met**"),
]


def test_two_runs_section_needs_every_cell_of_both_runs_met() -> None:
    from benchmarks.run import read_glance, two_runs

    def report(date: str, run: int) -> str:
        rows = [(name, limit, cells[run]) for name, limit, *cells, _ in TWO_RUNS if cells[run] is not None]
        return _report(date, [(name, limit, *run_cells) for name, limit, run_cells in rows])

    run_1, run_2 = report("day 1; load 0.5", 0), report("day 2; load 0.7", 1)
    previous = read_glance(run_1)
    machine, columns, rows = previous
    assert machine == "day 1; load 0.5" and columns == ["2 threads", "1 thread"]
    assert rows["XOR step vs PyTorch eager"] == ["≤ 0.20×", "0.19× met", "0.21× **not met**"]
    section = two_runs(previous, run_2[run_2.index("## Targets at a glance") :], "day 2; load 0.7")
    verdicts = {ln.split(" | ")[0].lstrip("| "): ln.rstrip(" |").rsplit(" | ", 1)[1] for ln in section[6:-1]}
    assert verdicts == {name: verdict for name, *_, verdict in TWO_RUNS}
    assert "Run 1: day 1; load 0.5. Run 2: day 2; load 0.7." in section[2]
    columns_line = "| run 1, 2 threads | run 1, 1 thread | run 2, 2 threads | run 2, 1 thread | both runs |"
    assert columns_line in section[4]
    with pytest.raises(ValueError, match="no 'Targets at a glance' table"):
        read_glance("# numnet benchmarks\n")


def test_op_timer_counts_a_fused_op_once_not_its_parts_again():
    """LinearReLU.forward calls Linear.forward: the timer gives the time to the outer op only, so the ops'
    total never exceeds the phase that holds them (the old tables showed a negative framework share)."""
    import time

    from benchmarks.profile_numnet import OpTimer

    import numnet
    from numnet import nn

    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
    x = numnet.randn(32, 64)
    with OpTimer() as timer:
        start = time.perf_counter()
        for _ in range(20):
            model(x).sum().backward()
        elapsed = time.perf_counter() - start
    calls = {key: count for key, (_, count) in timer.ops.items() if count}
    assert calls["LinearReLU.forward"] == calls["LinearReLU.backward"] == 20
    assert calls["Linear.forward"] == calls["Linear.backward"] == 20  # the last layer only, not LinearReLU's
    assert sum(seconds for seconds, _ in timer.ops.values()) < elapsed
