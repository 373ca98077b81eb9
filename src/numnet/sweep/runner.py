"""Run a grid in parallel through joblib: local processes by default, a Dask cluster with backend='dask'."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
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


def run_grid(
    kind: str,
    rows: list[dict[str, Any]],
    out: Path,
    jobs: int = 1,
    backend: str = "loky",
    scheduler: str | None = None,
) -> list[dict[str, Any]]:
    """Run every row (``run_job(kind, row)``) with ``jobs`` parallel workers; results in row order.

    Each row writes into ``out/row-XX``. ``backend`` is a joblib backend: ``loky`` (processes on this
    machine), ``threading``, ``sequential``, or ``dask`` (on the cluster at ``scheduler``, an address such
    as ``tcp://10.0.0.5:8786``; without one, a local cluster of ``jobs`` workers)."""
    import joblib

    prepared = []
    for index, row in enumerate(rows):
        settings = dict(row)
        settings["out"] = str(out / f"row-{index:02d}")
        if jobs > 1 and not settings.get("threads"):
            settings["threads"] = 1  # one BLAS thread per worker: the workers already fill the cores
        prepared.append(settings)
    tasks = (joblib.delayed(run_job)(kind, settings) for settings in prepared)
    if backend == "dask":
        with _dask_backend(scheduler, jobs):
            return list(joblib.Parallel(n_jobs=jobs)(tasks))
    if scheduler is not None:
        raise ValueError("--scheduler is for --backend dask")
    return list(joblib.Parallel(n_jobs=jobs, backend=backend)(tasks))
