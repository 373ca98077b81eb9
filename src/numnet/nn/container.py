"""Containers: ``Sequential`` (a chain of layers) and ``ModuleList`` (a registered list of layers)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from numnet import ops
from numnet.nn import functional as F
from numnet.nn.activation import ReLU, Sigmoid
from numnet.nn.conv import Conv2d
from numnet.nn.linear import Linear
from numnet.nn.module import Module
from numnet.nn.pooling import MaxPool2d

#: activation layer type → the op computing Linear and it in one node
_FUSED_AFTER_LINEAR = {ReLU: ops.LinearReLU, Sigmoid: ops.LinearSigmoid}
_fusing = [True]  # Sequential fuses Linear + activation (off inside ``layer_fusion(False)``)
# The methods fusion stands in for: with one patched on its class at run time (a hook, a profiler, logging),
# Sequential calls every layer as written.
_CALL, _LINEAR_FORWARD, _RELU_FORWARD, _SIGMOID_FORWARD, _MAX_POOL_FORWARD, _MAX_POOL_FUNCTION = (
    Module.__call__,
    Linear.forward,
    ReLU.forward,
    Sigmoid.forward,
    MaxPool2d.forward,
    F.max_pool2d,  # what MaxPool2d.forward calls: a patch of it must see the layer's call too
)
_CONV_FORWARD, _CONV_FUNCTION = Conv2d.forward, F.conv2d


@contextmanager
def layer_fusion(enabled: bool) -> Iterator[None]:
    """Within ``with nn.layer_fusion(False):``, ``Sequential`` runs every layer as its own op, so a recorded
    graph shows Linear and ReLU (or ReLU and MaxPool2d) as two nodes (``numnet.graph.trace`` draws them so).
    The numbers are the same either way, except that Conv2d → ReLU → MaxPool2d(2) fused
    (``ops.ConvReLUMaxPool2d``) runs its products in other GEMM sizes and sums them in another order, so it
    agrees to rounding; fused (the default) is faster."""
    previous = _fusing[0]
    _fusing[0] = bool(enabled)
    try:
        yield
    finally:
        _fusing[0] = previous


def _check_module(owner: str, position: Any, module: Any) -> Module:
    if not isinstance(module, Module):
        raise TypeError(
            f"{owner}: entry {position} is a {type(module).__name__}, not a Module; "
            "wrap functions in a Module subclass (or use nn.ReLU() etc. rather than F.relu)"
        )
    return module


def _index(owner: str, index: int, length: int) -> int:
    if not -length <= index < length:
        raise IndexError(f"{owner}: index {index} is out of range for {length} modules")
    return index % length


class Sequential(Module):
    """Layers applied in order: ``Sequential(Linear(2, 3), ReLU(), Linear(3, 1))``.

    Children are named ``"0"``, ``"1"``, … (or by the keys of an ``OrderedDict`` given as the only
    argument), so parameters are ``0.weight``, ``2.bias``. Indexing gives a layer; slicing gives a
    ``Sequential`` sharing them.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, _check_module("Sequential", repr(name), module))
        else:
            for position, module in enumerate(modules):
                self.add_module(str(position), _check_module("Sequential", position, module))

    def forward(self, x: Any) -> Any:
        # A Linear followed by ReLU or Sigmoid runs as one fused op (ops.LinearReLU, ops.LinearSigmoid), and
        # a ReLU followed by MaxPool2d as another (ops.ReLUMaxPool2d): the same numbers with one node and
        # fewer passes and arrays. Conv2d → ReLU → MaxPool2d(2) runs as ops.ConvReLUMaxPool2d
        # (the same numbers to rounding: its products and sums run in another order). Only the library's
        # own layers fuse (exact types, no forward replaced on the instance or the class), so a subclass or
        # a patched layer runs as written.
        if (
            not _fusing[0]
            or Module.__call__ is not _CALL
            or Linear.forward is not _LINEAR_FORWARD
            or ReLU.forward is not _RELU_FORWARD
            or Sigmoid.forward is not _SIGMOID_FORWARD
            or MaxPool2d.forward is not _MAX_POOL_FORWARD
            or Linear.__call__ is not _CALL  # a __call__ patched on one layer class
            or ReLU.__call__ is not _CALL
            or Sigmoid.__call__ is not _CALL
            or MaxPool2d.__call__ is not _CALL
            or F.max_pool2d is not _MAX_POOL_FUNCTION
            or Conv2d.forward is not _CONV_FORWARD
            or Conv2d.__call__ is not _CALL
            or F.conv2d is not _CONV_FUNCTION
        ):
            for module in self._modules.values():
                x = module(x)
            return x
        linear = None  # a Linear whose call waits to see whether an activation follows it
        relu = None  # a ReLU (not fused into a Linear) whose call waits to see whether a MaxPool2d follows it
        conv = conv_relu = None  # a Conv2d, and the ReLU after it, waiting for a MaxPool2d(2)
        for module in self._modules.values():
            exact = "forward" not in module.__dict__
            if conv is not None:
                if conv_relu is None and type(module) is ReLU and exact:
                    conv_relu = module
                    continue
                if conv_relu is not None and type(module) is MaxPool2d and exact and module.halves():
                    fused = conv.forward_relu_max_pool(x)
                    if fused is not None:
                        x, conv = fused, None
                        continue
                x, conv, relu, conv_relu = conv(x), None, conv_relu, None  # the ReLU may still fuse below
            if linear is not None:
                fused = _FUSED_AFTER_LINEAR.get(type(module))
                if fused is not None and exact:
                    x = linear.forward_with(fused, x)
                    linear = None
                    continue
                x = linear.forward_with(ops.Linear, x)
                linear = None
            elif relu is not None:
                if type(module) is MaxPool2d and exact:
                    x = module.forward_with(ops.ReLUMaxPool2d, x)
                    relu = None
                    continue
                x = relu(x)
                relu = None
            if type(module) is Linear and exact:
                linear = module
            elif type(module) is ReLU and exact:
                relu = module
            elif type(module) is Conv2d and exact:
                conv = module
            else:
                x = module(x)
        if conv is not None:
            x = conv(x)
            relu = conv_relu
        if linear is not None:
            return linear.forward_with(ops.Linear, x)  # = linear(x), two calls fewer
        return x if relu is None else relu(x)

    def append(self, module: Module) -> Sequential:
        position = len(self._modules)
        self.add_module(str(position), _check_module("Sequential.append", position, module))
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_index("Sequential", index, len(items))][1]


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them from
    ``parameters()`` and ``state_dict()``). Children are named ``"0"``, ``"1"``, …; it has no ``forward``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _reindex(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for position, module in enumerate(modules):
            self.add_module(str(position), module)

    def append(self, module: Module) -> ModuleList:
        position = len(self._modules)
        self.add_module(str(position), _check_module("ModuleList.append", position, module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend expects an iterable of modules; append a single module")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _check_module("ModuleList.insert", index, module))
        self._reindex(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_index("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        position = _index("ModuleList", index, len(self._modules))
        self.add_module(str(position), _check_module("ModuleList", position, module))

    def __delitem__(self, index: int) -> None:
        modules = list(self._modules.values())
        del modules[_index("ModuleList", index, len(modules))]
        self._reindex(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(); iterate over it in your module's forward (or use nn.Sequential)"
        )
