"""Fixtures of the demo tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The demos multiply small matrices, for which one BLAS thread is fastest. Several threads can be far
    slower when the other core is busy (another test worker): OpenBLAS's threads wait on each other."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional extra: without it the tests run, only slower
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
