"""One module per implementation; each is a child-process entry point.

``python -m benchmarks.workloads.<impl> --json --workload W [--variant V] --data FILE.npz --threads N``
prints one JSON line with the timing samples, the quality figure and the RSS figures (see ``common``).

* ``numnet_impl``: numnet through its public API (``nn.Sequential``, a loss, ``optim.SGD``,
  ``data.DataLoader`` over a ``TensorDataset``).
* ``torch_impl``: PyTorch eager, with a plain index-slicing loop (``slice``) or
  ``torch.utils.data.DataLoader`` (``loader``).
* ``sklearn_impl``: scikit-learn's ``MLPClassifier`` (MNIST workloads only).
* ``lean_numpy_impl``: a hand-written NumPy forward/backward/update loop (tiny networks only).
* ``gemm_floor``: only the matrix products a step needs, in the same shapes and dtype.
* ``cnn_numnet``, ``cnn_torch``, ``cnn_floor``: the SimpleConvNet workload (``cnn``; data, weights and
  order from ``cnn_common``): numnet, PyTorch eager, and the im2col training GEMMs alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: The workloads, in the report's order.
WORKLOADS = ("mnist", "inference", "xor", "fit", "deep", "cnn")

#: Environment variables that size the thread pools of OpenMP, MKL, OpenBLAS and friends; the parent sets
#: them all in each child's environment (they must be set before the libraries load).
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def thread_env(threads: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with every thread-pool variable set to ``threads``.

    Kept here, free of NumPy, so that the parent process (``benchmarks.run``) never loads NumPy: a child's
    ``ru_maxrss`` starts from its parent's high-water mark.
    """
    env = dict(os.environ if base is None else base)
    for name in THREAD_ENV_VARS:
        env[name] = str(threads)
    return env
