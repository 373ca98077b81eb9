"""Run numnet's benchmark suite and write ``BENCHMARKS.md``.

    python -m benchmarks.run [--quick] [--threads 2,1] [--repeats N] [--output BENCHMARKS.md]
                             [--workloads mnist,inference,deep,xor,fit,cnn] [--raw results.json]
                             [--previous RUN1.md]

The parent generates every workload's data, initial weights and batch orders once (``workloads.common``),
then runs each (workload, implementation) pair in its own process, ``--repeats`` times, for each thread count;
the processes of a workload take turns sample by sample (``interleave``). The thread-pool variables are set
in the child's environment and the child also limits its pools with threadpoolctl (and
``torch.set_num_threads``). It pools the timing samples (taken after a warm-up), reports
the median and the range, the ratios to PyTorch eager and to the GEMM floor, the quality figure and the
RSS, and checks the issue's targets.

``--quick`` is a CI-sized smoke run on synthetic MNIST-shaped data (seconds, tiny sizes): it checks that the
suite works, not how fast numnet is. Without ``--output`` it prints the report instead of writing
``BENCHMARKS.md``, so a smoke run never overwrites the real numbers.

``--previous RUN1.md`` names the report of the run just before this one (same machine, same code): the new
report then opens with both runs' targets side by side, since a target counts as met only when two
consecutive full runs both meet it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.interleave import Finished, run_in_turns
from benchmarks.workloads import WORKLOADS, thread_env

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Row:
    """One implementation of one workload: the child module, its variant and the label in the table."""

    module: str
    variant: str
    label: str
    # "torch": the PyTorch eager reference; "floor": the GEMM floor; "numnet": the subject (eager);
    # "compiled": numnet through compile_step; "lean": the hand-written NumPy reference
    role: str = ""


ROWS: dict[str, list[Row]] = {
    "mnist": [
        Row("numnet_impl", "loader", "numnet (DataLoader)", "numnet"),
        Row("numnet_impl", "compiled", "numnet (DataLoader, compile_step)", "compiled"),
        Row("torch_impl", "slice", "PyTorch eager (index slicing)", "torch"),
        Row("torch_impl", "loader", "PyTorch eager + torch DataLoader"),
        Row("sklearn_impl", "default", "scikit-learn MLPClassifier"),
        Row("gemm_floor", "default", "GEMM floor (NumPy matmuls only)", "floor"),
    ],
    "inference": [
        Row("numnet_impl", "loader", "numnet (no_grad, DataLoader)", "numnet"),
        Row("torch_impl", "slice", "PyTorch eager (no_grad)", "torch"),
        Row("sklearn_impl", "default", "scikit-learn MLPClassifier.predict"),
        Row("lean_numpy_impl", "default", "lean NumPy forward (hand-written, in place)", "lean"),
        Row("gemm_floor", "default", "GEMM floor (NumPy matmuls only)", "floor"),
    ],
    "deep": [
        Row("numnet_impl", "loader", "numnet (DataLoader)", "numnet"),
        Row("torch_impl", "slice", "PyTorch eager (index slicing)", "torch"),
        Row("torch_impl", "loader", "PyTorch eager + torch DataLoader"),
        Row("gemm_floor", "default", "GEMM floor (NumPy matmuls only)", "floor"),
    ],
    "xor": [
        Row("numnet_impl", "default", "numnet", "numnet"),
        Row("numnet_impl", "compiled", "numnet (compile_step)", "compiled"),
        Row("torch_impl", "default", "PyTorch eager", "torch"),
        Row("lean_numpy_impl", "default", "lean NumPy (hand-written loop)"),
        Row("gemm_floor", "default", "GEMM floor (NumPy matmuls only)", "floor"),
    ],
    "fit": [
        Row("numnet_impl", "slice", "numnet (x[i:i+1] loop)", "numnet"),
        Row("numnet_impl", "loader", "numnet (DataLoader, shuffled)"),
        Row("numnet_impl", "compiled", "numnet (DataLoader, compile_step)", "compiled"),
        Row("numnet_impl", "demo", "numnet demo fit's own loop (9 nets side by side)"),
        Row("torch_impl", "slice", "PyTorch eager (x[i:i+1] loop)", "torch"),
        Row("torch_impl", "loader", "PyTorch eager + torch DataLoader"),
        Row("lean_numpy_impl", "default", "lean NumPy (hand-written loop)"),
        Row("gemm_floor", "default", "GEMM floor (NumPy matmuls only)", "floor"),
    ],
    "cnn": [
        Row("cnn_numnet", "loader", "numnet (DataLoader)", "numnet"),
        Row("cnn_numnet", "im2col", "numnet, textbook im2col layout"),
        Row("cnn_torch", "slice", "PyTorch eager (index slicing)", "torch"),
        Row("cnn_floor", "default", "GEMM floor (im2col GEMMs only)", "floor"),
    ],
}

TITLES = {
    "mnist": "1. MNIST training: 784-256-128-10 ReLU, cross-entropy, SGD lr 0.1, batch 128, float32",
    "inference": "2. MNIST inference: forward + argmax over the test images",
    "deep": "4. Deeper/wider: 784-1024-1024-10 with BatchNorm1d and Dropout(0.5), SGD lr 0.1, batch 128",
    "xor": "3a. Tiny: XOR 2-3-1 ReLU, batch 4, MSE, SGD lr 0.1",
    "fit": "3b. Tiny: curve fit 1-128-1 sigmoid, batch 1 (per-sample SGD), loss ½(z − y)², SGD lr 0.1",
    # {n_train}: filled from the workload's spec (10,000 in full mode, 1,000 in quick mode)
    "cnn": "5. SimpleConvNet training: conv 30×5×5 → ReLU → max-pool 2 → 100 → 10, Adam lr 0.001, batch 100, "
    "float32, {n_train:,} images/epoch",
}

UNITS = {
    "s/epoch": ("s", 1.0, "per epoch"),
    "s/pass": ("ms", 1e3, "per pass"),
    "s/step": ("µs", 1e6, "per step"),
}


@dataclass
class Result:
    """The pooled outcome of one row at one thread count (all its repeats)."""

    row: Row
    runs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def samples(self) -> list[float]:
        return [s for run in self.runs for s in run["samples"]]

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def cpu_median(self) -> float | None:
        cpu = [s for run in self.runs for s in run.get("cpu_samples", [])]
        return statistics.median(cpu) if cpu else None

    def stat(self, key: str, how: str = "median") -> Any:
        values = [run[key] for run in self.runs if run.get(key) is not None]
        if not values:
            return None
        return max(values) if how == "max" else statistics.median(values)


# ---------------------------------------------------------------------------------------------------------
# Running the children
# ---------------------------------------------------------------------------------------------------------


def child_env(threads: int) -> dict[str, str]:
    """The environment of a child: thread-pool variables set, the repository root on ``PYTHONPATH``."""
    env = thread_env(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def build_in_child(directory: Path, quick: bool, seed: int, names: tuple[str, ...]) -> dict[str, Any]:
    """Generate the workload files in a separate process (the parent stays small: see ``build_main``)."""
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.workloads.common",
        str(directory),
        "--seed",
        str(seed),
        "--workloads",
        ",".join(names),
    ] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env(1), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"generating the workloads failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def child_command(row: Row, workload: str, data: Path, threads: int) -> list[str]:
    """The command line of one implementation's process for one workload."""
    return [
        sys.executable,
        "-m",
        f"benchmarks.workloads.{row.module}",
        "--json",
        "--workload",
        workload,
        "--variant",
        row.variant,
        "--data",
        str(data),
        "--threads",
        str(threads),
    ]


def parse_child(returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    """A child's JSON result (its last JSON line); ``RuntimeError`` with its stderr's last line if it
    failed."""
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if returncode != 0 or not lines:
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"exit {returncode}: {tail}")
    return json.loads(lines[-1])


def outcome_of(done: Finished, timeout: float) -> dict[str, Any] | RuntimeError:
    """The JSON result of a child that took turns, or the error it ended with."""
    if done.timed_out:
        return RuntimeError(f"a turn took over {timeout:g} s: killed")
    try:
        return parse_child(done.returncode, done.stdout, done.stderr)
    except RuntimeError as exc:
        return exc


def run_child(row: Row, workload: str, data: Path, threads: int, timeout: float) -> dict[str, Any]:
    """Run one implementation of one workload in a fresh process, alone; returns its JSON result.

    Raises ``RuntimeError`` with the tail of the child's stderr when it fails.
    """
    cmd = child_command(row, workload, data, threads)
    proc = subprocess.run(
        cmd, cwd=ROOT, env=child_env(threads), capture_output=True, text=True, timeout=timeout, check=False
    )
    return parse_child(proc.returncode, proc.stdout, proc.stderr)


def record(res: Result, tag: str, start: float, outcome: dict[str, Any] | Exception) -> None:
    """Add one child's outcome to its row and log it."""
    if isinstance(outcome, Exception):
        res.errors.append(str(outcome))
        log(f"{tag}: FAILED {outcome}")
        return
    res.runs.append(outcome)
    unit, scale, _ = UNITS[outcome["unit"]]
    log(
        f"{tag}: {statistics.median(outcome['samples']) * scale:.4g} {unit} "
        f"{outcome['unit'].split('/')[1]}, quality {outcome['quality']}, "
        f"peak {outcome['rss_peak_mib']:.0f} MiB ({time.perf_counter() - start:.1f} s)"
    )


def run_rows_in_turns(
    rows: list[Result], workload: str, data: Path, threads: int, tag: str, timeout: float
) -> None:
    """One process per row of ``workload``, taking turns sample by sample; each outcome lands in its row."""
    commands = [child_command(r.row, workload, data, threads) for r in rows]
    start = time.perf_counter()

    def finished(i: int, done: Finished) -> None:
        record(rows[i], f"{tag} {rows[i].row.label}", start, outcome_of(done, timeout))

    run_in_turns(commands, child_env(threads), ROOT, timeout, finished)


def run_matrix(
    paths: dict[str, Path], threads_list: list[int], repeats: int, timeout: float, jobs: int = 1
) -> dict[int, dict[str, list[Result]]]:
    """Every row of every workload, ``repeats`` times, for each thread count.

    With ``jobs == 1`` the rows of a workload take turns sample by sample (:mod:`benchmarks.interleave`):
    one process per row and repeat, only one of them running at a time. ``jobs > 1`` runs that many
    children at once, each on its own: only for ``--quick`` smoke runs, since concurrent children compete
    for the cores and their timings mean nothing.
    """
    results: dict[int, dict[str, list[Result]]] = {
        threads: {workload: [Result(row) for row in ROWS[workload]] for workload in paths}
        for threads in threads_list
    }

    if jobs <= 1:
        for threads in threads_list:
            for workload in paths:
                for repeat in range(repeats):
                    tag = f"[{workload} t={threads} r={repeat}]"
                    run_rows_in_turns(
                        results[threads][workload], workload, paths[workload], threads, tag, timeout
                    )
        return results

    def one(task: tuple[int, str, int, Result]) -> None:
        threads, workload, repeat, res = task
        start = time.perf_counter()
        tag = f"[{workload} t={threads} r={repeat}] {res.row.label}"
        try:
            outcome: dict[str, Any] | Exception = run_child(
                res.row, workload, paths[workload], threads, timeout
            )
        except RuntimeError as exc:
            outcome = exc
        except subprocess.TimeoutExpired as exc:
            outcome = RuntimeError(str(exc))
        record(res, tag, start, outcome)

    tasks = [
        (threads, workload, repeat, res)
        for threads in threads_list
        for workload in paths
        for repeat in range(repeats)
        for res in results[threads][workload]
    ]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, tasks))
    return results


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    """CPU model, cores, versions and the parent's BLAS, for the report's header."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "torch", "scikit-learn", "threadpoolctl"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return dict(
        cpu=cpu,
        cores=f"{os.cpu_count()} logical ({affinity} usable)",
        python=platform.python_version(),
        numpy=versions["numpy"],
        torch=versions["torch"],
        sklearn=versions["scikit-learn"],
        threadpoolctl=versions["threadpoolctl"],
        platform=platform.platform(),
    )


def fmt_time(seconds: float | None, unit: str) -> str:
    if seconds is None:
        return "—"
    name, scale, _ = UNITS[unit]
    value = seconds * scale
    return f"{value:,.0f} {name}" if value >= 100 else f"{value:.3g} {name}"


def fmt_ratio(num: float | None, den: float | None) -> str:
    if num is None or den is None or den == 0:
        return "—"
    return f"{num / den:.2f}×"


def fmt_quality(res: Result) -> str:
    q = res.stat("quality")
    if q is None:
        return "—"
    name = res.runs[0].get("quality_name", "accuracy")
    return f"{100 * q:.2f} %" if name == "accuracy" else f"MSE {q:.4g}"


def find(results: list[Result], role: str) -> Result | None:
    return next((r for r in results if r.row.role == role and r.runs), None)


def workload_table(workload: str, results: list[Result], spec: dict[str, Any]) -> list[str]:
    """The markdown table (and its notes) of one workload at one thread count."""
    unit = next((r.runs[0]["unit"] for r in results if r.runs), "s/epoch")
    torch_ref, floor = find(results, "torch"), find(results, "floor")
    lines = [
        f"| Implementation | Time {UNITS[unit][2]} (median) | Range (min–max) | n | × PyTorch eager | "
        f"× GEMM floor | CPU time (median) | × PyTorch, CPU | "
        f"{'Test accuracy' if workload in ('mnist', 'deep', 'inference', 'cnn') else 'Final loss'} | "
        "Peak RSS | RSS after imports | Peak − after data |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for res in results:
        if not res.runs:
            lines.append(f"| {res.row.label} | failed | | | | | | | | | | |")
            notes.append(f"{res.row.label}: {'; '.join(res.errors)[:300]}")
            continue
        samples = res.samples
        peak, imports, loaded = (
            res.stat("rss_peak_mib", "max"),
            res.stat("rss_imports_mib"),
            res.stat("rss_data_mib"),
        )
        lines.append(
            f"| {res.row.label} | {fmt_time(res.median, unit)} | {fmt_time(min(samples), unit)} – "
            f"{fmt_time(max(samples), unit)} | {len(samples)} | "
            f"{fmt_ratio(res.median, torch_ref.median if torch_ref else None)} | "
            f"{fmt_ratio(res.median, floor.median if floor else None)} | {fmt_time(res.cpu_median, unit)} | "
            f"{fmt_ratio(res.cpu_median, torch_ref.cpu_median if torch_ref else None)} | "
            f"{fmt_quality(res)} | "
            f"{peak:.0f} MiB | {imports:.0f} MiB | {peak - loaded:.0f} MiB |"
        )
        note = res.runs[0].get("notes")
        if note:
            notes.append(f"{res.row.label}: {note}")
        if res.errors:
            notes.append(f"{res.row.label}: {len(res.errors)} failed run(s): {res.errors[0][:200]}")
        hwm = res.stat("vm_hwm_mib", "max")
        if hwm is not None and peak - hwm > 2:
            notes.append(
                f"{res.row.label}: ru_maxrss {peak:.0f} MiB exceeds the process's own VmHWM "
                f"{hwm:.0f} MiB (a high-water mark inherited from the spawning process)"
            )
    return lines + [""] + [f"- {n}" for n in notes]


def check_targets(by_workload: dict[str, list[Result]]) -> list[tuple[str, str, str, bool | None]]:
    """The issue's targets: (target, threshold, measured, met?) for one thread count."""

    def med(workload: str, role: str) -> float | None:
        res = find(by_workload.get(workload, []), role)
        return res.median if res else None

    def ratio(workload: str, a: str, b: str) -> float | None:
        x, y = med(workload, a), med(workload, b)
        return None if x is None or y is None or y == 0 else x / y

    def cpu_ratio(workload: str, a: str, b: str) -> str:
        """The same ratio from the fastest samples and from CPU time: steadier on a shared machine."""
        x, y = (find(by_workload.get(workload, []), role) for role in (a, b))
        if x is None or y is None or not x.samples or not y.samples:
            return ""
        best = f"best-of {min(x.samples) / min(y.samples):.3f}×"
        if not x.cpu_median or not y.cpu_median:
            return f" ({best})"
        return f" ({best}; CPU time {x.cpu_median / y.cpu_median:.3f}×)"

    rows: list[tuple[str, str, str, bool | None]] = []

    def add(
        name: str,
        threshold: str,
        value: float | None,
        limit: float | None,
        fmt: str = "{:.3f}×",
        extra: str = "",
    ) -> None:
        """One target row; ``limit`` None: for information, no status."""
        if value is None:
            rows.append((name, threshold, "not measured", None))
        else:
            met = None if limit is None else value <= limit
            rows.append((name, threshold, fmt.format(value) + extra, met))

    def add_ratio(name: str, threshold: str, workload: str, a: str, b: str, limit: float | None) -> None:
        add(name, threshold, ratio(workload, a, b), limit, extra=cpu_ratio(workload, a, b))

    add_ratio("MNIST epoch vs PyTorch eager", "≤ 0.85×", "mnist", "numnet", "torch", 0.85)
    add_ratio("MNIST epoch vs GEMM floor", "≤ 1.5×", "mnist", "numnet", "floor", 1.5)
    add_ratio("(info) MNIST epoch, compile_step vs PyTorch eager", "—", "mnist", "compiled", "torch", None)
    mnist = by_workload.get("mnist", [])
    nn_res, torch_res = find(mnist, "numnet"), find(mnist, "torch")
    if nn_res and torch_res:
        gap = abs(nn_res.stat("quality") - torch_res.stat("quality")) * 100
        rows.append(
            ("MNIST: same test accuracy as PyTorch", "difference ≤ 0.5 pp", f"{gap:.2f} pp", gap <= 0.5)
        )
        mem = nn_res.stat("rss_peak_mib", "max") / torch_res.stat("rss_peak_mib", "max")
        add("MNIST training peak RSS vs PyTorch", "≤ 0.5×", mem, 0.5)
        growth_nn = nn_res.stat("rss_peak_mib", "max") - nn_res.stat("rss_data_mib")
        growth_torch = torch_res.stat("rss_peak_mib", "max") - torch_res.stat("rss_data_mib")
        rows.append(
            (
                "(info) MNIST training RSS growth vs PyTorch",
                "—",
                f"{growth_nn:.0f} / {growth_torch:.0f} MiB = {growth_nn / max(growth_torch, 1e-9):.2f}×",
                None,
            )
        )
    else:
        rows.append(("MNIST: same accuracy / peak RSS", "", "not measured", None))
    add_ratio("Inference vs GEMM floor", "≤ 1.05×", "inference", "numnet", "floor", 1.05)
    add_ratio("(info) Inference vs PyTorch eager", "—", "inference", "numnet", "torch", None)
    add_ratio("(info) Lean NumPy forward vs GEMM floor", "—", "inference", "lean", "floor", None)
    add_ratio("(info) Inference vs lean NumPy forward", "—", "inference", "numnet", "lean", None)
    add_ratio("XOR step vs PyTorch eager", "≤ 0.20×", "xor", "numnet", "torch", 0.20)
    add_ratio("(info) XOR step, compile_step vs PyTorch eager", "—", "xor", "compiled", "torch", None)
    add_ratio("Fit-net step vs PyTorch eager", "≤ 0.25×", "fit", "numnet", "torch", 0.25)
    fit = by_workload.get("fit", [])
    demo = next((r for r in fit if (r.row.module, r.row.variant) == ("numnet_impl", "demo") and r.runs), None)
    add(
        "Fit demo training, 1,000 epochs × 1,000 steps (projected from the demo's own loop)",
        "< 60 s",
        demo.median * 1e6 if demo else None,
        60.0,
        "{:.0f} s",
    )
    add_ratio("SimpleConvNet epoch vs PyTorch eager", "≤ 1.0×", "cnn", "numnet", "torch", 1.0)
    add_ratio("(info) SimpleConvNet epoch vs GEMM floor", "—", "cnn", "numnet", "floor", None)
    cnn = by_workload.get("cnn", [])
    nn_res, torch_res = find(cnn, "numnet"), find(cnn, "torch")
    if nn_res and torch_res:
        gap = abs(nn_res.stat("quality") - torch_res.stat("quality")) * 100
        same = ("SimpleConvNet: same test accuracy as PyTorch", "difference ≤ 0.5 pp")
        rows.append((*same, f"{gap:.2f} pp", gap <= 0.5))
        mem = nn_res.stat("rss_peak_mib", "max") / torch_res.stat("rss_peak_mib", "max")
        add("(info) SimpleConvNet training peak RSS vs PyTorch", "—", mem, None)
    else:
        rows.append(("(info) SimpleConvNet: accuracy gap / peak RSS", "—", "not measured", None))
    return rows


def targets_at_a_glance(results: dict[int, dict[str, list[Result]]]) -> list[str]:
    """Every target with one column per thread count (ratios of medians; "met" / "not met")."""
    checked = {threads: check_targets(by_workload) for threads, by_workload in results.items()}
    if not checked:
        return []
    columns = list(checked)
    header = " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in columns)
    lines = [
        "## Targets at a glance",
        "",
        f"| Target | Threshold | {header} |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for i, (name, threshold, _, _) in enumerate(checked[columns[0]]):
        cells = []
        for t in columns:
            row = checked[t][i] if i < len(checked[t]) else (name, threshold, "—", None)
            measured, met = row[2].split(" (")[0], row[3]
            cells.append(measured + ("" if met is None else (" met" if met else " **not met**")))
        lines.append(f"| {name} | {threshold} | {' | '.join(cells)} |")
    return [*lines, ""]


Glance = tuple[str, list[str], dict[str, list[str]]]  # what read_glance returns


def read_glance(report: str) -> Glance:
    """From a report this module wrote: its machine line (date, wall time, load averages), the thread
    columns of its "Targets at a glance" table, and each target's cells there (threshold first)."""
    lines = report.splitlines()
    machine = next((ln[len("- Date: ") :] for ln in lines if ln.startswith("- Date: ")), "date not recorded")
    try:
        start = lines.index("## Targets at a glance")
    except ValueError:
        raise ValueError("the previous report has no 'Targets at a glance' table") from None
    table = [ln for ln in lines[start + 1 :] if ln.startswith("|")]
    if len(table) < 2:
        raise ValueError("the previous report's 'Targets at a glance' table is empty")
    columns = [c.strip() for c in table[0].strip("|").split("|")][2:]
    rows = {}
    for ln in table[2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return machine, columns, rows


def two_runs(previous: Glance, current: str, machine: str) -> list[str]:
    """The report's opening section: the previous run's targets (``previous``, from ``read_glance``) beside
    this run's (``current``, this report's "Targets at a glance" lines), and whether both runs meet each."""
    machine_1, columns_1, rows_1 = previous
    _, columns_2, rows_2 = read_glance(current)
    header = [f"run 1, {c}" for c in columns_1] + [f"run 2, {c}" for c in columns_2]
    out = [
        "## Two consecutive full runs",
        "",
        f"Run 1: {machine_1}. Run 2: {machine}. The rest of this file is run 2. A target counts as met only "
        "where both runs meet it (last column, every thread count).",
        "",
        f"| Target | Threshold | {' | '.join(header)} | both runs |",
        "|---|---|" + "---:|" * len(header) + "---|",
    ]
    for name, cells_2 in rows_2.items():
        cells_1 = rows_1.get(name, ["", *["not measured"] * len(columns_1)])
        measured = cells_1[1:] + cells_2[1:]
        met = [c.endswith(" met") for c in measured]
        failed = [c.endswith("**not met**") or c == "not measured" for c in measured]
        verdict = "met" if all(met) else ("**not met**" if any(met) or any(failed) else "—")
        out.append(f"| {name} | {cells_2[0]} | {' | '.join(measured)} | {verdict} |")
    return [*out, ""]


def _blas_of_children(results: dict[int, dict[str, list[Result]]]) -> tuple[str, list[str]]:
    """NumPy's BLAS as a numnet child saw it, and every thread pool any child saw."""
    runs = [run for by_w in results.values() for rs in by_w.values() for r in rs for run in r.runs]
    numpy_blas = sorted(
        {p for run in runs if run["impl"] == "numnet" for p in run.get("pools", []) if "(blas" in p}
    )
    pools = sorted({p for run in runs for p in run.get("pools", [])})
    return "; ".join(numpy_blas) or "not seen", pools


def render(
    results: dict[int, dict[str, list[Result]]],
    specs: dict[str, dict[str, Any]],
    args: Any,
    info: dict[str, str],
    elapsed: float,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    previous: Glance | None = None,
) -> str:
    """The whole ``BENCHMARKS.md``; ``previous``: the run before's targets (``--previous``), if any."""
    command = "python -m benchmarks.run" + (" --quick" if args.quick else "")
    command += f" --threads {args.threads} --repeats {args.repeats}"
    numpy_blas, pools = _blas_of_children(results)
    out = ["# numnet benchmarks", "", f"Generated by `{command}`: do not edit by hand.", ""]
    if args.quick:
        out += [
            "> **Quick mode**: synthetic MNIST-shaped data and tiny sizes. This run checks that the",
            "> suite works; its numbers say nothing about speed.",
            "",
        ]
    if args.jobs > 1:
        out += [
            f"> Run with `--jobs {args.jobs}`: children ran concurrently; the timings are not comparable.",
            "",
        ]
    machine = (
        f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')}; suite wall time {elapsed:.0f} s; "
        f"load average (1 min) at start {loads[0][0]:.2f}, at end {loads[1][0]:.2f}"
    )
    glance = targets_at_a_glance(results)
    if previous is not None:
        out += two_runs(previous, "\n".join(glance), machine)
    out += [
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores",
        f"- Python {info['python']}, NumPy {info['numpy']}, torch {info['torch']}, scikit-learn "
        f"{info['sklearn']}, threadpoolctl {info['threadpoolctl']}",
        f"- NumPy's BLAS (threadpoolctl, in a numnet child): {numpy_blas}",
        f"- Platform: {info['platform']}",
        f"- Thread counts: {args.threads} (OMP/MKL/OPENBLAS_NUM_THREADS in each child's environment, plus "
        "threadpoolctl and `torch.set_num_threads` inside it)",
        f"- Date: {machine}",
        "",
        "## Method",
        "",
        "- Every (workload, implementation) pair runs in its own process "
        "(`python -m benchmarks.workloads.<impl> --json ...`): NumPy and PyTorch are never timed in one "
        "process.",
        "- The processes of one workload take turns, one timing sample each, round robin "
        "(`benchmarks/interleave.py`): only one runs at a time, and a turn starts only once every thread of "
        "the last one is asleep (NumPy's OpenBLAS threads spin about 100 ms after a product). A slow stretch "
        "of a shared host thus falls on neighbouring samples of every row, not on one row."
        + (" (Not in this run: `--jobs` > 1 ran children at once.)" if args.jobs > 1 else ""),
        "- Data, initial weights (PyTorch's default U(±1/√fan_in), drawn once with NumPy) and the batch "
        "order (one permutation per epoch from a seed) are generated once and loaded by every child from "
        "the same `.npz`; scikit-learn shuffles with its own `random_state` (it takes no sampler).",
        "- Times are taken after a warm-up (a few steps on a throwaway copy of the model, or untimed "
        "steps/passes); median and range (min–max) over all samples (epochs, passes, or chunks of steps) "
        "of all repeats; `n` is the number of samples.",
        "- Ratios are medians over medians, in the same run and thread count; the PyTorch reference is the "
        "plain index-slicing row. The GEMM floor times only the matrix products a step needs (forward "
        "X·Wᵀ, backward dW = Gᵀ·X and dX = G·W, no dX for the first layer) in the same shapes and dtype.",
        "- Peak RSS is `ru_maxrss` of the child at its end (interpreter, imported libraries and the "
        "workload's data included); *RSS after imports* is `ru_maxrss` right after the library imports; "
        "*peak − after data* is the growth during model building, warm-up, training and evaluation. The "
        "parent never loads the data (a child's `ru_maxrss` starts from its parent's high-water mark).",
        "- The times are only as good as the machine was quiet: check the load averages above and the "
        "ranges. `python -m benchmarks.profile_numnet` writes cProfile and per-op profiles of numnet's "
        "tiny-network step and MNIST epoch to `benchmarks/PROFILE.md`.",
        "",
    ]
    for threads, by_workload in results.items():
        plural = "s" if threads > 1 else ""
        out += [f"## {threads} thread{plural}", ""]
        for workload, res in by_workload.items():
            spec = specs[workload]
            out += [f"### {title(workload, spec)}", "", describe(workload, spec), ""]
            out += [*workload_table(workload, res, spec), ""]
        out += [
            f"### Targets ({threads} thread{plural})",
            "",
            "Status is judged on the ratio of medians (wall time). In brackets, for a shared or noisy "
            "machine: the ratio of the fastest samples (best-of) and of the median CPU times (with "
            "several threads CPU time includes the BLAS/OpenMP threads' spin-waiting).",
            "",
            "| Target | Threshold | Measured | Status |",
            "|---|---|---:|---|",
        ]
        for name, threshold, measured, met in check_targets(by_workload):
            status = "—" if met is None else ("met" if met else "**not met**")
            out.append(f"| {name} | {threshold} | {measured} | {status} |")
        out.append("")
    out += glance
    out += ["## Thread pools seen by the children (threadpoolctl / torch)", ""]
    out += [*[f"- {p}" for p in pools], ""]
    return "\n".join(out)


def title(workload: str, spec: dict[str, Any]) -> str:
    """The workload's heading, with its sizes from ``spec`` where the title names them."""
    return TITLES[workload].format_map(spec) if "{" in TITLES[workload] else TITLES[workload]


def describe(workload: str, spec: dict[str, Any]) -> str:
    """One line on the workload's size."""
    if workload == "cnn":
        return (
            f"{spec['n_train']:,} training images per epoch, {spec['epochs']} timed "
            f"epoch{'s' if spec['epochs'] != 1 else ''} after "
            f"{spec['warmup_steps']} warm-up steps on a throwaway copy, batch {spec['batch_size']}; weights "
            f"{spec['weight_std']}·N(0, 1), biases 0; accuracy on {spec['n_test']:,} test images after the "
            f"last epoch. Data: {spec['data']}."
        )
    if workload in ("mnist", "deep"):
        return (
            f"{spec['n_train']} training images, {spec['epochs']} epochs, batch {spec['batch_size']}, "
            f"accuracy on {spec['n_test']} test images after the last epoch. Data: {spec['data']}."
        )
    if workload == "inference":
        return (
            f"{spec['n_test']} test images in batches of {spec['batch_size']}, {spec['passes']} timed "
            f"passes after {spec['warmup_passes']} warm-up passes; initial (untrained) weights."
        )
    if workload == "xor":
        return (
            f"Step = forward + loss + zero_grad + backward + SGD step; {spec['samples']} × "
            f"{spec['steps_per_sample']} timed steps after {spec['warmup_steps']} warm-up steps."
        )
    return (
        f"Step = forward + loss (`0.5 * MSELoss(reduction='sum')`, as the `fit` demo) + zero_grad + "
        f"backward + SGD step on one sample; {spec['epochs']} timed epochs of {spec['n']} samples after "
        f"{spec['warmup_steps']} warm-up steps. Final loss: MSE over the {spec['n']} training samples. "
        "The demo itself (`numnet demo fit`) also calls `loss.item()` every step and does not shuffle."
    )


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _default_threads() -> str:
    """The usable cores and a single thread (the 1-thread column), e.g. ``"2,1"``; ``"1"`` on one core."""
    cores = _usable_cores()
    return f"{cores},1" if cores > 1 else "1"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 0, or 1 when a child failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized smoke run on synthetic data")
    parser.add_argument(
        "--threads",
        default=_default_threads(),
        help="comma-separated thread counts, e.g. 2,1 (default: the usable cores, then 1)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="processes per row and thread count (default: 3; 1 with --quick). Three, not two: a process "
        "now and then runs a tiny workload about 1.5x slower all through (XOR: 42.6 against 27.3-27.9 us "
        "in the other four of five), and with two the median falls between the two speeds",
    )
    parser.add_argument(
        "--output", default=None, help="report file (default BENCHMARKS.md; quick mode prints instead)"
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"subset of {','.join(WORKLOADS)}")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="children run at once (>1 only for --quick smoke runs: timings become noise)",
    )
    parser.add_argument("--raw", default=None, help="also write every child's JSON result to this file")
    parser.add_argument(
        "--previous",
        default=None,
        help="the report of the run just before this one: both runs' targets open the new report",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child process")
    args = parser.parse_args(argv)

    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    try:
        threads_list = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        parser.error(f"--threads: expected comma-separated integers, got {args.threads!r}")
    names = tuple(w.strip() for w in args.workloads.split(",") if w.strip())
    unknown = set(names) - set(WORKLOADS)
    if unknown or not names:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {','.join(WORKLOADS)}")
    names = tuple(w for w in WORKLOADS if w in names)  # the report's order
    if args.repeats < 1 or args.jobs < 1 or not threads_list or min(threads_list) < 1:
        parser.error("--repeats, --jobs and --threads must be positive")
    if args.jobs > 1 and not args.quick:
        log("warning: --jobs > 1 runs children concurrently; the timings will not be comparable")
    output = Path(args.output) if args.output else (None if args.quick else ROOT / "BENCHMARKS.md")
    previous = None
    if args.previous:
        try:
            previous = read_glance(Path(args.previous).read_text())
        except (OSError, ValueError) as exc:
            parser.error(f"--previous {args.previous}: {exc}")

    # On SIGTERM unwind normally: subprocess.run kills the running child, the temporary folder is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    start = time.perf_counter()
    load_start = os.getloadavg()
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="numnet-bench-") as tmp:
        log(f"generating workloads {','.join(names)} ({'quick' if args.quick else 'full'}) in {tmp}")
        built = build_in_child(Path(tmp), args.quick, args.seed, names)
        paths = {w: Path(built[w]["path"]) for w in names}
        specs = {w: built[w]["spec"] for w in names}
        results = run_matrix(paths, threads_list, args.repeats, args.timeout, args.jobs)
    loads = (load_start, os.getloadavg())
    report = render(results, specs, args, info, time.perf_counter() - start, loads, previous)
    if output is None:
        print(report)
    else:
        output.write_text(report)
        log(f"wrote {output}")
    if args.raw:
        raw = {
            str(t): {
                w: [dict(label=r.row.label, runs=r.runs, errors=r.errors) for r in rs]
                for w, rs in by_w.items()
            }
            for t, by_w in results.items()
        }
        Path(args.raw).write_text(json.dumps(raw, indent=1))
    failed = [r.row.label for by_w in results.values() for rs in by_w.values() for r in rs if r.errors]
    if failed:
        log(f"{len(failed)} row(s) had failures: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
