"""Run a grid in parallel through joblib: local processes by default, a Dask cluster with backend='dask'."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def run_job(kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """One row of a sweep, in whatever process joblib runs it: returns settings, results, seconds, picture.

    A row that fails (a diverging learning rate, say) becomes a row with its error, so the other rows'
    results still make the table."""
    start = time.perf_counter()
    row: dict[str, Any] = {
        "settings": settings,
        "results": {},
        "out": settings.get("out", ""),
        "picture": None,
    }
    try:
        if kind == "train":
            from numnet.recipe import train_from_settings

            summary = train_from_settings(settings, verbose=False)
            splits = summary["results"]
            results = splits.get("test") or splits.get("validation") or splits["train"]
            row.update(out=summary["out"], picture="loss.png" if "loss.png" in summary["files"] else None)
        elif kind == "fit":
            from numnet.demos import fit as fit_demo

            figures = fit_demo.run_row(settings)
            results = figures["results"]
            row.update(out=figures["out"], picture=figures.get("picture"))
        else:
            raise ValueError(f"unknown sweep job {kind!r}")
        row["results"] = {k: float(v) for k, v in results.items()}
    except Exception as exc:  # any failure of one row is reported in its line of the table
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


@contextlib.contextmanager
def _dask_backend(scheduler: str | None, workers: int) -> Iterator[None]:
    try:
        import joblib
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("the dask backend needs dask.distributed: pip install numnet[dask]") from exc
    cluster = None
    if scheduler is None:  # no cluster named: start one on this machine, loopback only
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
        scheduler = cluster.scheduler_address
    client = Client(scheduler)
    try:
        with joblib.parallel_config(backend="dask"):
            yield
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def effective_jobs(jobs: int, rows: int) -> int:
    """``jobs`` clamped to the rows and the cores: more workers than either only cost memory."""
    return max(1, min(int(jobs), rows, os.cpu_count() or 1))


def _shutdown_loky_workers() -> None:
    """End the worker processes joblib's loky backend keeps for reuse, so none outlives the command."""
    from joblib.externals.loky import reusable_executor

    # joblib keeps one process pool alive between calls (its ``_executor``); asking for it with
    # get_reusable_executor() would start a new pool when none runs, so the module's own handle is used.
    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def run_grid(
    kind: str,
    rows: list[dict[str, Any]],
    out: Path,
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
    on_row: Callable[[int, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every row (``run_job(kind, row)``) with ``jobs`` parallel workers; results in row order.

    Each row writes into ``out/row-XX``. ``backend`` is a joblib backend: ``loky`` (processes on this
    machine), ``threading``, ``sequential``, or ``dask`` (on the cluster at ``scheduler``, an address such
    as ``tcp://10.0.0.5:8786``; without one, a local cluster of ``jobs`` workers). ``jobs`` is clamped to
    min(rows, cores). ``on_row(index, result)`` is called in this process as each row finishes (in the
    order they finish), so a caller can write the table so far. Every worker started here has ended when
    this returns, or raises (Ctrl-C included)."""
    import joblib

    if not rows:
        return []
    if backend == "dask":
        jobs = max(1, min(int(jobs), len(rows)))  # a cluster's cores are not this machine's
    else:
        jobs = effective_jobs(jobs, len(rows))
    prepared = []
    for index, row in enumerate(rows):
        settings = dict(row)
        settings["out"] = str(out / f"row-{index:02d}")
        if jobs > 1 and not settings.get("threads"):
            settings["threads"] = 1  # one BLAS thread per worker: the workers already fill the cores
        prepared.append(settings)
    if scheduler is not None and backend != "dask":
        raise ValueError("--scheduler is for --backend dask")
    results: list[dict[str, Any] | None] = [None] * len(rows)

    def numbered(index: int, settings: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return index, run_job(kind, settings)

    tasks = (joblib.delayed(numbered)(index, settings) for index, settings in enumerate(prepared))

    def collect(parallel: joblib.Parallel) -> None:
        for index, row in parallel(tasks):
            row["index"] = index
            results[index] = row
            if on_row is not None:
                on_row(index, row)

    try:
        if backend == "dask":
            with _dask_backend(scheduler, jobs):
                collect(joblib.Parallel(n_jobs=jobs, return_as="generator_unordered"))
        else:
            collect(joblib.Parallel(n_jobs=jobs, backend=backend, return_as="generator_unordered"))
    finally:
        if backend == "loky":
            _shutdown_loky_workers()
    return [row for row in results if row is not None]
