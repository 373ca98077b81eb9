"""``numnet sweep``: a grid of training settings (or a preset) run in parallel, reported as a table."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from numnet.cli import train
from numnet.cli.errors import CLIError
from numnet.cli.train import resolve_settings
from numnet.files import claim_output_folder
from numnet.recipe import check_settings
from numnet.sweep.grid import PRESETS, parse_grid
from numnet.sweep.report import write_tables
from numnet.sweep.runner import effective_jobs, run_grid


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "sweep",
        help="run a grid of settings in parallel and tabulate the results",
        description="Every numnet train flag sets a value shared by all rows; --grid NAME=V1,V2 varies one.",
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a setting to vary (repeatable); hidden sizes within one value use '-': hidden=64,256-128",
    )
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), help="a built-in grid: fit-table is the fit tutorial's ten rows"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallel workers (default 2; at most one per row and core)"
    )
    parser.add_argument(
        "--backend",
        default="loky",
        choices=["loky", "threading", "sequential", "dask"],
        help="joblib backend: loky = local processes (default); dask = a Dask cluster",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) for --backend dask")
    train.add_arguments(parser)
    parser.set_defaults(run=run_sweep)


def _sweep_folder(out: str | None) -> Path:
    """``--out`` (refused if it holds another sweep's table), or a new ``runs/sweep-<time>`` of its own."""
    return claim_output_folder(out, "sweep", ("sweep.csv", "sweep.md"), "a sweep")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def run_sweep(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise CLIError(f"--jobs must be at least 1, got {args.jobs}")
    if args.preset:
        if args.grid:
            raise CLIError("give either --preset or --grid, not both")
        kind, rows = PRESETS[args.preset]
        rows = [dict(r) for r in rows]
        title = f"numnet sweep --preset {args.preset}"
    else:
        if not args.grid:
            raise CLIError("give at least one --grid NAME=V1,V2 (or a --preset)")
        base = resolve_settings(args)
        base.pop("out", None)
        try:
            grid = parse_grid(args.grid)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        unknown = sorted(set(grid[0]) - set(base))
        if unknown:
            raise CLIError(f"--grid: unknown setting(s) {', '.join(unknown)}; use numnet train's flag names")
        kind, rows = "train", [{**base, **combo, "progress": False, "quiet": True} for combo in grid]
        for row in rows:  # a bad value is refused before any row starts, not once per row
            check_settings(row)
        title = "numnet sweep " + " ".join(f"--grid {g}" for g in args.grid)
    out = _sweep_folder(args.out)
    jobs = args.jobs if args.backend == "dask" else effective_jobs(args.jobs, len(rows))
    clamped = f" (--jobs {args.jobs} clamped to {len(rows)} rows, {os.cpu_count()} cores)"
    print(f"numnet sweep: {len(rows)} runs, {jobs} workers ({args.backend}){clamped * (jobs < args.jobs)}")
    print(f"numnet sweep: writing {out}/sweep.md and sweep.csv as rows finish")
    finished: dict[int, dict[str, Any]] = {}
    start = time.perf_counter()

    def on_row(index: int, row: dict[str, Any]) -> None:
        finished[index] = row
        write_tables([finished[i] for i in sorted(finished)], out, title)
        elapsed = time.perf_counter() - start
        left = elapsed / len(finished) * (len(rows) - len(finished))
        outcome = "FAILED: " + row["error"] if row.get("error") else f"{row['seconds']:.1f} s"
        estimate = f", about {_duration(left)} left" if len(finished) < len(rows) else ""
        print(
            f"numnet sweep: row {index} done ({outcome}); {len(finished)}/{len(rows)} rows, "
            f"{_duration(elapsed)} elapsed{estimate}",
            flush=True,
        )

    try:
        results = run_grid(
            kind, rows, out, jobs=jobs, backend=args.backend, scheduler=args.scheduler, on_row=on_row
        )
    except BaseException:  # Ctrl-C, SIGTERM (numnet.cli.Terminated) or an error: say what was kept
        if finished:
            print(
                f"numnet sweep: stopped; the {len(finished)} finished rows are in {out}/sweep.md",
                file=sys.stderr,
            )
        raise
    md, csv_path = write_tables(results, out, title)
    print(md.read_text())
    print(f"wrote {md} and {csv_path}")
    failed = [row for row in results if row.get("error")]
    if results and len(failed) == len(results):
        raise CLIError(f"every row failed (the first: {failed[0]['error']}); see {md}", exit_code=1)
    return 0
