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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

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
    arguments and on what ``forward`` stored.
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
        return f"<{self.name}>"


class _FreedGraph(Function):
    """Stands where a node was once its graph has been freed by ``backward()``."""

    inputs = ()

    def __init__(self, name: str) -> None:
        self.freed_name = name

    @property
    def name(self) -> str:
        return self.freed_name


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
    arrays (and NumPy scalars) keep their dtype. ``.grad`` is a NumPy array of the same shape, filled by
    ``backward()`` on leaf tensors that require grad (and on others after ``retain_grad()``).
    """

    __slots__ = ("__weakref__", "_ctx", "_retains_grad", "data", "grad", "name", "requires_grad")
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        array = _to_array(data, dtype)
        if requires_grad and array.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "pass dtype=np.float32 (or float64)"
            )
        self.data: np.ndarray = array
        self.grad: np.ndarray | None = None
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

    def size(self, dim: int | None = None) -> Any:
        """The shape (as PyTorch's ``size()``), or its length along ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

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

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can become a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data but cut from the graph."""
        return Tensor._wrap(self.data, False)

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
        from numnet.ops.shape import Cast

        return Cast.apply(self, dtype=np.dtype(dtype))

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="tensor(", threshold=50)
        extra = ""
        if self.data.dtype != backend.get_default_dtype() and self.data.dtype.kind == "f":
            extra += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{self._ctx.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

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

    # --- methods ---------------------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.Min.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        return Tensor._wrap(self.data.argmax(axis=axis), False)

    def argmin(self, axis: int | None = None) -> Tensor:
        return Tensor._wrap(self.data.argmin(axis=axis), False)

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0) -> Tensor:
        return self.reshape(*self.shape[:start_dim], -1)

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

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the dimensions: ``x.permute(2, 0, 1)``."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return _ops.Transpose.apply(self, axes=dims)

    @property
    def T(self) -> Tensor:
        return _ops.Transpose.apply(self, axes=None)

    def exp(self) -> Tensor:
        return _ops.Exp.apply(self)

    def log(self) -> Tensor:
        return _ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return _ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return _ops.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _ops.Clip.apply(self, low=min, high=max)

    clamp = clip

    def relu(self) -> Tensor:
        return _ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    def sigmoid(self) -> Tensor:
        return _ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        return _ops.Tanh.apply(self)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.LogSoftmax.apply(self, axis=axis)


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
    pending gradients. At the first node that passes gradients to two or more non-leaf inputs (or to one
    tensor twice) the general walk, ``_backward_graph``, takes over the rest: topological order, gradients
    summed per tensor. Both walks run each node through ``_node_backward``, so the result is the same.
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
        if len(pending) != 2:  # the chain ends: in leaves only, or at a branch
            if pending:
                _backward_graph(pending, retain_graph, owned)
            return
        node, grad = pending


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
            parent.grad = parent_grad
        else:
            _accumulate(parent, parent_grad, owned)
    if not retain_graph:
        node._ctx = _freed_marker(type(ctx))
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

    ``.grad`` is the user's to modify in place (optimisers, gradient clipping), so a new ``.grad`` is always
    an ndarray of its own: never the caller's seed, a view of another array, a read-only broadcast, or an
    array that another tensor's ``.grad`` already holds (those are copied).
    """
    dtype = t.data.dtype
    if t.grad is not None:
        held = t.grad if type(t.grad) is np.ndarray else t.grad.data  # .grad may be held as a Tensor
        t.grad = held + (grad if grad.dtype == dtype else grad.astype(dtype))
    else:
        if type(grad) is not np.ndarray or grad.dtype != dtype or grad.base is not None or id(grad) in owned:
            grad = np.array(grad, dtype=dtype)
        elif not grad.flags.writeable:
            grad = grad.copy()
        owned.add(id(grad))
        t.grad = grad


# ---------------------------------------------------------------------------------------------------------
# Creation helpers
# ---------------------------------------------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Make a tensor (a copy of ``data``), as ``torch.tensor``: the same dtype policy as ``Tensor``."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)):
        return Tensor(np.array(_to_array(data, None)), requires_grad=requires_grad)
    return Tensor(np.array(data, dtype=dtype), requires_grad=requires_grad)


def _shape(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _dtype(dtype: Any) -> np.dtype:
    return backend.get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws from numnet's seeded generator."""
    data = backend.get_rng().standard_normal(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform draws in [0, 1) from numnet's seeded generator."""
    data = backend.get_rng().random(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def arange(*args: Any, dtype: Any = None) -> Tensor:
    """``np.arange``; integer arguments give int64, float arguments the default dtype (as PyTorch)."""
    data = np.arange(*args, dtype=dtype)
    if dtype is None and data.dtype == np.float64:
        data = data.astype(backend.get_default_dtype(), copy=False)
    return Tensor(data)


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
