"""The dtype policy and the seeded generator (numnet.backend)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import numnet
from numnet import backend


@pytest.fixture(autouse=True)
def _restore_global_state():
    dtype = numnet.get_default_dtype()
    state = backend.get_rng_state()
    yield
    numnet.set_default_dtype(dtype)
    backend.set_rng_state(state)


def test_default_dtype_is_float32():
    assert numnet.get_default_dtype() == np.float32
    assert numnet.tensor([1.0, 2.0]).dtype == np.float32


@pytest.mark.parametrize("spelling", [np.float64, "float64", np.dtype("float64"), float])
def test_set_default_dtype_accepts_float64_spellings(spelling):
    numnet.set_default_dtype(spelling)
    assert numnet.get_default_dtype() == np.float64
    numnet.set_default_dtype(np.float32)
    assert numnet.get_default_dtype() == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.int64, "int32", bool])
def test_set_default_dtype_rejects_other_dtypes(dtype):
    with pytest.raises(ValueError, match=r"is not supported; use np.float32 or np.float64"):
        numnet.set_default_dtype(dtype)
    assert numnet.get_default_dtype() == np.float32


def test_set_default_dtype_rejects_non_dtypes():
    with pytest.raises(ValueError, match=r"is not a dtype"):
        numnet.set_default_dtype(object())
    with pytest.raises((ValueError, TypeError)):
        numnet.set_default_dtype("not-a-dtype")


def test_default_dtype_context_nests_and_restores_on_error():
    with numnet.default_dtype(np.float64):
        assert numnet.get_default_dtype() == np.float64
        with numnet.default_dtype(np.float32):
            assert numnet.get_default_dtype() == np.float32
        assert numnet.get_default_dtype() == np.float64
    assert numnet.get_default_dtype() == np.float32
    with pytest.raises(RuntimeError), numnet.default_dtype(np.float64):
        raise RuntimeError
    assert numnet.get_default_dtype() == np.float32


def test_manual_seed_makes_draws_reproducible():
    rng = numnet.manual_seed(123)
    assert rng is numnet.get_rng()
    a = numnet.get_rng().standard_normal(5)
    numnet.manual_seed(123)
    np.testing.assert_array_equal(numnet.get_rng().standard_normal(5), a)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", None, True])
def test_manual_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        numnet.manual_seed(seed)


def test_rng_state_round_trips_through_json():
    numnet.manual_seed(5)
    state = json.loads(json.dumps(backend.get_rng_state()))
    a = numnet.randn(4).data
    backend.set_rng_state(state)
    np.testing.assert_array_equal(numnet.randn(4).data, a)


def test_set_num_threads_validates():
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match=r"n must be a positive integer"):
            numnet.set_num_threads(bad)


def test_set_num_threads_limits_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    numnet.set_num_threads(1)
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert all(p["num_threads"] == 1 for p in blas)
    backend._thread_limiter.restore_original_limits()


_FAULTS_SCRIPT = """
import resource, numpy as np, numnet
x = np.ones((100, 30, 24, 24), dtype=np.float32)  # a SimpleConvNet activation: 6.9 MB
def step():  # as a training step: several same-sized temporaries alive at once, all freed at its end
    temporaries = [x * 2.0 for _ in range(4)]
    del temporaries
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not backend.keep_freed_memory(), reason="needs glibc's mallopt (Linux)")
def test_freed_temporaries_are_reused_without_page_faults():
    """numnet keeps freed array memory (backend.keep_freed_memory): a step's same-sized temporaries reuse
    it instead of faulting fresh pages in every time; NUMNET_KEEP_FREED_MEMORY=0 leaves glibc's default."""

    def faults(setting: str) -> int:
        env = {**os.environ, "NUMNET_KEEP_FREED_MEMORY": setting}
        out = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    kept, default = faults("1"), faults("0")
    assert kept < 200, kept  # 80 temporaries of 1,688 pages each: a few stray faults at most
    assert default > 20 * 1000, default  # glibc's default: every temporary faulted in again


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_constant_gives_the_python_numbers_results_and_is_shared_read_only(dtype):
    from numnet.backend import constant

    x = np.random.default_rng(0).standard_normal(50).astype(dtype)
    one, zero = constant(1, np.dtype(dtype)), constant(0, np.dtype(dtype))
    assert one.shape == () and one.dtype == dtype and not one.flags.writeable
    assert constant(1, np.dtype(dtype)) is one  # cached: made once per value and dtype
    for ours, theirs in [(x + one, x + 1), (one - x, 1 - x), (x * zero + zero, x * 0 + 0.0)]:
        assert ours.dtype == theirs.dtype == dtype
        np.testing.assert_array_equal(ours.view(np.uint8), theirs.view(np.uint8))  # signed zeros too
    with pytest.raises(ValueError, match="read-only"):
        one += 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_zeros_like_cached_gives_read_only_zeros_of_the_shape_and_order_from_one_buffer(dtype, monkeypatch):
    from numnet import backend

    monkeypatch.setattr(backend, "_ZEROS", {})  # the sizes below, whatever earlier tests asked for
    zero_0d = backend.constant(0, np.dtype(dtype))
    assert backend.zeros_like_cached(np.ones((3, 5), dtype)) is zero_0d  # below the size: the 0-d zero
    big = np.ones((4, 300), dtype)
    zeros = backend.zeros_like_cached(big)
    assert zeros.shape == big.shape and zeros.dtype == dtype and not zeros.flags.writeable
    assert zeros.flags.c_contiguous and not zeros.any() and not np.signbit(zeros).any()
    assert zeros.base.size == 2048  # 1200 elements, rounded up to a power of two
    fortran = backend.zeros_like_cached(np.asfortranarray(big))
    assert fortran.flags.f_contiguous and not fortran.any()  # the input's order: the fast loop
    assert backend.zeros_like_cached(big[:, ::2]) is zero_0d  # strided: the 0-d zero is as fast
    larger = backend.zeros_like_cached(np.ones((2, 3, 1000), dtype))  # the buffer grows
    assert larger.shape == (2, 3, 1000) and not larger.any() and larger.base.size == 8192
    again = backend.zeros_like_cached(big)
    assert np.shares_memory(again, larger)  # one buffer per dtype, viewed in the shape asked for
    with pytest.raises(ValueError, match="read-only"):
        again[0, 0] = 1
    # contiguous and past 64 MiB (np.zeros of that size is mapped, never touched: it costs no memory)
    huge = np.zeros(64 * 2**20 // np.dtype(dtype).itemsize + 1, dtype)
    assert huge.flags.c_contiguous and backend.zeros_like_cached(huge) is zero_0d
    assert backend._ZEROS[np.dtype(dtype)].size == 8192  # the buffer did not grow for it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the resident set from /proc")
def test_zeros_like_cached_costs_address_space_not_memory(monkeypatch):
    """Reading the zeros maps the kernel's zero page, so they take no memory from what training frees and
    reuses: after a 16 MiB block is freed, reading 16 MiB of zeros and then writing a new 16 MiB array leaves
    the resident set where it was (np.zeros would take the freed block, clearing it by writing, and the new
    array would need 16 MiB more)."""
    from numnet import backend

    def resident_kib() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    monkeypatch.setattr(backend, "_ZEROS", {})  # a buffer made here, whatever earlier tests asked for
    n = 4 * 2**20  # the buffer's size (a power of two): 16 MiB of float32, below the 32 MiB from which
    # glibc maps a block of its own (numnet's setting), so a calloc'd buffer would come from the heap
    x, out = np.ones(3 * 2**20, np.float32), np.ones(3 * 2**20, np.float32)  # resident
    junk = np.ones(n, np.float32)  # resident, then freed: glibc keeps the block for reuse
    before = resident_kib()
    del junk
    zeros = backend.zeros_like_cached(x)
    np.maximum(zeros, x, out=out)  # reads every page of the zeros
    reused = np.ones(n, np.float32)  # written: takes the freed block if the zeros did not
    grown = resident_kib() - before
    assert zeros.base.size == n and out.min() == out.max() == 1 and reused[-1] == 1
    assert grown < 4 * 1024
