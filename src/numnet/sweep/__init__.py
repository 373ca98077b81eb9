"""Sweeps: a grid of settings run in parallel (joblib: local processes or a Dask cluster), tabulated."""

from numnet.sweep.grid import FIT_TABLE, PRESETS, parse_grid
from numnet.sweep.report import write_tables
from numnet.sweep.runner import run_grid, run_job

__all__ = ["FIT_TABLE", "PRESETS", "parse_grid", "run_grid", "run_job", "write_tables"]
