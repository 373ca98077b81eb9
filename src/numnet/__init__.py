"""numnet: neural networks from scratch in NumPy, with backpropagation you can read, check and trust."""

# The packages users reach as numnet.nn, numnet.optim, numnet.data (none imports an optional dependency).
from numnet import data, metrics, nn, optim
from numnet._version import __version__ as __version__
from numnet.backend import (
    default_dtype,
    get_default_dtype,
    get_rng,
    manual_seed,
    set_default_dtype,
    set_num_threads,
)
from numnet.gradcheck import GradcheckError, gradcheck, numerical_gradient
from numnet.io import load, save
from numnet.ops.api import (
    abs,
    cat,
    clamp,
    clip,
    concatenate,
    exp,
    leaky_relu,
    log,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    sqrt,
    stack,
    step,
    tanh,
    where,
)
from numnet.tensor import (
    Function,
    Tensor,
    arange,
    enable_grad,
    from_numpy,
    is_grad_enabled,
    no_grad,
    ones,
    rand,
    randn,
    tensor,
    zeros,
)

__all__ = [
    "Function", "GradcheckError", "Tensor", "abs", "arange", "cat", "clamp", "clip", "concatenate",
    "data", "default_dtype", "enable_grad", "exp", "from_numpy", "get_default_dtype", "get_rng",
    "gradcheck", "is_grad_enabled", "leaky_relu", "load", "log", "log_softmax", "manual_seed", "metrics",
    "nn", "no_grad", "numerical_gradient", "ones", "optim", "rand", "randn", "relu", "save",
    "set_default_dtype", "set_num_threads", "sigmoid", "softmax", "sqrt", "stack", "step", "tanh",
    "tensor", "where", "zeros",
]
