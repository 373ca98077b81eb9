"""Layer 2: ``Tensor``, ``Function`` and the reverse-mode engine.

A ``Tensor`` wraps a NumPy array. When an operation runs on tensors that require gradients, it records a
``Function`` node that remembers its inputs and whatever its backward formula needs; the tensors and the
nodes form a dynamic computational graph, built anew on every forward pass.

``Tensor.backward()`` orders that graph topologically (iteratively, so a graph thousands of operations deep
needs no recursion), then walks it from the output back to the leaves: each node turns the gradient of its
output into gradients of its inputs (the chain rule), and gradients that reach the same tensor by several
paths are summed. Broadcasting is undone here, once for every operation: a gradient whose shape is larger
than its input's (because the forward broadcast the input) is summed back to the input's shape.

Every operation lives in ``numnet.ops`` as a small ``Function`` subclass, forward and backward side by side.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from numnet import backend

# ---------------------------------------------------------------------------------------------------------
# Gradient mode
# ---------------------------------------------------------------------------------------------------------

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph."""
    return _grad_enabled


class _GradMode:
    """Context manager and decorator that sets gradient recording on or off."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self._enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(self._enabled):
                return func(*args, **kwargs)

        return wrapper


def no_grad(func: Callable | None = None) -> Any:
    """``with numnet.no_grad():`` runs operations without recording the graph (inference, weight updates).

    Also a decorator, with or without the parentheses: ``@numnet.no_grad()`` or ``@numnet.no_grad``.
    """
    return _GradMode(False) if func is None else _GradMode(False)(func)


def enable_grad(func: Callable | None = None) -> Any:
    """Turn graph recording back on inside a ``no_grad`` block (a context manager or a decorator)."""
    return _GradMode(True) if func is None else _GradMode(True)(func)


class set_grad_enabled(_GradMode):
    """``numnet.set_grad_enabled(mode)``, as ``torch.set_grad_enabled``: turns graph recording on or off at
    once; ``with numnet.set_grad_enabled(mode):`` restores the previous setting when the block ends, and
    ``@numnet.set_grad_enabled(mode)`` applies it inside the decorated function only."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        super().__init__(bool(mode))
        self._before = _grad_enabled
        _grad_enabled = bool(mode)

    def __enter__(self) -> None:
        self._previous.append(self._before)  # the constructor has set the mode already

    def __call__(self, func: Callable) -> Callable:
        global _grad_enabled
        _grad_enabled = self._before  # as a decorator it applies inside ``func`` only
        return super().__call__(func)


_new_object = object.__new__

#: While ``numnet.compiled`` traces a step: every ``Function.apply`` appends ``(fn, inputs, kwargs, output)``.
_tape: list[tuple[Any, tuple[Any, ...], dict[str, Any], Any]] | None = None


def _record_tape(tape: list[Any] | None) -> None:
    """Start (a list) or stop (None) recording every operation applied (see ``numnet.compiled``)."""
    global _tape
    _tape = tape


# ---------------------------------------------------------------------------------------------------------
# Function: one node of the graph
# ---------------------------------------------------------------------------------------------------------


class Function:
    """Base class of every differentiable operation.

    A subclass writes ``forward(self, *arrays, **options) -> array`` and ``backward(self, grad) -> grads``
    side by side, in the style of a layer with ``forward``/``backward``: ``forward`` receives NumPy arrays and
    keeps on ``self`` what ``backward`` needs; ``backward`` receives the gradient of the loss with respect to
    the output and returns the gradient with respect to each input (a tuple, one entry per input, or a single
    array for one input; ``None`` where no gradient is needed). ``self.needs_input_grad[i]`` says whether
    input ``i`` wants one, so a backward can skip work nobody needs (the first layer never forms ``dX``).

    Users call ``SomeFunction.apply(*inputs, **options)``. Inputs that are not tensors (Python numbers,
    arrays) are constants: they reach ``forward`` unchanged and get no gradient.

    ``apply`` makes each node with ``object.__new__``, without calling ``__init__`` (one node per operation
    per step: an ``__init__`` call is measurable on tiny networks), so a subclass keeps no state set up in
    ``__init__``: whatever ``backward`` needs, ``forward`` stores on ``self``. ``numnet.compiled`` replays a
    recorded node by calling its ``forward`` and ``backward`` again, so both must depend only on their
    arguments and on what ``forward`` stored. (PyTorch-style functions with ``ctx`` are
    ``numnet.autograd.Function``.)
    """

    needs_input_grad: tuple[bool, ...]
    inputs: tuple[Any, ...]

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> Any:  # pragma: no cover - interface
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Tensor:
        # This runs once per operation: on tiny networks its cost is the cost of training, so it is one
        # plain loop (measured ~2x faster than comprehensions over the inputs).
        fn = _new_object(cls)
        arrays: list[Any] = []
        needs: list[bool] = []
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.data)
                needs.append(t.requires_grad)
            else:
                arrays.append(t)
                needs.append(False)
        requires_grad = _grad_enabled and True in needs
        fn.needs_input_grad = tuple(needs) if requires_grad else (False,) * len(needs)
        out = Tensor._wrap(fn.forward(*arrays, **kwargs), requires_grad)
        if requires_grad:
            fn.inputs = inputs
            out._ctx = fn
        if _tape is not None:  # numnet.compiled is recording a step
            _tape.append((fn, inputs, kwargs, out))
        return out

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward0>"  # as PyTorch names its nodes (AddBackward0, …)


class _FreedGraph(Function):
    """Stands where a node was once its graph has been freed by ``backward()``."""

    inputs = ()

    def __init__(self, name: str) -> None:
        self.freed_name = name

    @property
    def name(self) -> str:
        return self.freed_name


# ---------------------------------------------------------------------------------------------------------
# dtypes, devices, sizes and type promotion
# ---------------------------------------------------------------------------------------------------------


class device:
    """``numnet.device("cpu")``: numnet computes on the CPU only, so this is the one device there is.

    Any other device (``"cuda"``, ``"mps"``, …) raises a ``ValueError`` saying so.
    """

    __slots__ = ("index", "type")

    def __init__(self, type: Any = "cpu", index: Any = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name = str(type)
        kind, _, number = name.partition(":")
        if kind != "cpu":
            raise ValueError(
                f"device {name!r}: numnet runs on the CPU only (NumPy); use device='cpu' or leave device out"
            )
        self.type = "cpu"
        self.index = None if index is None and not number else int(number or index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return (
            f"device(type='{self.type}')" if self.index is None else f"device(type='cpu', index={self.index})"
        )


_CPU = device("cpu")


def check_device(where: str, dev: Any) -> None:
    """Accept ``None``, ``"cpu"`` and ``numnet.device("cpu")``; anything else raises one clear line."""
    if dev is None or dev is _CPU:
        return
    try:
        device(dev)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _is_device_like(value: Any) -> bool:
    if isinstance(value, device):
        return True
    if isinstance(value, str):
        try:
            np.dtype(value)
        except TypeError:
            return True
    return False


def parse_to_args(where: str, *args: Any, **kwargs: Any) -> tuple[device | None, np.dtype | None]:
    """The ``(device, dtype)`` a ``.to(...)`` call asks for, as ``Tensor.to`` and ``Module.to`` take them:
    ``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other_tensor)``, ``to(device=…, dtype=…)``.
    A device other than the CPU raises ``ValueError``; ``non_blocking``/``copy`` are accepted and ignored."""
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None), kwargs.pop("copy", None), kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{where}: unexpected keyword argument(s) {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif _is_device_like(arg):
            dev = arg
        elif arg is not None:
            try:
                dtype = np.dtype(arg)
            except TypeError:
                raise TypeError(f"{where}: {arg!r} is neither a dtype nor a device") from None
    check_device(where, dev)
    return (None if dev is None else _CPU), (None if dtype is None else np.dtype(dtype))


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple of ints with ``numel()``."""

    __slots__ = ()

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:
        return f"numnet.Size({list(self)})"

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item


# Type promotion (as PyTorch): the highest category among the operands wins (bool < integer < floating <
# complex); within it, tensors with dimensions decide over 0-d tensors, which decide over Python numbers; a
# Python number alone in its category gives PyTorch's default for it (the default float dtype, int64).
# So float32 ⊕ int64 tensor → float32 and int tensor ⊕ 2.5 → float32, where NumPy would give float64.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _operand_rank(value: Any) -> tuple[int, int, Any]:
    """(category, priority, dtype): priority 2 for an array with dimensions, 1 for 0-d, 0 for a number."""
    if isinstance(value, Tensor):
        value = value.data
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return (
            _CATEGORY.get(dtype.kind, 2),
            (2 if value.ndim else 1) if isinstance(value, np.ndarray) else 1,
            dtype,
        )
    if isinstance(value, bool):
        return 0, 0, np.dtype(np.bool_)
    if isinstance(value, int):
        return 1, 0, np.dtype(np.int64)
    if isinstance(value, float):
        return 2, 0, backend.get_default_dtype()
    if isinstance(value, complex):
        return 3, 0, np.dtype(np.complex64 if backend.get_default_dtype() == np.float32 else np.complex128)
    dtype = np.asarray(value).dtype  # a list or another array-like: treated as a tensor with dimensions
    return _CATEGORY.get(dtype.kind, 2), 2, dtype


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an operation on ``operands`` (tensors, arrays, Python numbers)."""
    ranks = [_operand_rank(v) for v in operands]
    top = max(r[0] for r in ranks)
    best = max(r[1] for r in ranks if r[0] == top)
    return np.result_type(*[r[2] for r in ranks if r[0] == top and r[1] == best])


def promote(a: Any, b: Any) -> tuple[Any, Any]:
    """``a`` and ``b`` (arrays or Python numbers) converted so NumPy computes in ``result_type(a, b)``.

    The fast path (two arrays of one dtype, or an array and a Python number of its category) costs two
    attribute reads; Python numbers are never converted (NumPy keeps them weak, as PyTorch does)."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    if da is not None and da is db:
        return a, b
    # an array with a Python number NumPy already treats as weak within the array's category (x * 0.5)
    if db is None and da is not None:
        tb = type(b)
        if (tb is float and da.kind in "fc") or (tb is int and da.kind in "iufc"):
            return a, b
    elif da is None and db is not None:
        ta = type(a)
        if (ta is float and db.kind in "fc") or (ta is int and db.kind in "iufc"):
            return a, b
    target = result_type(a, b)
    if da is not None and da != target:
        a = np.asarray(a).astype(target)
    elif da is None and not isinstance(a, (int, float, complex)):
        a = np.asarray(a, dtype=target)
    if db is not None and db != target:
        b = np.asarray(b).astype(target)
    elif db is None and not isinstance(b, (int, float, complex)):
        b = np.asarray(b, dtype=target)
    return a, b


# ---------------------------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------------------------


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype, copy=None)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as an array does
        return np.asarray(data)
    array = np.asarray(data)
    # Python floats arrive as float64; numnet trains in the default dtype unless told otherwise.
    if array.dtype == np.float64:
        array = array.astype(backend.get_default_dtype(), copy=False)
    elif array.dtype == object:
        raise TypeError(f"Tensor: cannot make a numeric tensor from {type(data).__name__} {data!r:.80}")
    return array


class Tensor:
    """An n-dimensional array that records the operations applied to it, so gradients can flow back.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is anything ``np.asarray`` takes. Python
    floats become the default dtype (float32 unless ``numnet.set_default_dtype`` says otherwise); NumPy
    arrays (and NumPy scalars) keep their dtype. ``.data`` is the NumPy array itself.

    ``.grad`` is a Tensor of the same shape (no graph; its ``.data`` the gradient array), filled by
    ``backward()`` on leaf tensors that require grad (and on others after ``retain_grad()``), as PyTorch's:
    ``w.grad.zero_()`` and ``print(w.grad)`` work. Code that wants the array reads ``w.grad.data``.

    In-place operations (``+=``, ``add_``, ``zero_``, ``copy_``, ``x[i] = v``, …) write into ``.data``. While
    the graph is recorded they are refused on a tensor that requires grad (a leaf, as PyTorch; a non-leaf
    too, since numnet keeps no version counters to tell a backward that its saved input changed): do them
    under ``numnet.no_grad()``, or write ``y = y + …``. A constant updated in place from a tensor that
    requires grad (``h = zeros(3); h += w * x``) becomes part of the graph, as in PyTorch.
    """

    __slots__ = ("__weakref__", "_ctx", "_retains_grad", "data", "grad", "name", "requires_grad")
    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy meets a tensor: ``ndarray + Tensor`` (and ``- * / ** @``, maximum, minimum) is the recorded
        operation, as ``Tensor + ndarray`` is; any other ufunc (``np.isfinite(t)``, ``np.exp(t)``) and any
        ufunc writing into ``out=`` (``w.data -= lr * w.grad``) computes on the arrays, without a graph."""
        op = (
            _UFUNC_OPS.get(ufunc)
            if method == "__call__" and "out" not in kwargs and len(inputs) == 2
            else None
        )
        if op is not None and not kwargs:
            return getattr(_ops, op).apply(*inputs)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_data(o) for o in out)
        result = getattr(ufunc, method)(*(_data(x) for x in inputs), **kwargs)
        return Tensor._wrap(result, False) if ufunc in _UFUNC_COMPARISONS and out is None else result

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        array = _to_array(data, dtype)
        if requires_grad and array.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=numnet.float32 (or float64)"
            )
        self.data: np.ndarray = array
        self.grad: Tensor | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._ctx: Function | None = None
        self._retains_grad = False
        self.name = name

    @classmethod
    def _wrap(cls, data: Any, requires_grad: bool) -> Tensor:
        """Fast constructor for operation outputs: no conversion beyond making sure it is an ndarray."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._retains_grad = False
        t.name = None
        return t

    # --- array-like properties ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        """The number of dimensions (PyTorch's ``dim()``)."""
        return self.data.ndim

    @property
    def device(self) -> device:
        """Always the CPU (numnet computes with NumPy)."""
        return _CPU

    is_cuda = False

    def size(self, dim: int | None = None) -> Any:
        """The shape as a ``numnet.Size`` (a tuple with ``numel()``), or its length along ``dim``."""
        return Size(self.data.shape) if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation (inputs, parameters)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The ``Function`` node that produced this tensor, or None for a leaf."""
        return self._ctx

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    # --- conversions -------------------------------------------------------------------------------------
    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can become a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def _one_element(self, what: str) -> Any:
        if self.data.size != 1:
            raise ValueError(f"{what}: only a one-element tensor can be converted, got shape {self.shape}")
        return self.data.item()

    def __float__(self) -> float:
        return float(self._one_element("float()"))

    def __int__(self) -> int:
        return int(self._one_element("int()"))

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError(
                f"only integer tensors of a single element can be used as an index, got dtype {self.dtype}"
            )
        return int(self._one_element("__index__"))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __complex__(self) -> complex:
        return complex(self._one_element("complex()"))

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data but cut from the graph."""
        return Tensor._wrap(self.data, False)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place."""
        self._ctx, self.requires_grad = None, False
        return self

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (the gradient passes through unchanged)."""
        return _ops.Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad_: dtype {self.data.dtype} cannot require gradients; use a float dtype"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (used to inspect or draw the graph)."""
        self._retains_grad = True
        return self

    def astype(self, dtype: Any) -> Tensor:
        """This tensor in ``dtype``; float ↔ float stays in the graph, to integers or bool it leaves it."""
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind not in "fc":
            return Tensor._wrap(self.data.astype(dtype), False)
        return _ops.Cast.apply(self, dtype=dtype)

    def type(self, dtype: Any = None) -> Any:
        """``type()`` names the tensor type (``"numnet.FloatTensor"``); ``type(dtype)`` converts."""
        if dtype is None:
            return f"numnet.{_TYPE_NAMES.get(self.data.dtype, str(self.data.dtype))}"
        if isinstance(dtype, str) and dtype.startswith(("torch.", "numnet.")):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            key = dtype.split(".", 1)[1]
            if key not in names:
                raise ValueError(f"type(): unknown tensor type {dtype!r}")
            dtype = names[key]
        return self.astype(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def half(self) -> Tensor:
        return self.astype(np.float16)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)``, ``to(other)``: the device must be the CPU."""
        _, dtype = parse_to_args("Tensor.to", *args, **kwargs)
        return self if dtype is None else self.astype(dtype)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        raise ValueError("cuda(): numnet runs on the CPU only (NumPy); leave the tensor where it is")

    def contiguous(self) -> Tensor:
        return self

    # --- printing ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return _format_tensor(self)

    __hash__ = object.__hash__

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles carry the values, never the graph (a copy is a new leaf).
        return {"data": self.data, "grad": self.grad, "requires_grad": self.requires_grad, "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.data, self.grad = state["data"], state["grad"]
        self.requires_grad, self.name = state["requires_grad"], state["name"]
        self._ctx, self._retains_grad = None, False

    # --- backward ----------------------------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        ``grad`` is dL/d(self); it may be omitted for a one-element tensor (it is then 1). The graph is freed
        afterwards, unless ``retain_graph=True`` (needed to call ``backward`` through it again).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no graph; create the leaves with "
                "requires_grad=True (nn.Parameter does) and do not compute it under numnet.no_grad()"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    "backward(): a gradient can be implied only for a one-element output, got shape "
                    f"{self.shape}; reduce it to a scalar (e.g. .sum() or .mean()) or pass grad= of the "
                    "same shape"
                )
            grad = np.array(1, dtype=self.data.dtype) if self.data.ndim == 0 else np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward(): grad has shape {grad.shape} but the tensor has shape {self.shape}"
                )
        run_backward(self, grad, retain_graph)

    # --- operators (each forwards to a Function in numnet.ops) ------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.Add.apply(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.Add.apply(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.Sub.apply(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.Div.apply(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.Pow.apply(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(other, self)

    def __neg__(self) -> Tensor:
        return _ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.Abs.apply(self)

    def __getitem__(self, index: Any) -> Tensor:
        if type(index) is slice and not self.requires_grad and _tape is None and self.data.ndim:
            # x[i:i+1] of a tensor without a graph (a batch of data): the view itself, as GetItem would
            # return it, without a node nobody needs (per-sample training slices twice per step)
            return Tensor._wrap(self.data[index], False)
        return _ops.GetItem.apply(self, index=index)

    # Comparisons give boolean tensors and carry no gradient.
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data < _data(other), False)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data <= _data(other), False)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data > _data(other), False)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data >= _data(other), False)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data == _data(other), False)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._wrap(self.data != _data(other), False)

    def __invert__(self) -> Tensor:
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ needs a bool or integer tensor, got dtype {self.dtype}")
        return Tensor._wrap(~self.data, False)

    def __and__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data & _data(other), False)

    def __or__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data | _data(other), False)

    def __xor__(self, other: Any) -> Tensor:
        return Tensor._wrap(self.data ^ _data(other), False)

    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and bool(np.array_equal(self.data, _data(other)))

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        return bool(np.allclose(self.data, _data(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    # --- in-place operations -----------------------------------------------------------------------------
    def _check_inplace(self, what: str) -> None:
        """Refuse an in-place change that would corrupt a recorded graph (see the class docstring)."""
        if self.requires_grad and _grad_enabled:
            if self._ctx is None:
                raise RuntimeError(_INPLACE_ON_LEAF)
            raise RuntimeError(
                f"{what}: in-place operation on a tensor that is the output of a recorded operation; numnet "
                "does not rewrite graphs in place: write y = y + … (out of place) instead, or do it under "
                "numnet.no_grad()"
            )

    def _adopt(self, result: Tensor, what: str) -> Tensor:
        """Become ``result`` (its values written into ``.data``, its graph node taken over)."""
        if result.shape != self.shape or result.dtype != self.data.dtype:
            raise RuntimeError(
                f"{what}: the result has shape {result.shape} and dtype {result.dtype}, which cannot be "
                f"written in place into a tensor of shape {self.shape} and dtype {self.dtype}"
            )
        np.copyto(self.data, result.data)
        self._ctx, self.requires_grad = result._ctx, result.requires_grad
        return self

    def _inplace(self, ufunc: np.ufunc, op: type[Function], other: Any, what: str) -> Tensor:
        self._check_inplace(what)
        if _grad_enabled and isinstance(other, Tensor) and other.requires_grad:
            # a constant updated from a tensor that requires grad: it joins the graph as op's output,
            # computed from a copy of its old values (which the node may keep for its backward)
            return self._adopt(op.apply(Tensor._wrap(self.data.copy(), False), other), what)
        try:
            ufunc(self.data, _data(other), out=self.data, casting="same_kind")
        except (TypeError, ValueError) as exc:
            raise RuntimeError(
                f"{what}: cannot write the result into this tensor of shape {self.shape} and dtype "
                f"{self.dtype} ({exc})"
            ) from None
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(np.add, _ops.Add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(np.subtract, _ops.Sub, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, _ops.Mul, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(np.true_divide, _ops.Div, other, "/=")

    def __ipow__(self, other: Any) -> Tensor:
        return self._inplace(np.power, _ops.Pow, other, "**=")

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace(np.add, _ops.Add, other if alpha == 1 else other * alpha, "add_")

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace(np.subtract, _ops.Sub, other if alpha == 1 else other * alpha, "sub_")

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, _ops.Mul, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        return self._inplace(np.true_divide, _ops.Div, other, "div_")

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace(np.power, _ops.Pow, exponent, "pow_")

    def fill_(self, value: Any) -> Tensor:
        self._check_inplace("fill_")
        value = _data(value)
        if np.ndim(value) != 0:
            raise RuntimeError(
                f"fill_: the value must be a number or a 0-d tensor, got shape {np.shape(value)}"
            )
        self.data[...] = value
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor."""
        self._check_inplace("copy_")
        if _grad_enabled and isinstance(src, Tensor) and src.requires_grad:
            return self._adopt(src.expand(*self.shape).astype(self.dtype), "copy_")
        try:
            np.copyto(self.data, _data(src), casting="unsafe")
        except ValueError as exc:
            raise RuntimeError(f"copy_: cannot copy into a tensor of shape {self.shape} ({exc})") from None
        return self

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        self._check_inplace("clamp_")
        if min is None and max is None:
            raise ValueError("clamp_: give min, max or both")
        np.clip(self.data, _data(min), _data(max), out=self.data)
        return self

    clip_ = clamp_

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with draws from N(mean, std²) (numnet's seeded generator)."""
        self._check_inplace("normal_")
        self.data[...] = backend.get_rng().normal(mean, std, size=self.data.shape)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        """Fill with draws from U[a, b) (numnet's seeded generator)."""
        self._check_inplace("uniform_")
        self.data[...] = backend.get_rng().uniform(a, b, size=self.data.shape)
        return self

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace("item assignment")
        if _grad_enabled and isinstance(value, Tensor) and value.requires_grad:
            raise RuntimeError(
                "item assignment from a tensor that requires grad is not recorded by numnet; build the "
                "result out of place (numnet.where, numnet.cat) instead"
            )
        self.data[_ops.shape.plain_index(index)] = _data(value)

    # --- element-wise methods ----------------------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    def sin(self) -> Tensor:
        return _ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return _ops.Cos.apply(self)

    def tan(self) -> Tensor:
        return _ops.Tan.apply(self)

    def sinh(self) -> Tensor:
        return _ops.Sinh.apply(self)

    def cosh(self) -> Tensor:
        return _ops.Cosh.apply(self)

    def square(self) -> Tensor:
        return _ops.Square.apply(self)

    def sign(self) -> Tensor:
        return _ops.Sign.apply(self)

    def log1p(self) -> Tensor:
        return _ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        return _ops.Expm1.apply(self)

    def rsqrt(self) -> Tensor:
        return _ops.Rsqrt.apply(self)

    def reciprocal(self) -> Tensor:
        return _ops.Reciprocal.apply(self)

    def neg(self) -> Tensor:
        return _ops.Neg.apply(self)

    def add(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ops.Add.apply(self, other if alpha == 1 else other * alpha)

    def sub(self, other: Any, alpha: Any = 1) -> Tensor:
        return _ops.Sub.apply(self, other if alpha == 1 else other * alpha)

    def mul(self, other: Any) -> Tensor:
        return _ops.Mul.apply(self, other)

    def div(self, other: Any) -> Tensor:
        return _ops.Div.apply(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return _ops.Pow.apply(self, exponent)

    def matmul(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(self, other)

    def mm(self, other: Any) -> Tensor:
        if self.ndim != 2 or np.ndim(_data(other)) != 2:
            raise ValueError(
                f"mm: both operands must be 2-D, got shapes {self.shape} and {np.shape(_data(other))}"
            )
        return _ops.MatMul.apply(self, other)

    def dot(self, other: Any) -> Tensor:
        return _ops.MatMul.apply(self, other)

    def maximum(self, other: Any) -> Tensor:
        return _ops.Maximum.apply(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ops.Minimum.apply(self, other)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit to [min, max]; the bounds may be numbers or tensors (tensor bounds get gradients too)."""
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return _ops.ClampTensor.apply(self, min, max)
        return _ops.Clip.apply(self, low=min, high=max)

    clip = clamp

    def relu(self) -> Tensor:
        return _ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self)

    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        return _ops.Softmax.apply(self, axis=dim if axis is None else axis)

    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        return _ops.LogSoftmax.apply(self, axis=dim if axis is None else axis)

    # --- reductions (``dim``/``keepdim`` as PyTorch; ``axis``/``keepdims`` are accepted as aliases) --------
    def sum(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        axis: Any = None,
        keepdims: Any = None,
        dtype: Any = None,
    ) -> Tensor:
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.astype(dtype)
        return _ops.Sum.apply(x, axis=dim, keepdims=keepdim)

    def mean(
        self,
        dim: Any = None,
        keepdim: bool = False,
        *,
        axis: Any = None,
        keepdims: Any = None,
        dtype: Any = None,
    ) -> Tensor:
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.astype(dtype)
        return _ops.Mean.apply(x, axis=dim, keepdims=keepdim)

    def prod(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None
    ) -> Tensor:
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return _ops.Prod.apply(self, axis=dim, keepdims=keepdim)

    def _extreme(self, op: type[Function], arg: Callable, dim: Any, keepdim: bool, axis: Any, keepdims: Any):
        if isinstance(dim, Tensor):  # max(other): the element-wise maximum, as PyTorch
            return (_ops.Maximum if op is _ops.Max else _ops.Minimum).apply(self, dim)
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        if dim is None or isinstance(dim, (tuple, list)):
            return op.apply(self, axis=dim, keepdims=keepdim)
        values = op.apply(self, axis=dim, keepdims=keepdim)
        return MinMax(values, arg(dim=dim, keepdim=keepdim))

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        """``max()`` the largest element; ``max(dim)`` the named tuple ``(values, indices)``; ``max(other)``
        the element-wise maximum: all as PyTorch."""
        return self._extreme(_ops.Max, self.argmax, dim, keepdim, axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None) -> Any:
        """``min()``, ``min(dim)`` → ``(values, indices)``, ``min(other)``: as ``max``."""
        return self._extreme(_ops.Min, self.argmin, dim, keepdim, axis, keepdims)

    def amax(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None
    ) -> Tensor:
        """The largest values over ``dim`` (all dims when None or ``()``); ties share the gradient."""
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return _ops.Max.apply(self, axis=dim if dim != () else None, keepdims=keepdim)

    def amin(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None
    ) -> Tensor:
        """The smallest values over ``dim`` (all dims when None or ``()``); ties share the gradient."""
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return _ops.Min.apply(self, axis=dim if dim != () else None, keepdims=keepdim)

    def _arg_extreme(self, func: Callable, what: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any):
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        data = self.data
        if dim is None:
            if data.size == 0:
                raise ValueError(f"{what} of an empty tensor")
            index = func(data)
            return Tensor._wrap(np.reshape(index, (1,) * data.ndim) if keepdim else np.asarray(index), False)
        if data.ndim and data.shape[dim] == 0:
            raise ValueError(
                f"{what}: dim {dim} has length 0 in shape {self.shape}; there is nothing to pick"
            )
        out = func(data, axis=dim, keepdims=keepdim) if data.ndim else np.asarray(0)
        return Tensor._wrap(out.astype(np.int64, copy=False), False)

    def argmax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None):
        return self._arg_extreme(np.argmax, "argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None):
        return self._arg_extreme(np.argmin, "argmin", dim, keepdim, axis, keepdims)

    def var(
        self,
        dim: Any = None,
        unbiased: Any = None,
        keepdim: bool = False,
        *,
        correction: Any = None,
        axis: Any = None,
        keepdims: Any = None,
    ) -> Tensor:
        """Variance with ``correction`` (default 1: the sample variance; ``unbiased=False`` means 0)."""
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return _ops.Var.apply(self, axis=dim, keepdims=keepdim, correction=_correction(unbiased, correction))

    def std(
        self,
        dim: Any = None,
        unbiased: Any = None,
        keepdim: bool = False,
        *,
        correction: Any = None,
        axis: Any = None,
        keepdims: Any = None,
    ) -> Tensor:
        """√var (see ``var``)."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return _ops.LogSumExp.apply(self, axis=dim, keepdims=keepdim)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        """The vector p-norm (``p`` = 2 or ``"fro"`` by default, 1, inf, −inf, any number) over ``dim``."""
        if p in ("fro", 2, 2.0):
            return _ops.Norm2.apply(self, axis=dim, keepdims=keepdim)
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p == float("inf"):
            return self.abs().amax(dim, keepdim)
        if p == float("-inf"):
            return self.abs().amin(dim, keepdim)
        if isinstance(p, str):
            raise ValueError(f"norm: p={p!r} is not supported; use 'fro', or a number")
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    def cumsum(self, dim: int, *, axis: Any = None, dtype: Any = None) -> Tensor:
        x = self if dtype is None else self.astype(dtype)
        return _ops.CumSum.apply(x, axis=dim if axis is None else axis)

    def all(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None
    ) -> Tensor:
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(np.all(self.data, axis=dim, keepdims=keepdim), False)

    def any(
        self, dim: Any = None, keepdim: bool = False, *, axis: Any = None, keepdims: Any = None
    ) -> Tensor:
        dim, keepdim = _dims(dim, keepdim, axis, keepdims)
        return Tensor._wrap(np.any(self.data, axis=dim, keepdims=keepdim), False)

    # --- shape -------------------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        return _ops.Reshape.apply(self, shape=_shape(shape))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim`` … ``end_dim`` (inclusive) into one; a 0-d tensor becomes 1-d."""
        return self.reshape(_flattened_shape(self.shape, start_dim, end_dim))

    def unsqueeze(self, dim: int) -> Tensor:
        ndim = self.data.ndim
        if not -ndim - 1 <= dim <= ndim:
            raise ValueError(
                f"unsqueeze: dim {dim} out of range for shape {self.shape} (use {-ndim - 1}…{ndim})"
            )
        dim = dim % (ndim + 1)
        return self.reshape((*self.shape[:dim], 1, *self.shape[dim:]))

    def squeeze(self, dim: Any = None) -> Tensor:
        """Drop dimensions of length 1 (all, or those in ``dim``: others are left as they are, as PyTorch)."""
        shape = self.shape
        if dim is None:
            return self.reshape(tuple(n for n in shape if n != 1))
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        ndim = max(len(shape), 1)
        for d in dims:
            if not -ndim <= d < ndim:
                raise ValueError(f"squeeze: dim {d} out of range for shape {shape}")
        drop = {d % ndim for d in dims}
        return self.reshape(tuple(n for i, n in enumerate(shape) if not (i in drop and n == 1)))

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view to ``sizes`` (−1 keeps a dimension); the gradient is summed back."""
        sizes = _shape(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer dimensions than the tensor's shape {self.shape}")
        target = tuple((self.shape[i - lead] if n == -1 and i >= lead else n) for i, n in enumerate(sizes))
        return _ops.Expand.apply(self, shape=target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        """Tile the tensor ``sizes[i]`` times along dimension ``i`` (as PyTorch's ``repeat``)."""
        return _ops.Repeat.apply(self, repeats=_shape(sizes))

    def transpose(self, *axes: Any) -> Tensor:
        """``transpose(dim0, dim1)`` swaps two dimensions (as PyTorch); ``transpose()`` reverses them all;
        a full permutation (``transpose((2, 0, 1))`` or three or more dims) reorders them (as NumPy)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if len(axes) == 2:
            dim0, dim1 = axes
            order = list(range(self.data.ndim))
            try:
                order[dim0], order[dim1] = order[dim1], order[dim0]
            except IndexError:
                raise ValueError(
                    f"transpose: dims ({dim0}, {dim1}) out of range for shape {self.shape}"
                ) from None
            axes = tuple(order)
        return _ops.Transpose.apply(self, axes=axes or None)

    swapaxes = transpose

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the dimensions: ``x.permute(2, 0, 1)``."""
        return _ops.Transpose.apply(self, axes=_shape(dims))

    def t(self) -> Tensor:
        """Transpose a tensor of at most 2 dimensions (as PyTorch's ``t()``)."""
        if self.ndim > 2:
            raise ValueError(
                f"t() expects a tensor with at most 2 dimensions, got shape {self.shape}; use mT"
            )
        return _ops.Transpose.apply(self, axes=None)

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (PyTorch's ``.T``; for a matrix, its transpose)."""
        return _ops.Transpose.apply(self, axes=None)

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions, got shape {self.shape}")
        return self.transpose(-2, -1)

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (and so on): picks along ``dim``."""
        return _ops.Gather.apply(self, axis=dim, index=_data(index))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where ``mask`` (broadcast to this shape) holds, this tensor elsewhere."""
        mask = np.asarray(_data(mask))
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be a bool tensor, got dtype {mask.dtype}")
        value = _data(value) if not (isinstance(value, Tensor) and value.requires_grad) else value
        filled = _ops.Where.apply(np.broadcast_to(mask, self.shape), value, self)
        return filled if filled.dtype == self.dtype else filled.astype(self.dtype)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        self._check_inplace("masked_fill_")
        self.data[np.broadcast_to(np.asarray(_data(mask)), self.shape)] = _data(value)
        return self

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
        length = self.shape[dim]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(split_size_or_sections)
            if sum(sizes) != length:
                raise ValueError(f"split: sizes {sizes} do not add up to {length}, the length of dim {dim}")
        else:
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
        pieces, start = [], 0
        prefix = (slice(None),) * (dim % self.ndim)
        for n in sizes:
            pieces.append(self[(*prefix, slice(start, start + n))])
            start += n
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """At most ``chunks`` pieces of ⌈length / chunks⌉ along ``dim``."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        return self.split(max(1, -(-self.shape[dim] // chunks)), dim)


_UFUNC_OPS = {
    np.add: "Add",
    np.subtract: "Sub",
    np.multiply: "Mul",
    np.true_divide: "Div",
    np.power: "Pow",
    np.matmul: "MatMul",
    np.maximum: "Maximum",
    np.minimum: "Minimum",
}

_UFUNC_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}

_INPLACE_ON_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."

_TYPE_NAMES = {
    np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor",
    np.dtype(np.int64): "LongTensor",
    np.dtype(np.int32): "IntTensor",
    np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int8): "CharTensor",
    np.dtype(np.uint8): "ByteTensor",
    np.dtype(np.bool_): "BoolTensor",
}


class MinMax(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return, as PyTorch: ``values, indices = x.max(1)``."""

    values: Tensor
    indices: Tensor


def _dims(dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple[Any, bool]:
    """PyTorch's ``dim``/``keepdim`` with NumPy's ``axis``/``keepdims`` accepted as aliases."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis (its alias), not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, bool(keepdim)


def _correction(unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: give unbiased or correction, not both")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _flattened_shape(shape: tuple[int, ...], start_dim: int, end_dim: int) -> tuple[int, ...]:
    """``shape`` with dimensions ``start_dim`` … ``end_dim`` merged (their product, so empty shapes work)."""
    ndim = len(shape)
    if ndim == 0:
        if start_dim not in (0, -1) or end_dim not in (0, -1):
            raise ValueError(f"flatten: start_dim={start_dim}, end_dim={end_dim} do not fit a 0-d tensor")
        return (1,)
    if not (-ndim <= start_dim < ndim and -ndim <= end_dim < ndim):
        raise ValueError(f"flatten: start_dim={start_dim}, end_dim={end_dim} do not fit shape {shape}")
    start, end = start_dim % ndim, end_dim % ndim
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} (shape {shape})")
    return (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])


def _format_tensor(t: Tensor) -> str:
    """``tensor([...], dtype=…, grad_fn=<MulBackward0>)`` as PyTorch prints it (4 decimals, summarised
    past 1,000 elements)."""
    data = t.data
    options: dict[str, Any] = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3}
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)] if data.size else data
        if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
            options.update(precision=0, floatmode="fixed")
        else:
            big = finite.size and (
                np.abs(finite).max() >= 1e8
                or (np.abs(finite[finite != 0]).min(initial=np.inf) < 1e-4 and finite.any())
            )
            options.update(precision=4, floatmode="fixed", suppress_small=False)
            if big:
                options["formatter"] = {"float_kind": lambda v: f"{v:.4e}"}
    options["max_line_width"] = 80
    body = np.array2string(data, **options).replace(", ...,", ",  ...,")  # PyTorch's spacing
    extra = ""
    default = {backend.get_default_dtype(), np.dtype(np.int64), np.dtype(np.bool_)}
    if data.dtype not in default or (data.size == 0 and data.dtype != backend.get_default_dtype()):
        extra += f", dtype=numnet.{data.dtype}"
    if data.size == 0 and data.ndim != 1:
        extra = f", size={tuple(data.shape)}" + extra
    if t._ctx is not None:
        extra += f", grad_fn=<{t._ctx.name}Backward0>"
    elif t.requires_grad:
        extra += ", requires_grad=True"
    return f"tensor({body}{extra})"


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


# ---------------------------------------------------------------------------------------------------------
# The backward engine
# ---------------------------------------------------------------------------------------------------------


def _topological_order(root: Tensor) -> list[Tensor]:
    """Non-leaf tensors of the graph under ``root``, every tensor after the tensors it was computed from."""
    return _topological_order_from([root])


def _topological_order_from(roots: list[Tensor]) -> list[Tensor]:
    """Non-leaf tensors of the graphs under ``roots`` (non-leaf tensors), each after its inputs.

    Iterative depth-first search: each stack entry is a node and an iterator over its inputs, so a node is
    emitted once all its inputs are (a recursive search would hit Python's recursion limit on deep graphs,
    such as an RNN unrolled over a long sequence).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(root._ctx.inputs))]  # type: ignore[union-attr]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if isinstance(parent, Tensor) and parent._ctx is not None and id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, iter(parent._ctx.inputs)))
                    break
            else:  # every input of node is done
                stack.pop()
                order.append(node)
    return order


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting.

    An input broadcast along an axis was used once per position on that axis, so its gradient is the sum
    over that axis (leading axes that broadcasting added, and axes where the input had length 1).
    """
    extra = grad.ndim - len(shape)
    if extra < 0:  # not a broadcast shape: leave it for the caller's shape check to report
        return grad
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def run_backward(root: Tensor, grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (dL/d root) through the graph under ``root`` into the leaves' ``.grad``.

    Most graphs begin as a chain: from the root down, each node passes a gradient to at most one non-leaf
    input (an MLP and its loss is a chain all the way down). Along a chain a node's gradient is complete as
    soon as its single consumer has run, so that part needs neither a topological sort nor a table of
    pending gradients. A node that passes one tensor two gradients (``d * d``, ``h + h``) keeps the chain
    going: that tensor is still its only non-leaf input, so the sum of the two is its complete gradient. At
    the first node that passes gradients to two or more different non-leaf inputs the general walk,
    ``_backward_graph``, takes over the rest: topological order, gradients summed per tensor. Both walks run
    each node through ``_node_backward`` and sum in the same order, so the result is the same, bit for bit.
    """
    # ids of the arrays that already belong to someone: the caller's seed, and every array stored in a
    # .grad during this pass (Add hands one array to both inputs; two tensors must not share a .grad).
    owned = {id(grad)}
    if root._ctx is None:  # a leaf: its gradient is the seed itself
        _accumulate(root, grad, owned)
        return
    node = root
    while True:
        pending = _node_backward(node, grad, retain_graph, owned)
        if len(pending) == 2:
            node, grad = pending
        elif len(pending) == 4 and pending[0] is pending[2]:  # one tensor, two gradients: still a chain
            node, grad = pending[0], pending[1] + pending[3]  # never in place, as in the general walk
        else:  # the chain ends: in leaves only, or at a branch
            if pending:
                _backward_graph(pending, retain_graph, owned)
            return


def _backward_graph(starts: list[Any], retain_graph: bool, owned: set[int]) -> None:
    """The general walk from ``starts`` (``[tensor, grad, tensor, grad, …]``, complete gradients of
    non-leaf tensors): every tensor after all the tensors computed from it, gradients summed per tensor."""
    grads: dict[int, np.ndarray] = {}
    roots: list[Tensor] = []
    for i in range(0, len(starts), 2):
        key = id(starts[i])
        previous = grads.get(key)
        if previous is None:
            roots.append(starts[i])
            grads[key] = starts[i + 1]
        else:  # never in place: backward formulas may hand the same array to several inputs
            grads[key] = previous + starts[i + 1]
    pop, get = grads.pop, grads.get
    for node in reversed(_topological_order_from(roots)):
        node_grad = pop(id(node), None)
        if node_grad is None:  # no gradient reached this node (its consumers did not need one)
            continue
        pending = _node_backward(node, node_grad, retain_graph, owned)
        for i in range(0, len(pending), 2):
            key = id(pending[i])
            previous = get(key)
            grads[key] = pending[i + 1] if previous is None else previous + pending[i + 1]


def _node_backward(node: Tensor, grad: np.ndarray, retain_graph: bool, owned: set[int]) -> list[Any]:
    """Run one node's backward formula with its complete gradient ``grad``.

    Leaf inputs receive their gradients here; the non-leaf ones are returned as ``[tensor, grad, …]`` (each
    gradient already summed down to its tensor's shape) for the caller to pass on.
    """
    ctx = node._ctx
    if type(ctx) is _FreedGraph:
        raise RuntimeError(
            f"backward(): the graph through {ctx.name} was already freed by an earlier backward(); "
            "run the forward pass again, or call backward(retain_graph=True) the first time"
        )
    if node._retains_grad:
        _accumulate(node, grad, owned)
    input_grads = ctx.backward(grad)  # type: ignore[union-attr]
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    inputs, needs = ctx.inputs, ctx.needs_input_grad  # type: ignore[union-attr]
    if len(input_grads) != len(inputs):
        raise ValueError(
            f"{ctx.name}.backward returned {len(input_grads)} gradient(s) for {len(inputs)} input(s)"
        )
    pending: list[Any] = []
    for i, parent_grad in enumerate(input_grads):
        if parent_grad is None or not needs[i]:
            continue
        parent = inputs[i]
        data = parent.data
        if parent_grad.shape != data.shape:
            parent_grad = _fit_shape(parent_grad, data.shape, ctx)  # type: ignore[arg-type]
        if parent._ctx is not None:
            pending.append(parent)
            pending.append(parent_grad)
        elif (
            parent.grad is None
            and type(parent_grad) is np.ndarray
            and parent_grad.base is None
            and parent_grad.dtype is data.dtype
            and id(parent_grad) not in owned
            and parent_grad.flags.writeable
        ):  # the common case, inlined: a fresh array becomes the leaf's .grad as it is
            owned.add(id(parent_grad))
            parent.grad = Tensor._wrap(parent_grad, False)  # .grad is a Tensor, as PyTorch's
        else:
            _accumulate(parent, parent_grad, owned)
    if not retain_graph:
        node._ctx = _FREED.get(type(ctx)) or _freed_marker(type(ctx))
    return pending


def _fit_shape(grad: np.ndarray, shape: tuple[int, ...], ctx: Function) -> np.ndarray:
    """Undo broadcasting (see ``unbroadcast``); a shape that still differs is a bug in ``ctx.backward``."""
    fitted = unbroadcast(grad, shape)
    if fitted.shape != shape:
        raise RuntimeError(
            f"{ctx.name}.backward returned a gradient of shape {grad.shape} for an input of shape {shape}"
        )
    return fitted


_FREED: dict[type, _FreedGraph] = {}


def _freed_marker(cls: type) -> _FreedGraph:
    """One shared marker per operation type: freeing a node costs a dict lookup, not an allocation."""
    marker = _FREED.get(cls)
    if marker is None:
        marker = _FREED[cls] = _FreedGraph(cls.__name__)
    return marker


def _accumulate(t: Tensor, grad: np.ndarray, owned: set[int]) -> None:
    """Add ``grad`` into ``t.grad``, in ``t``'s dtype.

    ``.grad`` is a Tensor (as PyTorch's) whose array is the user's to modify in place (``w.grad.zero_()``,
    optimisers, gradient clipping), so a new ``.grad`` always wraps an ndarray of its own: never the
    caller's seed, a view of another array, a read-only broadcast, or an array that another tensor's
    ``.grad`` already holds (those are copied). Accumulating keeps the same ``.grad`` Tensor.
    """
    dtype = t.data.dtype
    previous = t.grad
    if previous is not None:
        total = _data(previous) + (grad if grad.dtype == dtype else grad.astype(dtype))
        if type(total) is not np.ndarray:  # 0-d + 0-d gives a NumPy scalar: keep .grad an array of its own
            total = np.asarray(total)
        if type(previous) is Tensor:
            previous.data = total
        else:  # an ndarray put there by hand: wrapped from now on
            t.grad = Tensor._wrap(total, False)
    else:
        if type(grad) is not np.ndarray or grad.dtype != dtype or grad.base is not None or id(grad) in owned:
            grad = np.array(grad, dtype=dtype)
        elif not grad.flags.writeable:
            grad = grad.copy()
        owned.add(id(grad))
        t.grad = Tensor._wrap(grad, False)


# ---------------------------------------------------------------------------------------------------------
# Creation helpers
# ---------------------------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """Make a tensor (a copy of ``data``), as ``torch.tensor``: the same dtype policy as ``Tensor``."""
    check_device("tensor", device)
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)):
        return Tensor(np.array(_to_array(data, None)), requires_grad=requires_grad)
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


as_tensor = tensor


def _shape(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(operator.index(n) for n in shape)


def _dtype(dtype: Any) -> np.dtype:
    return backend.get_default_dtype() if dtype is None else np.dtype(dtype)


def _checked_shape(where: str, shape: Sequence[Any]) -> tuple[int, ...]:
    try:
        dims = _shape(shape)
    except TypeError:
        raise TypeError(f"{where}: the size must be integers, got {shape!r}") from None
    if any(n < 0 for n in dims):
        raise ValueError(f"{where}: negative dimension in size {dims}")
    return dims


def _factory(where: str, make: Callable, shape: Sequence[Any], dtype: Any, device: Any, requires_grad: bool):
    check_device(where, device)
    return Tensor(make(_checked_shape(where, shape), _dtype(dtype)), requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory("zeros", np.zeros, shape, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory("ones", np.ones, shape, dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised values (here: zeros, which cost NumPy no more than ``np.empty`` on fresh memory)."""
    return _factory("empty", np.zeros, shape, dtype, device, requires_grad)


def full(
    size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Every element ``fill_value``; without ``dtype``, the value decides it (as PyTorch: float → the
    default float dtype, int → int64, bool → bool)."""
    if dtype is None:
        dtype = result_type(_data(fill_value))
    return _factory(
        "full", lambda s, d: np.full(s, _data(fill_value), dtype=d), (size,), dtype, device, requires_grad
    )


def eye(
    n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """The n×m identity matrix (m = n by default)."""
    m = n if m is None else m
    return _factory("eye", lambda s, d: np.eye(s[0], s[1], dtype=d), ((n, m),), dtype, device, requires_grad)


def randn(
    *shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Standard normal draws from numnet's seeded generator."""
    return _factory(
        "randn",
        lambda s, d: backend.get_rng().standard_normal(s).astype(d, copy=False),
        shape,
        dtype,
        device,
        requires_grad,
    )


def rand(
    *shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, generator: Any = None
) -> Tensor:
    """Uniform draws in [0, 1) from numnet's seeded generator."""
    return _factory(
        "rand",
        lambda s, d: backend.get_rng().random(s).astype(d, copy=False),
        shape,
        dtype,
        device,
        requires_grad,
    )


def randint(
    low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None, device: Any = None
) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` starts at 0); int64 unless ``dtype`` says."""
    if high is None:
        low, high = 0, low
    dtype = np.int64 if dtype is None else dtype
    return _factory(
        "randint",
        lambda s, d: backend.get_rng().integers(low, high, size=s).astype(d),
        (size,),
        dtype,
        device,
        False,
    )


def randperm(n: int, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of 0 … n−1 (int64)."""
    check_device("randperm", device)
    return Tensor(backend.get_rng().permutation(n).astype(np.int64 if dtype is None else dtype))


def _like(where: str, make: Callable, input: Tensor, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    check_device(where, device)
    dtype = np.dtype(dtype) if dtype is not None else _data(input).dtype
    return Tensor(make(np.shape(_data(input)), dtype), requires_grad=requires_grad)


def zeros_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("zeros_like", np.zeros, input, dtype, device, requires_grad)


def ones_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("ones_like", np.ones, input, dtype, device, requires_grad)


def empty_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("empty_like", np.zeros, input, dtype, device, requires_grad)


def full_like(
    input: Tensor, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    return _like(
        "full_like", lambda s, d: np.full(s, _data(fill_value), dtype=d), input, dtype, device, requires_grad
    )


def rand_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(
        "rand_like",
        lambda s, d: backend.get_rng().random(s).astype(d, copy=False),
        input,
        dtype,
        device,
        requires_grad,
    )


def randn_like(input: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like(
        "randn_like",
        lambda s, d: backend.get_rng().standard_normal(s).astype(d, copy=False),
        input,
        dtype,
        device,
        requires_grad,
    )


def arange(*args: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``np.arange``; integer arguments give int64, float arguments the default dtype (as PyTorch)."""
    check_device("arange", device)
    args = tuple(_data(a) for a in args)
    data = np.arange(*args, dtype=dtype)
    if dtype is None:
        if data.dtype.kind == "f":
            data = data.astype(backend.get_default_dtype(), copy=False)
        elif data.dtype.kind in "iu":
            data = data.astype(np.int64, copy=False)
    return Tensor(data, requires_grad=requires_grad)


def linspace(
    start: Any, end: Any, steps: int, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default float dtype)."""
    check_device("linspace", device)
    if operator.index(steps) < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    data = np.linspace(_data(start), _data(end), steps, dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def logspace(
    start: Any,
    end: Any,
    steps: int,
    base: float = 10.0,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``base`` to the powers ``linspace(start, end, steps)``."""
    check_device("logspace", device)
    if operator.index(steps) < 0:
        raise ValueError(f"logspace: steps must be non-negative, got {steps}")
    data = np.logspace(_data(start), _data(end), steps, base=base, dtype=np.float64).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an array without copying it (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def iter_graph(root: Tensor) -> Iterator[Tensor]:
    """Every non-leaf tensor under ``root``, inputs before outputs (for drawing and inspecting the graph)."""
    if root._ctx is None:
        return iter(())
    return iter(_topological_order(root))


from numnet import ops as _ops  # noqa: E402  (ops import Tensor and Function from this module)
