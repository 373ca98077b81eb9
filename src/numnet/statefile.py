"""The numnet state file: named arrays and JSON in one zip, read without pickle and with bounded memory.

A numnet file is one zip archive in NumPy's ``.npz`` layout (``np.load`` opens it), holding:

* ``numnet.json`` (always the first member): UTF-8 JSON ::

      {"format": "numnet", "format_version": 1, "numnet_version": "0.1.0",
       "kind": "model",                       # "arrays", "state", "model", or a caller's own kind
       "arrays": [{"name": "...", "member": "arrays/0.npy", "dtype": "<f4", "shape": [3, 4]}, ...],
       "meta": ...}                           # JSON: the caller's metadata, or an encoded state tree

* ``arrays/0.npy``, ``arrays/1.npy``, ...: one ``.npy`` per array, named by position; the manifest above
  maps each to its name, so names may be any string.

Checkpoints and model files (``numnet.io``) are both this format. Reading never executes code and never
allocates more than the file accounts for: the manifest is at most ``MAX_MANIFEST_BYTES``; each member is
listed once in the zip and referenced once by the manifest; its ``.npy`` header must agree with the manifest
and its size with the zip entry's uncompressed size, and that size with the bytes the entry occupies
(deflate cannot expand more than ~1032:1), all before the array is read; object arrays are refused. Anything
wrong (not a zip, not numnet's, truncated, corrupted, too new, too large for memory) raises
``ModelFileError`` (a ``ValueError``) naming the file and the problem in one line. A missing file raises
``FileNotFoundError``; a path that is not a regular file (a FIFO, a device) is refused before it is opened.

Files are written atomically: to a temporary file in the same directory, flushed and fsynced, then moved
over the target with ``os.replace``. A failure part-way leaves any previous file untouched and removes the
temporary file. The bytes written depend only on the content (no timestamps), so equal states give equal
files. ``path`` may also be a binary file object (written or read in place).

* ``save_arrays(path, arrays, meta)`` / ``load_arrays(path)``: a dict of named arrays plus plain JSON.
* ``flatten_state(state)`` / ``unflatten_state(tree, arrays)``: any nested dict/list/tuple of numbers,
  strings, bools, None, NumPy scalars and arrays (and numnet Tensors), to and from a JSON tree plus a dict
  of arrays, exactly (int dict keys, tuples and dtypes survive); ``save_state(path, state)`` /
  ``load_state(path)`` store one. Checkpoints (model + optimizer + epoch + RNG state) use these.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import IO, Any

import numpy as np
from numpy.lib import format as npformat

from numnet._version import __version__
from numnet.files import atomic_write
from numnet.tensor import Tensor

__all__ = [
    "FORMAT_VERSION",
    "MAX_MANIFEST_BYTES",
    "ModelFileError",
    "flatten_state",
    "load_arrays",
    "load_state",
    "save_arrays",
    "save_state",
    "unflatten_state",
]

FORMAT_TAG = "numnet"
FORMAT_VERSION = 1  # bump when a reader of the old version could not read the new files correctly
HEADER_MEMBER = "numnet.json"
_TAG = "__numnet__"  # marks the special nodes of an encoded state tree
_ZIP_MAGIC = b"PK\x03\x04"
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # zip entries get a fixed timestamp: same content, same bytes

MAX_MANIFEST_BYTES = 64 << 20
"""The most bytes ``numnet.json`` may have (a big model's manifest is a few hundred kB)."""
_MAX_MEMBERS = 1 << 20
_DEFLATE_MAX_RATIO = 1032  # deflate's largest possible expansion; a bigger declared size is a lie
_ZIP_SLACK = 1 << 16

PathLike = str | os.PathLike
Target = PathLike | IO[bytes]


class ModelFileError(ValueError):
    """A file that cannot be loaded: not a numnet file, damaged, too new, or not matching the model."""


# ---------------------------------------------------------------------------------------------------------
# Nested state <-> JSON tree + arrays
# ---------------------------------------------------------------------------------------------------------


def flatten_state(
    state: Any, prefix: str = "", *, keep_tensors: bool = False
) -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested state into a JSON-able tree and a dict of arrays that the tree refers to.

    ``state`` may nest dicts (any keys of the types below, not only strings), lists and tuples of: None,
    bool, int, float, str, NumPy scalars, NumPy arrays (numeric, bool, string or structured; never object
    dtype) and numnet Tensors (stored as their arrays). ``unflatten_state(tree, arrays)`` rebuilds it
    exactly: same types (tuples stay tuples, ``np.float32(1.5)`` stays a float32 scalar, int keys stay
    ints), same dtypes and values (NaN and -0.0 included). Mappings come back as plain dicts, Tensors as
    ndarrays, unless ``keep_tensors``: then they are marked as tensors (with ``requires_grad``), and
    ``unflatten_state(..., tensors=True)`` gives them back as Tensors. The arrays are named
    ``f"{prefix}{i}"``, i = 0, 1, ...

    Returns ``(tree, arrays)``; the tree holds only JSON types with string keys.
    """
    arrays: dict[str, np.ndarray] = {}
    active: set[int] = set()  # ids of the containers being encoded, to catch a state that contains itself

    def store(array: np.ndarray, where: str) -> str:
        if array.dtype.hasobject:
            raise TypeError(
                f"flatten_state: {where} is an object array; only numeric, bool and string arrays can be "
                "stored (object arrays would need pickle)"
            )
        name = f"{prefix}{len(arrays)}"
        arrays[name] = array
        return name

    def encode(value: Any, where: str) -> Any:
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, Tensor):
            if keep_tensors:
                ref = store(value.data, where)
                return {_TAG: "tensor", "ref": ref, "requires_grad": bool(value.requires_grad)}
            value = value.data
        if isinstance(value, np.ndarray):
            return {_TAG: "array", "ref": store(value, where)}
        if isinstance(value, np.generic):  # before the builtins: np.float64 and np.str_ subclass them
            return {_TAG: "scalar", "ref": store(np.asarray(value), where)}
        for builtin in (bool, int, float, str):  # subclasses (IntEnum, ...) come back as the builtin
            if isinstance(value, builtin):
                return builtin(value)
        if not isinstance(value, (list, tuple, Mapping)):
            raise TypeError(
                f"flatten_state: {where} is a {type(value).__name__}; a state may hold dicts, lists, tuples, "
                "None, bool, int, float, str, NumPy scalars and arrays"
            )
        if id(value) in active:
            raise ValueError(f"flatten_state: {where} contains itself")
        active.add(id(value))
        try:
            return encode_container(value, where)
        finally:
            active.discard(id(value))

    def encode_container(value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple):
            return {_TAG: "tuple", "items": [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
        if all(type(key) is str for key in value) and _TAG not in value:
            return {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        return {
            _TAG: "dict",
            "items": [
                [encode(key, f"{where} key {key!r}"), encode(item, f"{where}[{key!r}]")]
                for key, item in value.items()
            ],
        }

    return encode(state, "state"), arrays


def unflatten_state(tree: Any, arrays: Mapping[str, np.ndarray], *, tensors: bool = False) -> Any:
    """Rebuild the nested state that ``flatten_state`` split into ``(tree, arrays)``.

    The arrays are returned as they are in ``arrays`` (not copied). Tensors saved with ``keep_tensors``
    come back as Tensors when ``tensors`` is true, else as their arrays. A malformed tree raises ValueError.
    """

    def array(node: dict, where: str) -> np.ndarray:
        ref = node.get("ref")
        if not isinstance(ref, str) or ref not in arrays:
            raise ValueError(f"unflatten_state: {where} refers to array {ref!r}, which is not in the arrays")
        return arrays[ref]

    def decode(node: Any, where: str) -> Any:
        if isinstance(node, list):
            return [decode(item, f"{where}[{i}]") for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        tag = node.get(_TAG)
        if tag is None:
            return {key: decode(item, f"{where}[{key!r}]") for key, item in node.items()}
        if tag == "array":
            return array(node, where)
        if tag == "tensor":
            data = array(node, where)
            return Tensor(data, requires_grad=node.get("requires_grad") is True) if tensors else data
        if tag == "scalar":
            value = array(node, where)
            if value.ndim != 0:
                raise ValueError(f"unflatten_state: {where} is a scalar but has shape {value.shape}")
            return value[()]
        items = node.get("items")
        if not isinstance(items, list):
            raise ValueError(f"unflatten_state: {where}: a {tag!r} node needs a list of items")
        if tag == "tuple":
            return tuple(decode(item, f"{where}[{i}]") for i, item in enumerate(items))
        if tag == "dict":
            out = {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ValueError(f"unflatten_state: {where}: dict items must be [key, value] pairs")
                key = decode(pair[0], f"{where} key")
                try:
                    out[key] = decode(pair[1], f"{where}[{key!r}]")
                except TypeError as exc:  # an unhashable key
                    raise ValueError(f"unflatten_state: {where}: invalid key {key!r}") from exc
            return out
        raise ValueError(f"unflatten_state: {where} has an unknown node type {tag!r}")

    return decode(tree, "state")


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def _check_plain_json(value: Any, where: str) -> None:
    """Refuse anything that JSON would not give back exactly (tuples, non-string keys, NumPy values)."""
    if value is None or type(value) in (bool, int, float, str):
        return
    if type(value) is list:
        for i, item in enumerate(value):
            _check_plain_json(item, f"{where}[{i}]")
        return
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"save_arrays: {where} has the key {key!r} ({type(key).__name__}); JSON keys "
                    "must be str. Store nested state with save_state() (or flatten_state())"
                )
            if key == _TAG:
                raise TypeError(f"save_arrays: {where} uses the reserved key {_TAG!r}")
            _check_plain_json(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"save_arrays: {where} is a {type(value).__name__}; meta must be plain JSON (dict with str keys, "
        "list, str, int, float, bool, None). Put arrays in `arrays`, or store nested state with save_state()"
    )


def _numnet_version() -> str:
    return __version__


def _zip_info(name: str, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_file(
    path: Target, arrays: Mapping[str, Any], meta: Any, kind: str, compress: bool, func: str
) -> None:
    """Validate, then write the zip atomically. ``meta`` must already be plain JSON."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{func}: kind must be a non-empty string, got {kind!r}")
    prepared: list[tuple[str, np.ndarray]] = []
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise TypeError(f"{func}: array names must be str, got {name!r} ({type(name).__name__})")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject:
            raise TypeError(
                f"{func}: array {name!r} has dtype {array.dtype}; object arrays cannot be stored "
                "without pickle"
            )
        prepared.append((name, array))
    header = {
        "format": FORMAT_TAG,
        "format_version": FORMAT_VERSION,
        "numnet_version": _numnet_version(),
        "kind": kind,
        "arrays": [
            {"name": name, "member": f"arrays/{i}.npy", "dtype": _descr(a.dtype), "shape": list(a.shape)}
            for i, (name, a) in enumerate(prepared)
        ],
        "meta": meta,
    }
    header_bytes = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    opened = atomic_write(path) if isinstance(path, (str, os.PathLike)) else contextlib.nullcontext(path)
    with opened as file, zipfile.ZipFile(file, "w", allowZip64=True) as archive:
        archive.writestr(_zip_info(HEADER_MEMBER, compress), header_bytes)
        for entry, (_, array) in zip(header["arrays"], prepared, strict=True):
            with archive.open(_zip_info(entry["member"], compress), "w", force_zip64=True) as member:
                npformat.write_array(member, array, allow_pickle=False)


def _descr(dtype: np.dtype) -> Any:
    """The dtype as the JSON value the manifest holds (``"<f4"``; a list of fields for structured dtypes)."""
    return json.loads(json.dumps(npformat.dtype_to_descr(dtype)))


def save_arrays(
    path: Target,
    arrays: Mapping[str, Any],
    meta: Any = None,
    *,
    kind: str = "arrays",
    compress: bool = False,
) -> None:
    """Write named arrays and JSON metadata to one numnet file at ``path``, atomically.

    ``arrays``: name (any string) → ndarray (or Tensor). Dtypes, shapes and values are kept exactly;
    object arrays are refused. ``meta``: plain JSON (dicts with str keys, lists, str, int, float, bool,
    None); for tuples, int keys or arrays inside, use ``save_state``. ``kind`` is a label that readers can
    require (``load_arrays(path, kind=...)``). ``compress=True`` deflates the members (smaller, slower).
    """
    _check_plain_json(meta, "meta")
    _write_file(path, arrays, meta, kind, compress, "save_arrays")


def save_state(
    path: Target, state: Any, *, kind: str = "state", compress: bool = False, keep_tensors: bool = False
) -> None:
    """Write a nested state (see ``flatten_state``) to one file, atomically; ``load_state`` reads it."""
    tree, arrays = flatten_state(state, keep_tensors=keep_tensors)
    _write_file(path, arrays, tree, kind, compress, "save_state")


# ---------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------


# What a damaged file can make zipfile, zlib, json or NumPy raise; every one becomes a ModelFileError.
_DAMAGE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    EOFError,
    OSError,
    OverflowError,
    struct.error,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    MemoryError,
)


def _describe_non_zip(path: str, head: bytes) -> str:
    if not head:
        return f"{path}: not a numnet file: the file is empty"
    if head.startswith(b"\x93NUM"):
        return f"{path}: not a numnet file: it is a single .npy array, not a numnet zip archive"
    if head.startswith(b"PK"):
        return f"{path}: not a numnet file: an empty or damaged zip archive"
    return f"{path}: not a numnet file: it is not a zip archive (it starts with {head[:8]!r})"


def _damaged(path: str, why: str) -> ModelFileError:
    return ModelFileError(f"{path}: damaged numnet file: {why}")


def _read_header(raw: bytes, path: str, kind: str | None) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _damaged(path, f"{HEADER_MEMBER} is not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_TAG:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(
            f"{path}: not a numnet file: {HEADER_MEMBER} has format {found!r}, not {FORMAT_TAG!r}"
        )
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        raise _damaged(path, f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by numnet {header.get('numnet_version', '?')!s:.40} in file format version "
            f"{version}; this numnet ({_numnet_version()}) reads format version {FORMAT_VERSION} and older. "
            "Upgrade numnet to load it."
        )
    if kind is not None and header.get("kind") != kind:
        raise ModelFileError(
            f"{path}: holds a numnet {header.get('kind')!r:.60} file, not a {kind!r} file"
            + (" (read it with numnet.io.load_state or load_arrays)" if kind == "model" else "")
        )
    manifest = header.get("arrays")
    if not isinstance(manifest, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("name"), str)
        and isinstance(e.get("member"), str)
        and isinstance(e.get("shape"), list)
        and len(e["shape"]) <= 64
        and all(type(n) is int and 0 <= n < 2**63 for n in e["shape"])
        for e in manifest
    ):
        raise _damaged(path, f"the array list in {HEADER_MEMBER} is malformed")
    if "meta" not in header:
        raise _damaged(path, f"{HEADER_MEMBER} has no 'meta'")
    return header


def _checked_members(archive: zipfile.ZipFile, path: str, archive_size: int) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name; refuses duplicates and sizes the archive's bytes cannot hold."""
    infos = archive.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise _damaged(path, f"{len(infos)} zip entries (at most {_MAX_MEMBERS})")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in members:
            raise _damaged(path, f"the zip lists the member {info.filename!r:.80} twice")
        if info.compress_type == zipfile.ZIP_STORED:
            fits = info.file_size == info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            fits = info.file_size <= info.compress_size * _DEFLATE_MAX_RATIO + _ZIP_SLACK
        else:
            raise _damaged(path, f"{info.filename!r:.80} uses zip compression {info.compress_type}")
        if not fits or info.compress_size > archive_size:
            raise _damaged(
                path,
                f"the zip entry {info.filename!r:.80} claims {info.file_size} bytes from "
                f"{info.compress_size} stored ({info.compress_type=}); its size is a lie",
            )
        members[info.filename] = info
    return members


def _npy_header(fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npformat.read_magic(fp)
    if version == (1, 0):
        return npformat.read_array_header_1_0(fp, max_header_size=_NPY_HEADER_MAX)
    if version == (2, 0):
        return npformat.read_array_header_2_0(fp, max_header_size=_NPY_HEADER_MAX)
    raise ValueError(f".npy format version {version} (numnet writes 1.0 and 2.0)")


_NPY_HEADER_MAX = 1 << 16


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, entry: dict, path: str) -> np.ndarray:
    """One array, after its header has been checked against the manifest and the zip entry's size."""
    name, member, shape, dtype = entry["name"], entry["member"], tuple(entry["shape"]), entry["dtype"]
    with archive.open(info) as fp:
        found_shape, fortran, found_dtype = _npy_header(fp)
        header_size = fp.tell()
        if found_dtype.hasobject:
            raise ModelFileError(
                f"{path}: array {name!r:.80} ({member}) is a pickled object array; numnet never writes "
                "those and refuses to unpickle them"
            )
        if found_shape != shape or _descr(found_dtype) != dtype:
            raise _damaged(
                path, f"{member} holds {found_dtype} {found_shape}, but the manifest says {dtype} {shape}"
            )
        count = 1
        for size in shape:
            count *= size
        nbytes = count * found_dtype.itemsize
        if header_size + nbytes != info.file_size:
            raise _damaged(
                path,
                f"{member} declares {found_dtype} {shape} ({nbytes} bytes of data) but the zip entry holds "
                f"{info.file_size - header_size}",
            )
        array = np.empty(count, dtype=found_dtype)  # bounded: the entry's size, checked against the archive
        if nbytes:
            view = memoryview(array.view(np.uint8))
            got = 0
            while got < nbytes:
                n = fp.readinto(view[got:])
                if not n:
                    break
                got += n
            del view
            if got != nbytes:
                raise _damaged(path, f"{member} is truncated ({got} of {nbytes} bytes)")
    if fortran:
        return array.reshape(shape[::-1]).transpose()
    return array.reshape(shape)


def _read_archive(file: IO[bytes], path: str, kind: str | None, archive_size: int) -> tuple[dict, dict]:
    with zipfile.ZipFile(file) as archive:
        members = _checked_members(archive, path, archive_size)
        info = members.get(HEADER_MEMBER)
        if info is None:
            raise ModelFileError(
                f"{path}: not a numnet file: a zip/.npz archive without {HEADER_MEMBER} "
                "(written by np.savez or another program, not by numnet)"
            )
        if info.file_size > MAX_MANIFEST_BYTES:
            raise _damaged(path, f"{HEADER_MEMBER} is {info.file_size} bytes (at most {MAX_MANIFEST_BYTES})")
        with archive.open(info) as fp:
            raw = fp.read(MAX_MANIFEST_BYTES + 1)
        header = _read_header(raw, path, kind)
        entries = header["arrays"]
        seen_names: set[str] = set()
        seen_members: set[str] = set()
        for entry in entries:  # every check that needs no data, before any array is read
            name, member = entry["name"], entry["member"]
            if name in seen_names:
                raise _damaged(path, f"array {name!r:.80} is listed twice")
            if member in seen_members:
                raise _damaged(path, f"the member {member!r:.80} is referenced twice by the manifest")
            if member not in members or not member.endswith(".npy") or member == HEADER_MEMBER:
                raise _damaged(path, f"array {name!r:.80} is missing (no {member!r:.80})")
            seen_names.add(name)
            seen_members.add(member)
        arrays = {
            entry["name"]: _read_member(archive, members[entry["member"]], entry, path) for entry in entries
        }
    return header, arrays


@contextlib.contextmanager
def _open_for_reading(path: Target) -> Iterator[tuple[IO[bytes], str]]:
    """A path (a regular file only: a FIFO or device is refused before it is opened) or a file object."""
    if not isinstance(path, (str, os.PathLike)):
        yield path, str(getattr(path, "name", "<file object>"))
        return
    shown = os.fspath(path)
    mode = os.stat(shown).st_mode  # FileNotFoundError / PermissionError propagate, naming the path
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", shown)
    if not stat.S_ISREG(mode):
        raise ModelFileError(f"{shown}: not a regular file (a FIFO or device); numnet loads only files")
    fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never blocks, even if swapped
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise ModelFileError(f"{shown}: not a regular file; numnet loads only files")
        yield file, shown


def _read_file(path: Target, kind: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a numnet file; returns ``(header, arrays)``."""
    with _open_for_reading(path) as (file, shown):
        head = file.read(len(_ZIP_MAGIC))
        if head != _ZIP_MAGIC:
            raise ModelFileError(_describe_non_zip(shown, head + file.read(4)))
        try:
            size = file.seek(0, os.SEEK_END)
            file.seek(0)
            return _read_archive(file, shown, kind, size)
        except ModelFileError:
            raise
        except MemoryError:
            raise ModelFileError(
                f"{shown}: the arrays in this file do not fit in memory; free memory or load it elsewhere"
            ) from None
        except _DAMAGE_ERRORS as exc:
            raise ModelFileError(
                f"{shown}: damaged or truncated numnet file ({type(exc).__name__}: {exc!s:.200})"
            ) from None


def load_arrays(path: Target, *, kind: str | None = None) -> tuple[dict[str, np.ndarray], Any]:
    """Read a file written by ``save_arrays``: returns ``(arrays, meta)``.

    ``kind``: if given, the file must have been saved with that kind. Raises ``FileNotFoundError`` for a
    missing file and ``ModelFileError`` (a ValueError) for anything else wrong with it.
    """
    header, arrays = _read_file(path, kind)
    return arrays, header["meta"]


def load_state(path: Target, *, kind: str | None = None, tensors: bool = False) -> Any:
    """Read a nested state written by ``save_state`` (see ``load_arrays`` for ``kind`` and the errors).

    ``tensors``: give tensors saved with ``keep_tensors`` back as Tensors (else as arrays).
    """
    header, arrays = _read_file(path, kind)
    try:
        return unflatten_state(header["meta"], arrays, tensors=tensors)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{_shown(path)}: damaged numnet file: {exc!s:.200}") from None


def _shown(path: Target) -> str:
    return os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(getattr(path, "name", "<file>"))
