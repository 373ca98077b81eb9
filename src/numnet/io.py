"""Saving and loading models (and any nested state of tensors) without pickle.

Built on the state file of ``numnet.statefile`` (a zip of ``.npy`` arrays and a JSON manifest, which
checkpoints share), whose functions are re-exported here: ``save_arrays`` / ``load_arrays``,
``save_state`` / ``load_state``, ``flatten_state`` / ``unflatten_state`` and ``ModelFileError``.

* ``save(obj, f, metadata=None)``: ``obj`` a ``numnet.nn.Module`` (its architecture from
  ``numnet.nn.config`` and its weights), or, as with ``torch.save``, a ``state_dict`` or any nested
  dict/list/tuple of Tensors, arrays, numbers, strings and None. ``f`` is a path (written atomically) or a
  binary file object.
* ``load(f)``: the model, in eval mode. ``load(f, weights_only=True)`` returns what was saved as plain data
  (for a module: ``{"config", "state_dict", "metadata"}``), tensors as ``numnet.Tensor``; no layer is built.
* ``load_with_metadata(f)``: ``(model, metadata)``. ``check_model_metadata(metadata, datasets)`` checks the
  fields the command line reads (``in_features``, ``input_shape``, ``samples``, ``dataset``, ``settings``).

A model file's architecture is checked against its stored weights before any layer is built: a file
whose config declares layers far larger than its arrays is refused instead of allocating them.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Collection
from typing import IO, Any

import numpy as np

from numnet.nn.config import from_config, to_config
from numnet.nn.module import Module
from numnet.statefile import (
    FORMAT_VERSION,
    ModelFileError,
    flatten_state,
    load_arrays,
    load_state,
    save_arrays,
    save_state,
    unflatten_state,
)

__all__ = [
    "FORMAT_VERSION",
    "ModelFileError",
    "check_model_metadata",
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

MODEL_KIND = "model"
OBJECT_KIND = "object"  # a state_dict or other nested data saved with numnet.save
Target = str | os.PathLike | IO[bytes]

# Parameter shapes of the built-in layers, from their config args: checked before anything is built.
_MAX_DIM = 2**31


def _shown(f: Target) -> str:
    return os.fspath(f) if isinstance(f, (str, os.PathLike)) else str(getattr(f, "name", "<file object>"))


def save(obj: Any, f: Target, metadata: Any = None, *, compress: bool = False) -> None:
    """Save a model (architecture and weights, plus optional ``metadata``) or nested tensors to ``f``.

    ``obj``: a ``numnet.nn.Module``, or a ``state_dict`` / any nested dict, list, tuple of Tensors, arrays,
    numbers, strings, None (see ``flatten_state``). ``f``: a path (written atomically) or a binary file
    object. ``metadata`` (models only): any nested state. Read a model back with ``numnet.load(f)``,
    anything with ``numnet.load(f, weights_only=True)``.
    """
    if isinstance(obj, Module):
        state = {"config": to_config(obj), "state_dict": dict(obj.state_dict()), "metadata": metadata}
        save_state(f, state, kind=MODEL_KIND, compress=compress)
        return
    if metadata is not None:
        raise TypeError("save: metadata goes with a Module; put it inside the object you save instead")
    save_state(f, obj, kind=OBJECT_KIND, compress=compress, keep_tensors=True)


def _read_model_state(f: Target) -> dict:
    state = load_state(f, kind=MODEL_KIND)
    shown = _shown(f)
    if not isinstance(state, dict) or not {"config", "state_dict"} <= state.keys():
        raise ModelFileError(f"{shown}: damaged numnet model file: no architecture or no weights")
    weights = state["state_dict"]
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in weights.items()
    ):
        raise ModelFileError(f"{shown}: damaged numnet model file: the weights are not a dict of arrays")
    return state


def _ints(value: Any) -> list[int]:
    """The integer arguments of a layer (also inside lists: kernel sizes), for the size bound."""
    if type(value) is int:
        return [value]
    if isinstance(value, list):
        return [n for item in value for n in _ints(item)]
    return []


def _dim(args: dict, key: str, where: str) -> int:
    value = args.get(key)
    if type(value) is not int or not 0 <= value < _MAX_DIM:
        raise ValueError(f"{where}: {key} must be an integer in [0, 2**31), got {value!r:.40}")
    return value


def _layer_shapes(kind: str, args: dict, where: str) -> list[tuple[int, ...]] | None:
    """The parameter and buffer shapes a built-in layer will allocate, or None for other layers."""
    if kind == "Linear":
        n_in, n_out = _dim(args, "in_features", where), _dim(args, "out_features", where)
        return [(n_out, n_in)] + ([(n_out,)] if args.get("bias", True) else [])
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        n = _dim(args, "num_features", where)
        affine = [(n,), (n,)] if args.get("affine", True) else []
        return affine + ([(n,), (n,), ()] if args.get("track_running_stats", True) else [])
    return None


def _check_sizes_before_building(config: Any, weights: dict[str, np.ndarray], shown: str) -> None:
    """Refuse an architecture that would allocate more than the file's own arrays account for.

    Built-in layers (Linear, BatchNorm) must find each of their shapes among the stored arrays (each array
    used once); any other
    layer may allocate at most as many elements as the product of its integer arguments, and those, summed,
    at most 8 × the stored elements (+ 2**20).
    """
    available = Counter(tuple(a.shape) for a in weights.values())
    other = 0
    budget = 8 * sum(a.size for a in weights.values()) + 2**20
    stack: list[tuple[Any, str]] = [(config, "the model")]
    while stack:  # depth first, in the order the layers are built
        node, where = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise ValueError(f"{where} is not a layer description")
        kind = node["type"]
        children = node.get("children")
        if children is not None:
            if not isinstance(children, list) or len(children) > 100_000:
                raise ValueError(f"{where}: children must be a list")
            stack.extend((child, f"{kind}[{i}]") for i, child in reversed(list(enumerate(children))))
            continue
        args = node.get("args", {})
        if not isinstance(args, dict):
            raise ValueError(f"{where}: args must be a dict")
        shapes = _layer_shapes(kind, args, f"{where} ({kind})")
        if shapes is None:
            other += math.prod(max(1, n) for n in _ints(list(args.values())))
            continue
        for shape in shapes:
            if available[shape] == 0:
                raise ModelFileError(
                    f"{shown}: the weights in the file do not fit its architecture: {where} ({kind}) needs "
                    f"an array of shape {shape}, which the file does not hold (checked before building it)"
                )
            available[shape] -= 1
    if other > budget:
        raise ModelFileError(
            f"{shown}: the architecture's layers would allocate about {other} values, far more than the "
            f"{budget} its stored arrays account for; refusing to build it"
        )


def load_with_metadata(f: Target) -> tuple[Module, Any]:
    """Load a model saved by ``numnet.save``: returns ``(model, metadata)``, the model in eval mode."""
    shown = _shown(f)
    state = _read_model_state(f)
    weights = state["state_dict"]
    try:
        _check_sizes_before_building(state["config"], weights, shown)
        model = from_config(state["config"])
    except ModelFileError:
        raise
    except MemoryError:
        raise ModelFileError(f"{shown}: the architecture in this file does not fit in memory") from None
    except Exception as exc:
        raise ModelFileError(
            f"{shown}: could not rebuild the architecture stored in the file "
            f"({type(exc).__name__}: {exc!s:.200})"
        ) from None
    try:
        model.load_state_dict(weights, strict=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(
            f"{shown}: the weights in the file do not fit its architecture:\n{exc}"
        ) from None
    model.eval()
    return model, state.get("metadata")


def load(f: Target, *, weights_only: bool = False) -> Any:
    """Load what ``numnet.save`` wrote to ``f`` (a path or a binary file object).

    By default a model, in eval mode (``load_with_metadata`` also gives the metadata). With
    ``weights_only=True``: the saved data itself, tensors as ``numnet.Tensor``, nothing built (for a
    model file: ``{"config", "state_dict", "metadata"}``); use it for state dicts saved with ``save``.
    Raises ``FileNotFoundError`` for a missing file and ``ModelFileError`` (a ValueError) naming the file
    for anything else: not a numnet file, damaged, too new, weights that do not fit, not a regular file.
    """
    if not weights_only:
        return load_with_metadata(f)[0]
    return load_state(f, tensors=True)


# ---------------------------------------------------------------------------------------------------------
# Metadata the command line reads from a model file
# ---------------------------------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MAX_COUNT = 10**9
# The most values one input sample may have (``input_shape``'s product): the CLI allocates that many.
_MAX_SAMPLE_SIZE = 10**7


def _count(value: Any, where: str, low: int) -> int:
    if type(value) is not int or not low <= value <= _MAX_COUNT:
        raise ModelFileError(f"{where} must be an integer in [{low}, {_MAX_COUNT}], got {value!r:.60}")
    return value


def _plain_json(value: Any, where: str, depth: int = 0) -> None:
    if value is None or type(value) in (bool, int, str) or (type(value) is float and math.isfinite(value)):
        return
    if depth < 16 and type(value) is list:
        for i, item in enumerate(value):
            _plain_json(item, f"{where}[{i}]", depth + 1)
        return
    if depth < 16 and type(value) is dict and all(type(k) is str for k in value):
        for key, item in value.items():
            _plain_json(item, f"{where}[{key!r}]", depth + 1)
        return
    raise ModelFileError(
        f"{where} must be plain JSON (numbers, strings, lists, dicts), got {type(value).__name__}"
    )


def _check_input_shape(shape: Any, in_features: Any, where: str) -> None:
    if type(shape) is not list or not 1 <= len(shape) <= 3 or any(type(s) is not int or s < 1 for s in shape):
        raise ModelFileError(
            f"{where}: input_shape must be a list of 1 to 3 integers ≥ 1 (e.g. [784] or [1, 28, 28]), "
            f"got {shape!r:.80}"
        )
    size = math.prod(shape)
    if size > _MAX_SAMPLE_SIZE:
        raise ModelFileError(
            f"{where}: input_shape {shape} has {size:,} values per sample, more than {_MAX_SAMPLE_SIZE:,}"
        )
    if in_features is not None and size != in_features:
        raise ModelFileError(
            f"{where}: input_shape {shape} ({size:,} values) does not match in_features {in_features}"
        )


def check_model_metadata(
    metadata: Any, datasets: Collection[str] | None, where: str = "model metadata"
) -> dict:
    """Check the metadata fields the CLI uses; returns ``metadata`` (a dict; ``{}`` for None).

    ``in_features`` an integer ≥ 1; ``input_shape`` (one sample's shape: ``[784]`` or a CNN's ``[C, H, W]``)
    a list of 1 to 3 integers ≥ 1 whose product is at most 10⁷ and equals ``in_features`` when both are
    given; ``samples`` (top level or in ``settings``) None or an integer ≥ 1;
    ``dataset`` None or one of ``datasets`` (the built-in names: never a path), or with ``datasets=None`` any
    short name (the CLI then reads only a built-in one on the file's word; a path it names is never opened
    unless the user passes it again with ``--dataset``); ``settings`` a dict of plain
    JSON with ``seed`` an integer ≥ 0 and ``target`` None or a string when present. Raises
    ``ModelFileError`` naming the field.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{where} must be a dict, got {type(metadata).__name__}")
    if "in_features" in metadata:
        _count(metadata["in_features"], f"{where}: in_features", 1)
    if "input_shape" in metadata:
        _check_input_shape(metadata["input_shape"], metadata.get("in_features"), where)
    dataset = metadata.get("dataset")
    if datasets is None:
        if dataset is not None and not (isinstance(dataset, str) and 0 < len(dataset) <= 4096):
            raise ModelFileError(f"{where}: dataset must be a name (a short string), got {dataset!r:.80}")
    elif dataset is not None and (
        not isinstance(dataset, str) or not _NAME.fullmatch(dataset) or dataset.lower() not in datasets
    ):
        raise ModelFileError(
            f"{where}: dataset {dataset!r:.80} is not a built-in dataset ({', '.join(sorted(datasets))}); "
            "a model file cannot name a file to read; pass --dataset"
        )
    settings = metadata.get("settings", {})
    if not isinstance(settings, dict):
        raise ModelFileError(f"{where}: settings must be a dict, got {type(settings).__name__}")
    _plain_json(settings, f"{where}: settings")
    for holder, name in ((metadata, "samples"), (settings, "samples")):
        if holder.get(name) is not None:
            _count(holder[name], f"{where}: {name}", 1)
    if "seed" in settings:
        _count(settings["seed"], f"{where}: settings.seed", 0)
    if settings.get("target") is not None and not isinstance(settings["target"], str):
        raise ModelFileError(f"{where}: settings.target must be a column name (a string)")
    return metadata
