"""All parameters as one flat vector, and back (second-order methods, evolution strategies, averaging)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from numnet.ops.shape import Concatenate, Reshape
from numnet.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one 1-D tensor (differentiable, as in PyTorch)."""
    flat = [Reshape.apply(p, shape=(-1,)) for p in parameters]
    if not flat:
        raise ValueError("parameters_to_vector: no parameters given")
    return Concatenate.apply(*flat, axis=0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place (their identity is kept, so
    an optimizer holding them still works). ``vec`` must have exactly as many elements as the parameters."""
    values = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if values.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {values.shape}")
    params = list(parameters)
    total = sum(p.data.size for p in params)
    if total != values.size:
        raise ValueError(
            f"vector_to_parameters: vec has {values.size} elements but the parameters have {total}"
        )
    start = 0
    for p in params:
        n = p.data.size
        p.data[...] = values[start : start + n].reshape(p.data.shape)
        start += n
