"""Saving and loading models and state without pickle.

A numnet file is one zip archive in NumPy's ``.npz`` layout (``np.load`` opens it), holding:

* ``numnet.json`` (always the first member): UTF-8 JSON ::

      {"format": "numnet", "format_version": 1, "numnet_version": "0.1.0",
       "kind": "model",                       # "arrays", "state", "model", or a caller's own kind
       "arrays": [{"name": "...", "member": "arrays/0.npy", "dtype": "<f4", "shape": [3, 4]}, ...],
       "meta": ...}                           # JSON: the caller's metadata, or an encoded state tree

* ``arrays/0.npy``, ``arrays/1.npy``, ...: one ``.npy`` per array, named by position; the manifest above
  maps each to its name, so names may be any string.

Everything is read with ``np.load(..., allow_pickle=False)``; object arrays are refused before NumPy
reads them, so opening a file, whatever it holds, never executes code. Anything wrong with a file (not a
zip, a zip or ``.npz`` not written by numnet, truncated, corrupted, written by a newer format version,
weights that do not fit the architecture) raises ``ModelFileError`` (a ``ValueError``) naming the file and
the problem. A missing file raises ``FileNotFoundError``.

Files are written atomically: to a temporary file in the same directory, flushed and fsynced, then moved
over the target with ``os.replace``. A failure part-way leaves any previous file untouched and removes the
temporary file. The bytes written depend only on the content (no timestamps), so equal models give equal
files.

Layers of the API, each built on the one before:

* ``save_arrays(path, arrays, meta)`` / ``load_arrays(path)``: a dict of named arrays plus plain JSON.
* ``flatten_state(state)`` / ``unflatten_state(tree, arrays)``: any nested dict/list/tuple of numbers,
  strings, bools, None, NumPy scalars and arrays, to and from a JSON tree plus a dict of arrays, exactly
  (int dict keys, tuples and dtypes survive); ``save_state(path, state)`` / ``load_state(path)`` store one.
  This is what checkpoints (model + optimizer + epoch + RNG state) use.
* ``save(model, path, metadata=None)`` / ``load(path)``: a model's architecture (``numnet.nn.config``),
  its weights (``state_dict()``), and optional metadata: any nested state as above, so class names,
  input means and standard deviations as arrays, and so on. ``load_with_metadata(path)`` returns
  ``(model, metadata)``.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib import format as npformat

from numnet.files import atomic_write
from numnet.tensor import Tensor

if TYPE_CHECKING:
    from numnet.nn.module import Module

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "flatten_state",
    "load",
    "load_arrays",
    "load_state",
    "load_with_metadata",
    "save",
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

PathLike = str | os.PathLike


class ModelFileError(ValueError):
    """A file that cannot be loaded: not a numnet file, damaged, too new, or not matching the model."""


# ---------------------------------------------------------------------------------------------------------
# Nested state <-> JSON tree + arrays
# ---------------------------------------------------------------------------------------------------------


def flatten_state(state: Any, prefix: str = "") -> tuple[Any, dict[str, np.ndarray]]:
    """Split a nested state into a JSON-able tree and a dict of arrays that the tree refers to.

    ``state`` may nest dicts (any keys of the types below, not only strings), lists and tuples of: None,
    bool, int, float, str, NumPy scalars, NumPy arrays (numeric, bool, string or structured; never object
    dtype) and numnet Tensors (stored as their arrays). ``unflatten_state(tree, arrays)`` rebuilds it
    exactly: same types (tuples stay tuples, ``np.float32(1.5)`` stays a float32 scalar, int keys stay
    ints), same dtypes and values (NaN and -0.0 included). Mappings come back as plain dicts, Tensors as
    ndarrays. The arrays are named ``f"{prefix}{i}"``, i = 0, 1, ...

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
        return {_TAG: "dict", "items": [
            [encode(key, f"{where} key {key!r}"), encode(item, f"{where}[{key!r}]")]
            for key, item in value.items()
        ]}

    return encode(state, "state"), arrays


def unflatten_state(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Rebuild the nested state that ``flatten_state`` split into ``(tree, arrays)``.

    The arrays are returned as they are in ``arrays`` (not copied). A malformed tree raises ValueError.
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
                raise TypeError(f"save_arrays: {where} has the key {key!r} ({type(key).__name__}); JSON keys "
                                "must be str. Store nested state with save_state() (or flatten_state())")
            if key == _TAG:
                raise TypeError(f"save_arrays: {where} uses the reserved key {_TAG!r}")
            _check_plain_json(item, f"{where}[{key!r}]")
        return
    raise TypeError(
        f"save_arrays: {where} is a {type(value).__name__}; meta must be plain JSON (dict with str keys, "
        "list, str, int, float, bool, None). Put arrays in `arrays`, or store nested state with save_state()"
    )


def _numnet_version() -> str:
    import numnet  # at call time: numnet/__init__ imports this module

    return getattr(numnet, "__version__", "unknown")


def _zip_info(name: str, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _write_file(
    path: PathLike, arrays: Mapping[str, Any], meta: Any, kind: str, compress: bool, func: str
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
            raise TypeError(f"{func}: array {name!r} has dtype {array.dtype}; object arrays cannot be stored "
                            "without pickle")
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

    with atomic_write(path) as file, zipfile.ZipFile(file, "w", allowZip64=True) as archive:
        archive.writestr(_zip_info(HEADER_MEMBER, compress), header_bytes)
        for entry, (_, array) in zip(header["arrays"], prepared, strict=True):
            with archive.open(_zip_info(entry["member"], compress), "w", force_zip64=True) as member:
                npformat.write_array(member, array, allow_pickle=False)


def _descr(dtype: np.dtype) -> Any:
    """The dtype as the JSON value the manifest holds (``"<f4"``; a list of fields for structured dtypes)."""
    return json.loads(json.dumps(npformat.dtype_to_descr(dtype)))


def save_arrays(
    path: PathLike,
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


def save_state(path: PathLike, state: Any, *, kind: str = "state", compress: bool = False) -> None:
    """Write a nested state (see ``flatten_state``) to one file, atomically; ``load_state`` reads it."""
    tree, arrays = flatten_state(state)
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
)


def _describe_non_zip(path: str, head: bytes) -> str:
    if not head:
        return f"{path}: not a numnet file: the file is empty"
    if head.startswith(b"\x93NUM"):
        return f"{path}: not a numnet file: it is a single .npy array, not a numnet zip archive"
    if head.startswith(b"PK"):
        return f"{path}: not a numnet file: an empty or damaged zip archive"
    return f"{path}: not a numnet file: it is not a zip archive (it starts with {head[:8]!r})"


def _read_header(raw: Any, path: str, kind: str | None) -> dict:
    if not isinstance(raw, bytes):
        raise ModelFileError(f"{path}: damaged numnet file: {HEADER_MEMBER} is not JSON text")
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise ModelFileError(f"{path}: damaged numnet file: {HEADER_MEMBER} is not JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_TAG:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(
            f"{path}: not a numnet file: {HEADER_MEMBER} has format {found!r}, not {FORMAT_TAG!r}"
        )
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(f"{path}: damaged numnet file: invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written by numnet {header.get('numnet_version', '?')} in file format version "
            f"{version}; this numnet ({_numnet_version()}) reads format version {FORMAT_VERSION} and older. "
            "Upgrade numnet to load it."
        )
    if kind is not None and header.get("kind") != kind:
        raise ModelFileError(
            f"{path}: holds a numnet {header.get('kind')!r} file, not a {kind!r} file"
            + (" (read it with numnet.io.load_state or load_arrays)" if kind == "model" else "")
        )
    manifest = header.get("arrays")
    if not isinstance(manifest, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("name"), str)
        and isinstance(e.get("member"), str)
        and isinstance(e.get("shape"), list)
        and all(type(n) is int and n >= 0 for n in e["shape"])
        for e in manifest
    ):
        raise ModelFileError(f"{path}: damaged numnet file: the array list in {HEADER_MEMBER} is malformed")
    if "meta" not in header:
        raise ModelFileError(f"{path}: damaged numnet file: {HEADER_MEMBER} has no 'meta'")
    return header


def _read_npy_header(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype] | None:
    """Shape and dtype from a member's .npy header, read before NumPy reads (and allocates) the data."""
    with archive.open(member) as fp:
        version = npformat.read_magic(fp)
        if version == (1, 0):
            shape, _, dtype = npformat.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, _, dtype = npformat.read_array_header_2_0(fp)
        else:
            return None  # version 3.0 (utf-8 field names): np.load checks it below
    return shape, dtype


def _read_archive(file: Any, path: str, kind: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(file, allow_pickle=False) as npz:
        archive = npz.zip
        names = set(archive.namelist())
        if HEADER_MEMBER not in names:
            raise ModelFileError(
                f"{path}: not a numnet file: a zip/.npz archive without {HEADER_MEMBER} "
                "(written by np.savez or another program, not by numnet)"
            )
        header = _read_header(npz[HEADER_MEMBER], path, kind)
        arrays: dict[str, np.ndarray] = {}
        for entry in header["arrays"]:
            name, member, shape, dtype = entry["name"], entry["member"], tuple(entry["shape"]), entry["dtype"]
            if member not in names or not member.endswith(".npy"):
                raise ModelFileError(f"{path}: damaged numnet file: array {name!r} is missing (no {member})")
            if name in arrays:
                raise ModelFileError(f"{path}: damaged numnet file: array {name!r} is listed twice")
            found = _read_npy_header(archive, member)
            if found is not None:
                if found[1].hasobject:
                    raise ModelFileError(
                        f"{path}: array {name!r} ({member}) is a pickled object array; numnet never writes "
                        "those and refuses to unpickle them"
                    )
                if found[0] != shape or _descr(found[1]) != dtype:
                    raise ModelFileError(
                        f"{path}: damaged numnet file: {member} holds {found[1]} {found[0]}, but the "
                        f"manifest says {dtype} {shape}"
                    )
            try:
                array = npz[member]
            except ValueError as exc:
                if "allow_pickle" in str(exc):
                    raise ModelFileError(
                        f"{path}: array {name!r} ({member}) is a pickled object array; refusing to unpickle"
                    ) from None
                raise
            if not isinstance(array, np.ndarray) or array.shape != shape or _descr(array.dtype) != dtype:
                raise ModelFileError(f"{path}: damaged numnet file: {member} does not hold the array listed")
            arrays[name] = array
    return header, arrays


def _read_file(path: PathLike, kind: str | None) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a numnet file; returns ``(header, arrays)``."""
    shown = os.fspath(path)
    with open(shown, "rb") as file:  # FileNotFoundError / PermissionError propagate, naming the path
        head = file.read(len(_ZIP_MAGIC))
        if head != _ZIP_MAGIC:
            raise ModelFileError(_describe_non_zip(shown, head + file.read(4)))
        file.seek(0)
        try:
            return _read_archive(file, shown, kind)
        except ModelFileError:
            raise
        except _DAMAGE_ERRORS as exc:
            raise ModelFileError(
                f"{shown}: damaged or truncated numnet file ({type(exc).__name__}: {exc})"
            ) from None


def load_arrays(path: PathLike, *, kind: str | None = None) -> tuple[dict[str, np.ndarray], Any]:
    """Read a file written by ``save_arrays``: returns ``(arrays, meta)``.

    ``kind``: if given, the file must have been saved with that kind. Raises ``FileNotFoundError`` for a
    missing file and ``ModelFileError`` (a ValueError) for anything else wrong with it.
    """
    header, arrays = _read_file(path, kind)
    return arrays, header["meta"]


def load_state(path: PathLike, *, kind: str | None = None) -> Any:
    """Read a nested state written by ``save_state`` (see ``load_arrays`` for ``kind`` and the errors)."""
    header, arrays = _read_file(path, kind)
    try:
        return unflatten_state(header["meta"], arrays)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{os.fspath(path)}: damaged numnet file: {exc}") from None


# ---------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------


def save(model: Module, path: PathLike, metadata: Any = None, *, compress: bool = False) -> None:
    """Save ``model`` (architecture and weights) and optional ``metadata`` to one file at ``path``.

    The architecture is ``numnet.nn.config.to_config(model)``, the weights ``model.state_dict()``.
    ``metadata`` is any nested state (see ``flatten_state``): class names, input means and standard
    deviations as arrays, a training summary. The write is atomic. Read it back with ``numnet.load(path)``,
    or ``numnet.io.load_with_metadata(path)`` for ``(model, metadata)``.
    """
    from numnet.nn.config import to_config
    from numnet.nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"save: expected a numnet.nn.Module, got {type(model).__name__}")
    state = {"config": to_config(model), "state_dict": dict(model.state_dict()), "metadata": metadata}
    save_state(path, state, kind="model", compress=compress)


def load_with_metadata(path: PathLike) -> tuple[Module, Any]:
    """Load a model saved by ``numnet.save``: returns ``(model, metadata)``, the model in eval mode."""
    from numnet.nn.config import from_config

    shown = os.fspath(path)
    state = load_state(path, kind="model")
    if not isinstance(state, dict) or not {"config", "state_dict"} <= state.keys():
        raise ModelFileError(f"{shown}: damaged numnet model file: no architecture or no weights")
    weights = state["state_dict"]
    if not isinstance(weights, dict) or not all(isinstance(v, np.ndarray) for v in weights.values()):
        raise ModelFileError(f"{shown}: damaged numnet model file: the weights are not a dict of arrays")
    try:
        model = from_config(state["config"])
    except Exception as exc:
        raise ModelFileError(
            f"{shown}: could not rebuild the architecture stored in the file ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        model.load_state_dict(weights, strict=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{shown}: the weights in the file do not fit its architecture:\n{exc}") from exc
    model.eval()
    return model, state.get("metadata")


def load(path: PathLike) -> Module:
    """Load a model saved by ``numnet.save``, in eval mode (``load_with_metadata`` also gives the metadata).

    Raises ``FileNotFoundError`` for a missing file, and ``ModelFileError`` (a ValueError) naming the file
    for anything else: not a numnet model file, damaged, too new, or weights that do not fit.
    """
    return load_with_metadata(path)[0]
