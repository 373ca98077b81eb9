"""``Parameter`` and ``Module``: the base of every layer, with PyTorch's registration and state rules.

A ``Module`` registers the ``Parameter``s and sub-``Module``s assigned to its attributes, in assignment order,
so that ``parameters()`` finds every trainable tensor and ``state_dict()`` names each one by its path
(``layers.1.bias``). Buffers (``register_buffer``) are NumPy arrays of state that is not trained, such as
BatchNorm's running statistics: they are saved and loaded with the parameters but get no gradient.

Registered objects are also stored as plain instance attributes, so reading ``self.weight`` in ``forward``
costs one dictionary lookup (no ``__getattr__`` fallback on the hot path).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from numnet import backend
from numnet.tensor import Tensor


class Parameter(Tensor):
    """A tensor that a ``Module`` trains: assigning one to a module attribute registers it.

    ``Parameter(data, requires_grad=True)``. Always floating point: a float NumPy array keeps its dtype (and
    is shared, not copied); Python numbers, lists and integer arrays become the default dtype (float32
    unless ``numnet.set_default_dtype`` says otherwise).
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        array = data.data if isinstance(data, Tensor) else data
        if not (isinstance(array, np.ndarray) and array.dtype.kind == "f"):
            try:
                array = np.asarray(array, dtype=backend.get_default_dtype())
            except (TypeError, ValueError) as exc:
                kind = type(data).__name__
                raise TypeError(f"Parameter: cannot make a floating-point tensor from {kind}") from exc
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictKeyError(KeyError):
    """Missing or unexpected keys in ``load_state_dict``. (A ``KeyError`` whose message prints as written.)"""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_OTHER_DEVICES = ("cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "vulkan", "mtia", "privateuseone")


def _is_device(arg: Any) -> bool:
    """Whether a ``Module.to`` argument names a device (a device string, or an object with a ``type``)."""
    if isinstance(arg, str):
        return arg.split(":")[0] in ("cpu", *_OTHER_DEVICES)
    return isinstance(getattr(arg, "type", None), str) and not isinstance(arg, (np.dtype, type))


def _check_cpu(device: Any) -> None:
    kind = device if isinstance(device, str) else getattr(device, "type", device)
    if not isinstance(kind, str) or kind.split(":")[0] != "cpu":
        raise ValueError(
            f"to(): numnet runs on the CPU only, got device {device!r}; pass 'cpu' (or drop the .to(device) "
            "call)"
        )


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (for nested reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


class Module:
    """Base class of layers and models.

    Subclasses call ``super().__init__()`` first, assign parameters, sub-modules and buffers in
    ``__init__``, and define ``forward``. Calling the module calls ``forward`` (no hooks: one extra frame,
    nothing more).
    """

    training: bool

    def __init__(self) -> None:
        set_attr = object.__setattr__
        set_attr(self, "_parameters", {})
        set_attr(self, "_buffers", {})
        set_attr(self, "_non_persistent", set())
        set_attr(self, "_modules", {})
        set_attr(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define forward(self, x) in it")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --- registration --------------------------------------------------------------------------------------
    def _forget(self, name: str, keep: str = "") -> None:
        """Unregister ``name`` from every registry but ``keep`` (the one it is about to be written to, where
        it keeps its place in the order), so that a name is only ever one kind of thing."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() has run; call super().__init__() first in "
                f"{type(self).__name__}.__init__"
            )
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif "_parameters" in self.__dict__:
            if name in self._parameters:
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as parameter {name!r} of "
                        f"{type(self).__name__} (a numnet.nn.Parameter or None expected)"
                    )
                self._parameters[name] = None
            elif name in self._buffers:
                if value is not None and not isinstance(value, np.ndarray):
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as buffer {name!r} of {type(self).__name__} "
                        "(a numpy.ndarray or None expected)"
                    )
                self._buffers[name] = value
            elif name in self._modules:
                if value is not None:
                    raise TypeError(
                        f"cannot assign {type(value).__name__} as sub-module {name!r} of "
                        f"{type(self).__name__} (a Module or None expected)"
                    )
                self._modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._forget(name)
        object.__delattr__(self, name)

    @staticmethod
    def _check_name(kind: str, name: Any) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as ``name`` (None: declared but absent, such as ``bias=False``)."""
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            kind = type(param).__name__
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {kind}")
        self._forget(name, keep="_parameters")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, array: np.ndarray | None, persistent: bool = True) -> None:
        """Register non-trained state (e.g. running statistics). Persistent buffers go into ``state_dict()``;
        ``None`` declares a buffer that is absent (and left out of the state dict)."""
        self._check_name("buffer", name)
        if array is not None and not isinstance(array, np.ndarray):
            kind = type(array).__name__
            raise TypeError(f"register_buffer: {name!r} must be a numpy.ndarray or None, got {kind}")
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"register_buffer: attribute {name!r} already exists on {type(self).__name__}")
        self._forget(name, keep="_buffers")
        self._buffers[name] = array
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (names may be non-identifiers, such as ``"0"``)."""
        self._check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._forget(name, keep="_modules")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # --- traversal --------------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo: set[int] | None = None) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, once each, with dotted paths (``""`` for this one)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant, once each, depth first (iterative: on the training hot path)."""
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            stack.extend(reversed([child for child in module._modules.values() if child is not None]))

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules, in registration order."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(path, parameter)`` pairs; a parameter shared by several layers appears once (its first path)."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for path, module in modules:
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{path}.{name}" if path else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in ``named_parameters`` order (without building the names)."""
        seen: set[int] = set()
        for module in self.modules() if recurse else (self,):
            for param in module._parameters.values():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, np.ndarray]]:
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for path, module in modules:
            for name, array in module._buffers.items():
                if array is not None:
                    yield (f"{path}.{name}" if path else name), array

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, array in self.named_buffers(recurse=recurse):
            yield array

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (shared ones counted once)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first), then on this one (e.g. to initialise weights)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- training state ---------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``True``) or evaluation mode (``False``) here and in every descendant."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout passes inputs through, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (``False``) or unfreeze every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: drop it (default), or fill the existing array with zeros."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.data[...] = 0

    # --- dtype --------------------------------------------------------------------------------------------
    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False) -> Module:
        """Cast every floating parameter, gradient and buffer to a dtype; accept the CPU as the device.

        As ``torch.nn.Module.to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its
        dtype), or the keywords. The dtype is np.float32 or np.float64 (or what ``np.dtype`` accepts); the
        device is ``"cpu"`` (``"cpu:0"``) or a device object whose ``type`` is "cpu", where numnet always
        runs, so it changes nothing; any other device raises ValueError. ``non_blocking`` is ignored.

        Integer buffers (``num_batches_tracked``) keep their dtype. Parameters stay the same objects, so an
        optimizer built before the cast still holds them.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif _is_device(arg):
                device = arg
            else:
                dtype = arg
        if device is not None:
            _check_cpu(device)
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError as exc:
            raise TypeError(
                f"to(): {dtype!r} is not a dtype or a device; use np.float32, np.float64 or 'cpu'"
            ) from exc
        if dtype.kind != "f":
            raise ValueError(f"to(dtype): parameters must stay floating point, got {dtype}")
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.data.dtype != dtype:
                    param.data = param.data.astype(dtype)
                    if param.grad is not None:
                        param.grad = param.grad.detach().astype(dtype)
            for name, array in module._buffers.items():
                if array is not None and array.dtype.kind == "f" and array.dtype != dtype:
                    setattr(module, name, array.astype(dtype))
        return self

    def cpu(self) -> Module:
        """The module itself: numnet always runs on the CPU (``Module.cpu()`` in PyTorch code is a no-op)."""
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # --- state ----------------------------------------------------------------------------------------
    def _state_items(self) -> Iterator[tuple[str, np.ndarray]]:
        """Every saved array in state-dict order (per module: parameters, then buffers, then children),
        as the live arrays, under every name (a shared parameter appears under each of its paths)."""
        stack: list[tuple[str, Module]] = [("", self)]
        while stack:
            prefix, module = stack.pop()
            for name, param in module._parameters.items():
                if param is not None:
                    yield prefix + name, param.data
            for name, array in module._buffers.items():
                if array is not None and name not in module._non_persistent:
                    yield prefix + name, array
            children = [(f"{prefix}{name}.", child) for name, child in module.named_children()]
            stack.extend(reversed(children))

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Copies of all parameters and persistent buffers by path (``0.weight``, ``bn.running_mean``)."""
        return OrderedDict((name, array.copy()) for name, array in self._state_items())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict``'s arrays into this module's parameters and buffers, in place.

        Everything is validated before anything is written, so an error leaves the module untouched. Values
        are cast to the dtype of the array they replace. ``strict=True`` (default) requires exactly the same
        keys; ``strict=False`` loads the keys both have and returns the missing and unexpected ones. A shape
        mismatch is an error either way.
        """
        if not isinstance(state_dict, Mapping):
            kind = type(state_dict).__name__
            raise TypeError(f"load_state_dict expects a dict of name → array, got {kind}")
        owner = type(self).__name__
        targets = dict(self._state_items())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        if strict and (missing or unexpected):
            lines = [f"load_state_dict into {owner}: the keys do not match the model"]
            if missing:
                lines.append(f"  missing keys (in the model, not the state dict): {', '.join(missing)}")
            if unexpected:
                lines.append(f"  unexpected keys (in the state dict, not the model): {', '.join(unexpected)}")
            lines.append(
                "  check that the state dict comes from the same architecture, or pass strict=False to load "
                "the matching keys only"
            )
            raise StateDictKeyError("\n".join(lines))

        values: list[tuple[np.ndarray, np.ndarray]] = []
        mismatched: list[str] = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            raw = state_dict[key]
            value = np.asarray(raw.data if isinstance(raw, Tensor) else raw)
            if value.dtype.kind not in "fiub":
                raise TypeError(f"load_state_dict into {owner}: {key!r} holds {value.dtype}, not numbers")
            if value.shape != target.shape:
                mismatched.append(f"  {key}: expected shape {target.shape}, got {value.shape}")
            values.append((target, value))
        if mismatched:
            raise ValueError(
                f"load_state_dict into {owner}: shape mismatch (nothing was loaded)\n" + "\n".join(mismatched)
            )
        for target, value in values:
            target[...] = value  # in place, cast to the target's dtype
        return IncompatibleKeys(missing, unexpected)

    # --- printing ---------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(child), 2)}" for name, child in self.named_children()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"
