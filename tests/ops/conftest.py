"""Fixtures for the ops tests, and the report of the worst relative error against PyTorch per family."""

from __future__ import annotations

import numpy as np
import pytest

import numnet

from ._oracle import TORCH_RTOL, WORST


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests may change the default dtype or reseed: put both back afterwards."""
    dtype = numnet.get_default_dtype()
    state = numnet.backend.get_rng_state()
    yield
    numnet.set_default_dtype(dtype)
    numnet.backend.set_rng_state(state)


def pytest_terminal_summary(terminalreporter) -> None:
    if not WORST:
        return
    terminalreporter.write_sep(
        "-", f"numnet vs PyTorch (float64): worst relative error per op family (bound {TORCH_RTOL:g})"
    )
    for family in sorted(WORST):
        err, op = WORST[family]
        terminalreporter.write_line(f"  {family:<15} {err:.3e}   ({op})")
