"""``numnet sweep``: a grid of training settings (or a preset) run in parallel, reported as a table."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from numnet.cli.errors import CLIError
from numnet.sweep.grid import PRESETS, parse_grid
from numnet.sweep.report import write_tables
from numnet.sweep.runner import run_grid


def register(commands: Any) -> None:
    from numnet.cli import train

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
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument(
        "--backend",
        default="loky",
        choices=["loky", "threading", "sequential", "dask"],
        help="joblib backend: loky = local processes (default); dask = a Dask cluster",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) for --backend dask")
    train.add_arguments(parser)
    parser.set_defaults(run=run_sweep)


def run_sweep(args: argparse.Namespace) -> int:
    from numnet.cli.train import resolve_settings

    if args.jobs < 1:
        raise CLIError(f"--jobs must be at least 1, got {args.jobs}")
    out = Path(args.out or f"runs/sweep-{time.strftime('%Y%m%d-%H%M%S')}")
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
        title = "numnet sweep " + " ".join(f"--grid {g}" for g in args.grid)
    print(f"numnet sweep: {len(rows)} runs, {args.jobs} workers ({args.backend})")
    results = run_grid(kind, rows, out, jobs=args.jobs, backend=args.backend, scheduler=args.scheduler)
    md, csv_path = write_tables(results, out, title)
    print(md.read_text())
    print(f"wrote {md} and {csv_path}")
    return 0
