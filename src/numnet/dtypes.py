"""PyTorch's dtype names (``numnet.float32``, ``numnet.long``, …) as NumPy dtypes.

Being NumPy dtypes, they work wherever NumPy's do (``dtype=`` of every factory, ``Tensor.to``, ``astype``) and
compare equal to them (``t.dtype == numnet.float32`` and ``t.dtype == np.float32`` both hold). ``float`` and
``int`` follow PyTorch (float32 and int32), not Python (whose float and int NumPy reads as 64-bit).
"""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)

__all__ = [
    "bool",
    "cdouble",
    "cfloat",
    "complex64",
    "complex128",
    "double",
    "float",
    "float16",
    "float32",
    "float64",
    "half",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "long",
    "short",
    "uint8",
]
