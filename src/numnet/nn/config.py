"""Architecture as JSON-ready data: ``to_config(model) -> dict`` and ``from_config(dict) -> Module``.

Together with ``state_dict()`` this saves a model without pickle (no code runs on load)::

    {"type": "Sequential", "dtype": "float32", "children": [
        {"type": "Linear", "args": {"in_features": 2, "out_features": 3, "bias": true}},
        {"type": "ReLU", "args": {}}, ...]}

Layers are ``{"type", "args"}`` where ``args`` are the constructor's keyword arguments; containers are
``{"type", "children"}`` (plus ``"names"`` for a ``Sequential`` built from an ``OrderedDict``). The top level
records ``"dtype"`` when all floating parameters and buffers share one, and ``from_config`` casts to it.
Only registered classes can be described: every built-in layer, loss and container, and whatever
``register(cls, to_args)`` adds.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from numnet.nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from numnet.nn.container import ModuleList, Sequential
from numnet.nn.conv import Conv2d
from numnet.nn.dropout import Dropout
from numnet.nn.linear import Flatten, Identity, Linear
from numnet.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from numnet.nn.module import Module
from numnet.nn.normalization import BatchNorm1d, BatchNorm2d
from numnet.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, Dropout2d, MaxPool2d

ToArgs = Callable[[Any], dict[str, Any]]

_LAYERS: dict[str, tuple[type[Module], ToArgs]] = {}
_CONTAINERS: dict[str, type[Module]] = {"Sequential": Sequential, "ModuleList": ModuleList}


def register(cls: type[Module], to_args: ToArgs, name: str | None = None) -> None:
    """Let ``to_config``/``from_config`` handle ``cls``: ``to_args(module)`` returns the JSON-friendly
    keyword arguments that rebuild it as ``cls(**args)``. ``name`` (default ``cls.__name__``) is the
    config's "type"."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register: {cls!r} is not a Module subclass")
    if not callable(to_args):
        raise TypeError("register: to_args must be a function module -> dict of constructor arguments")
    name = cls.__name__ if name is None else name
    known = _LAYERS.get(name, (None,))[0] or _CONTAINERS.get(name)
    if known is not None and known is not cls:
        taken_by = f"{known.__module__}.{known.__qualname__}"
        raise ValueError(f"register: the type name {name!r} is already taken by {taken_by}")
    _LAYERS[name] = (cls, to_args)


def _no_args(module: Module) -> dict[str, Any]:
    return {}


def _jsonable(value: Any) -> Any:
    """An int, or a pair (tuple) as a JSON list; the layers accept either back."""
    return list(value) if isinstance(value, (tuple, list)) else value


def _batch_norm_args(module: Any) -> dict[str, Any]:
    """BatchNorm1d's and BatchNorm2d's constructor arguments (the two take the same ones)."""
    return {
        "num_features": module.num_features,
        "eps": module.eps,
        "momentum": module.momentum,
        "affine": module.affine,
        "track_running_stats": module.track_running_stats,
        "bias": module.bias is not None,
    }


def _reduction(module: Any) -> dict[str, Any]:
    return {"reduction": module.reduction}


for _cls, _to_args in [
    (
        Linear,
        lambda m: {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None},
    ),
    (Identity, _no_args),
    (Flatten, lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    (ReLU, _no_args),
    (LeakyReLU, lambda m: {"negative_slope": m.negative_slope}),
    (Sigmoid, _no_args),
    (Tanh, _no_args),
    (Step, _no_args),
    (Softmax, lambda m: {"dim": m.dim}),
    (LogSoftmax, lambda m: {"dim": m.dim}),
    (Dropout, lambda m: {"p": m.p}),
    (BatchNorm1d, _batch_norm_args),
    (BatchNorm2d, _batch_norm_args),
    (
        Conv2d,
        lambda m: {
            "in_channels": m.in_channels,
            "out_channels": m.out_channels,
            "kernel_size": list(m.kernel_size),
            "stride": list(m.stride),
            "padding": m.padding if isinstance(m.padding, str) else list(m.padding),
            "dilation": list(m.dilation),
            "groups": m.groups,
            "bias": m.bias is not None,
        },
    ),
    (
        MaxPool2d,
        lambda m: {
            "kernel_size": _jsonable(m.kernel_size),
            "stride": _jsonable(m.stride),
            "padding": _jsonable(m.padding),
            "dilation": _jsonable(m.dilation),
            "ceil_mode": m.ceil_mode,
        },
    ),
    (
        AvgPool2d,
        lambda m: {
            "kernel_size": _jsonable(m.kernel_size),
            "stride": _jsonable(m.stride),
            "padding": _jsonable(m.padding),
            "ceil_mode": m.ceil_mode,
            "count_include_pad": m.count_include_pad,
            "divisor_override": m.divisor_override,
        },
    ),
    (AdaptiveAvgPool2d, lambda m: {"output_size": _jsonable(m.output_size)}),
    (Dropout2d, lambda m: {"p": m.p}),
    (MSELoss, _reduction),
    (CrossEntropyLoss, lambda m: {"reduction": m.reduction, "label_smoothing": m.label_smoothing}),
    (NLLLoss, _reduction),
    (BCELoss, _reduction),
    (
        BCEWithLogitsLoss,
        lambda m: {
            "reduction": m.reduction,
            "pos_weight": None if m.pos_weight is None else m.pos_weight.tolist(),
        },
    ),
]:
    register(_cls, _to_args)


def _describe(module: Module) -> dict[str, Any]:
    kind = type(module).__name__
    if _CONTAINERS.get(kind) is type(module):
        names = [name for name, _ in module.named_children()]
        config: dict[str, Any] = {"type": kind, "children": [_describe(child) for child in module.children()]}
        if names != [str(i) for i in range(len(names))]:
            config["names"] = names
        return config
    entry = _LAYERS.get(kind)
    if entry is None or entry[0] is not type(module):
        raise TypeError(
            f"to_config: {kind} is not a built-in layer; only built-in layers and containers (Sequential, "
            "ModuleList) can be saved with their architecture. Save model.state_dict() instead and rebuild "
            f"the model in code, or register the class: numnet.nn.config.register({kind}, to_args)"
        )
    return {"type": kind, "args": dict(entry[1](module))}


def _common_dtype(module: Module) -> str | None:
    arrays = [p.data for p in module.parameters()] + list(module.buffers())
    dtypes = {a.dtype for a in arrays if a.dtype.kind == "f"}
    return str(dtypes.pop()) if len(dtypes) == 1 else None


def to_config(module: Module) -> dict[str, Any]:
    """The architecture of ``module`` as a JSON-ready dict (weights not included: see ``state_dict()``)."""
    if not isinstance(module, Module):
        raise TypeError(f"to_config expects a Module, got {type(module).__name__}")
    config = _describe(module)
    dtype = _common_dtype(module)
    if dtype is not None:
        config["dtype"] = dtype
    return config


def _build(config: Any, path: str) -> Module:
    if not isinstance(config, dict) or "type" not in config:
        raise ValueError(f"from_config: {path} must be a dict with a 'type', got {config!r:.80}")
    kind = config["type"]
    if kind in _CONTAINERS:
        children = config.get("children", [])
        if not isinstance(children, list):
            raise ValueError(f"from_config: {path}.children must be a list")
        modules = [_build(child, f"{path}.children[{i}]") for i, child in enumerate(children)]
        names = config.get("names")
        if names is None:
            return _CONTAINERS[kind](*modules) if kind == "Sequential" else ModuleList(modules)
        if kind != "Sequential" or len(names) != len(modules):
            raise ValueError(f"from_config: {path}.names must be one name per child of a Sequential")
        return Sequential(OrderedDict(zip(names, modules, strict=True)))
    if kind not in _LAYERS:
        raise ValueError(
            f"from_config: unknown layer type {kind!r} at {path}; known types are "
            f"{', '.join(sorted([*_LAYERS, *_CONTAINERS]))} (register others with numnet.nn.config.register)"
        )
    args = config.get("args", {})
    if not isinstance(args, dict):
        raise ValueError(f"from_config: {path}.args must be a dict of keyword arguments")
    try:
        return _LAYERS[kind][0](**args)
    except TypeError as exc:
        raise ValueError(f"from_config: cannot build {kind} at {path} from args {args}: {exc}") from None


def from_config(config: dict[str, Any]) -> Module:
    """Build the module that ``config`` (from ``to_config``) describes, freshly initialised; then
    ``load_state_dict`` gives it the saved weights."""
    module = _build(config, "config")
    dtype = config.get("dtype")
    if dtype is not None:
        module.to(np.dtype(dtype))
    return module
