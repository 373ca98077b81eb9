"""Read and write IDX files, the format of MNIST and Fashion-MNIST (optionally gzip-compressed).

An IDX file is a header and the raw data, big-endian:

* bytes 0-1: zero; byte 2: the element type code; byte 3: the number of dimensions ``d``;
* ``d`` unsigned 32-bit sizes;
* ``prod(sizes)`` elements of the type, in C order.

Type codes: ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64.
Gzip is recognised by its content (the bytes ``1f 8b``), not by the file name, when reading.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from numnet.files import atomic_write

__all__ = ["IDX_DTYPES", "IDXError", "read_idx", "write_idx"]

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
"""IDX type code -> NumPy dtype (native byte order; the file stores big-endian)."""

_CODES = {dtype: code for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """An IDX file is malformed: bad magic number, unknown type, truncated, or the wrong size."""


PathLike = str | os.PathLike


_CHUNK = 16 << 20  # bytes read at a time when the size of the data is not known in advance


def _read_data(stream: IO[bytes], nbytes: int, available: int | None) -> bytearray:
    """Up to ``nbytes`` of ``stream``. Memory grows only with the bytes actually there: the whole buffer
    is allocated at once only when ``available`` (the bytes left in a plain file) says they all are."""
    if available is not None and available >= nbytes:
        data = bytearray(nbytes)
        view, total = memoryview(data), 0
        while total < nbytes:
            got = stream.readinto(view[total:])  # type: ignore[attr-defined]
            if not got:
                break
            total += got
        del view
        del data[total:]
        return data
    data = bytearray()
    while len(data) < nbytes:
        chunk = stream.read(min(nbytes - len(data), _CHUNK))
        if not chunk:
            break
        data += chunk
    return data


def _parse(stream: IO[bytes], name: str, total_size: int | None = None) -> np.ndarray:
    """Parse an IDX stream; ``total_size``: the stream's size when known (a plain file), else None."""
    header = stream.read(4)
    if len(header) < 4:
        raise IDXError(f"{name}: truncated IDX header: {len(header)} of 4 magic bytes")
    if header[0] != 0 or header[1] != 0:
        raise IDXError(
            f"{name}: bad IDX magic number 0x{header.hex()}: the first two bytes must be zero "
            "(is this an IDX file?)"
        )
    code, ndim = header[2], header[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {d}" for c, d in IDX_DTYPES.items())
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    raw_dims = stream.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise IDXError(
            f"{name}: truncated IDX header: {len(raw_dims)} of {4 * ndim} bytes of dimension sizes"
        )
    shape = struct.unpack(f">{ndim}I", raw_dims)
    dtype = IDX_DTYPES[code]
    count = 1
    for size in shape:
        count *= size
    nbytes = count * dtype.itemsize
    available = None if total_size is None else total_size - 4 - 4 * ndim
    if available is not None and available < nbytes:  # refused before anything is allocated
        raise IDXError(
            f"{name}: truncated IDX data: shape {shape} of {dtype} needs {nbytes} bytes, "
            f"the file holds only {available}"
        )
    data = _read_data(stream, nbytes, available)
    got = len(data)
    if got < nbytes:
        raise IDXError(
            f"{name}: truncated IDX data: shape {shape} of {dtype} needs {nbytes} bytes, found only {got}"
        )
    extra = stream.read(1)
    if extra:
        rest = 1 + sum(len(chunk) for chunk in iter(lambda: stream.read(_CHUNK), b""))  # counted, not kept
        raise IDXError(
            f"{name}: wrong IDX size: {rest} bytes after the {nbytes} bytes "
            f"that shape {shape} of {dtype} needs"
        )
    array = np.frombuffer(data, dtype=dtype.newbyteorder(">")).reshape(shape)
    if dtype.itemsize > 1:
        return array.astype(dtype)  # to native byte order
    return array  # a view of the writable bytearray: no copy


def read_idx(source: PathLike | IO[bytes]) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array of its shape and type (native byte order).

    ``source`` is a path or a binary file object. Raises ``IDXError`` (a ``ValueError``) for a bad magic
    number, an unknown type code, a truncated header or data, trailing bytes, or a corrupt gzip stream.
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(source, "rb") as handle:
            return _read_stream(handle, name)
    return _read_stream(source, getattr(source, "name", "<stream>"))


def _read_stream(handle: IO[bytes], name: str) -> np.ndarray:
    buffered = handle if hasattr(handle, "peek") else io.BufferedReader(handle)  # type: ignore[arg-type]
    head = buffered.peek(2)[:2]  # type: ignore[attr-defined]
    if head == _GZIP_MAGIC:
        try:
            with gzip.GzipFile(fileobj=buffered, mode="rb") as stream:
                return _parse(stream, name)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise IDXError(f"{name}: corrupt or truncated gzip stream: {exc}") from exc
    return _parse(buffered, name, _size(buffered))


def _size(stream: IO[bytes]) -> int | None:
    """The total size of a seekable stream positioned at its start, else None."""
    try:
        if not stream.seekable() or stream.tell() != 0:
            return None
        size = stream.seek(0, os.SEEK_END)
        stream.seek(0)
    except (OSError, AttributeError, ValueError):
        return None
    return size


def _header(array: np.ndarray) -> bytes:
    dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder in "<>" else array.dtype
    code = _CODES.get(np.dtype(dtype))
    if code is None:
        known = ", ".join(str(d) for d in IDX_DTYPES.values())
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code; use one of {known}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {array.ndim}")
    if any(size > 0xFFFFFFFF for size in array.shape):
        raise ValueError(f"write_idx: dimension sizes must fit 32 bits, got shape {array.shape}")
    return bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)


def write_idx(target: PathLike | IO[bytes], array: Any, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file.

    ``array``'s dtype must be one of ``IDX_DTYPES`` (uint8, int8, int16, int32, float32, float64), 1 to 255
    dimensions. ``compress``: gzip the file; by default, when ``target`` is a path ending in ``.gz``. A path
    is written atomically (a temporary file in the same folder, then renamed).
    """
    data = np.asarray(array)
    header = _header(data)
    payload = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder(">")).tobytes()
    is_path = isinstance(target, (str, os.PathLike))
    if compress is None:
        compress = is_path and os.fspath(target).endswith(".gz")

    def emit(handle: IO[bytes]) -> None:
        if compress:
            with gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) as stream:
                stream.write(header)
                stream.write(payload)
        else:
            handle.write(header)
            handle.write(payload)

    if is_path:
        Path(target).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        with atomic_write(target) as handle:  # type: ignore[arg-type]
            emit(handle)
    else:
        emit(target)  # type: ignore[arg-type]
