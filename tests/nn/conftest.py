"""Fixtures for the nn tests: a fixed seed for every test, the default dtype restored afterwards, and the
summary of the worst relative error against PyTorch per layer and loss, printed at the end of the run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

import numnet
from numnet import backend


@pytest.fixture(autouse=True)
def _seed_and_restore_dtype() -> Iterator[None]:
    numnet.manual_seed(0)
    dtype = backend.get_default_dtype()
    yield
    backend.set_default_dtype(dtype)


_TORCH_ERRORS: dict[str, float] = {}  # comparison name → worst relative error (filled by the oracle tests)


@pytest.fixture(scope="session")
def nn_torch_errors() -> dict[str, float]:
    return _TORCH_ERRORS


def pytest_terminal_summary(terminalreporter) -> None:
    if not _TORCH_ERRORS:
        return
    worst: dict[str, tuple[float, str]] = {}
    for name, err in _TORCH_ERRORS.items():
        kind = re.split(r"[ {]", name, maxsplit=1)[0]  # "BatchNorm1d{...} step 2 output" → "BatchNorm1d"
        if kind not in worst or err > worst[kind][0]:
            worst[kind] = (err, name)
    title = "numnet.nn vs PyTorch (float64): worst relative error per layer/loss (bound 1e-07)"
    terminalreporter.write_sep("-", title)
    for kind in sorted(worst):
        err, name = worst[kind]
        terminalreporter.write_line(f"  {kind:<18} {err:.3e}   ({name})")


@pytest.fixture
def float64() -> Iterator[None]:
    """Build layers in float64 (gradient checks and comparisons with PyTorch)."""
    with backend.default_dtype(np.float64):
        yield
