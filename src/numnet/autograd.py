"""PyTorch-style autograd: custom functions with a ``ctx``; ``grad`` (gradients, leaving ``.grad`` alone).

``numnet.autograd.Function`` is PyTorch's interface, for code written against it::

    class Exp(numnet.autograd.Function):
        @staticmethod
        def forward(ctx, x):            # x: a Tensor (computed without recording a graph)
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):  # one gradient (Tensor or None) per input of forward
            (y,) = ctx.saved_tensors
            return grad_output * y

    y = Exp.apply(x)

It sits beside ``numnet.Function``, the array-level base class of numnet's own operations (which stays as it
is: its ``forward``/``backward`` take and return NumPy arrays, with no ``ctx`` and no wrapping cost). Each
``apply`` becomes one node of numnet's graph, named ``<ExpBackward>`` as PyTorch names it. One output tensor
per forward (a tuple of outputs raises ``NotImplementedError``); backward must return one entry per input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from numnet import tensor as _tensor
from numnet.tensor import Tensor, no_grad, run_backward

__all__ = ["Function", "FunctionCtx", "grad"]


class FunctionCtx:
    """What ``forward`` and ``backward`` of a ``numnet.autograd.Function`` share (PyTorch's ``ctx``).

    ``save_for_backward(*tensors)`` keeps tensors for ``backward`` (read them as ``saved_tensors``);
    ``needs_input_grad`` says, per input of ``forward``, whether it wants a gradient; any other attribute
    may be set freely (``ctx.scale = 2``).
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Any, ...] = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Any) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward takes tensors (or None), got {type(t).__name__}; keep other values "
                    "as attributes of ctx (ctx.value = …)"
                )
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """Accepted for compatibility: numnet's outputs of integer dtype carry no gradient anyway."""

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _CustomNode(_tensor.Function):
    """The graph node an ``autograd.Function.apply`` call leaves: it calls the user's ``backward``."""

    def backward(self, grad: np.ndarray) -> tuple[Any, ...]:
        results = self.user_function.backward(self.ctx, Tensor._wrap(grad, False))
        if not isinstance(results, tuple):
            results = (results,)
        if len(results) != len(self.inputs):
            raise RuntimeError(
                f"{self.user_function.__name__}.backward returned {len(results)} gradient(s), but forward "
                f"took {len(self.inputs)} input(s); return one per input (None for those without one)"
            )
        return tuple(
            None if g is None else np.asarray(g.data if isinstance(g, Tensor) else g) for g in results
        )

    @property
    def name(self) -> str:
        return self.user_function.__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


class Function:
    """Base class of PyTorch-style custom functions: ``@staticmethod forward(ctx, *args)`` and
    ``@staticmethod backward(ctx, *grad_outputs)``, called through ``apply`` (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError("a numnet.autograd.Function subclass must define forward(ctx, …)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError("a numnet.autograd.Function subclass must define backward(ctx, …)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = _tensor.is_grad_enabled() and any(needs)
        ctx = FunctionCtx(needs if record else (False,) * len(needs))
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {len(out)} outputs; numnet's custom functions return one "
                "tensor (return the pieces stacked, or write one function per output)"
            )
        if not isinstance(out, Tensor):
            out = Tensor(out)
        if record and out.dtype.kind in "fc":
            node = object.__new__(_CustomNode)
            node.user_function, node.ctx = cls, ctx
            node.inputs, node.needs_input_grad = args, ctx.needs_input_grad
            out = Tensor._wrap(out.data, True)
            out._ctx = node
        return out


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _leaves(outputs: Sequence[Tensor]) -> list[Tensor]:
    """Every leaf that requires grad in the graphs under ``outputs`` (the tensors backward would touch)."""
    seen: set[int] = set()
    leaves: list[Tensor] = []
    for out in outputs:
        nodes = [out, *_tensor.iter_graph(out)]
        for node in nodes:
            ctx = node._ctx
            for parent in () if ctx is None else ctx.inputs:
                if isinstance(parent, Tensor) and parent._ctx is None and id(parent) not in seen:
                    seen.add(id(parent))
                    leaves.append(parent)
        if out._ctx is None and id(out) not in seen:
            seen.add(id(out))
            leaves.append(out)
    return leaves


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not stored in ``.grad``).

    ``grad_outputs`` weights each output (needed for outputs with more than one element, as for
    ``backward``). The graph is freed afterwards unless ``retain_graph=True``. Every ``.grad`` in the graph
    is left as it was. An input the outputs do not depend on raises, unless ``allow_unused=True`` (it then
    gets None, or zeros with ``materialize_grads=True``). ``create_graph=True`` (higher-order gradients)
    raises ``NotImplementedError``: numnet's backward formulas compute with arrays, not recorded tensors.
    """
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): numnet's backward formulas run on NumPy arrays, so gradients "
            "of gradients are not recorded; use numnet.gradcheck or finite differences for second derivatives"
        )
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported by numnet")
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    weights = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(weights) != len(outputs):
        raise ValueError(f"autograd.grad: {len(weights)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} is not a tensor that requires grad")
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(
                f"autograd.grad: output {i} does not require grad and has no graph (was it computed under "
                "no_grad, or from inputs that do not require grad?)"
            )
    retain = bool(retain_graph)
    touched = {id(t): t for t in _leaves(outputs)}
    touched.update({id(x): x for x in inputs})
    saved = {key: (t.grad, t._retains_grad) for key, t in touched.items()}
    try:
        for t in touched.values():
            t.grad = None
        for x in inputs:
            x._retains_grad = True
        for k, (out, weight) in enumerate(zip(outputs, weights, strict=True)):
            keep = retain or k < len(outputs) - 1
            if weight is None:
                if out.data.size != 1:
                    raise RuntimeError(
                        f"autograd.grad: output {k} has shape {out.shape}; pass grad_outputs for outputs "
                        "with more than one element"
                    )
                seed = np.ones_like(out.data)
            else:
                seed = np.array(weight.data if isinstance(weight, Tensor) else weight, dtype=out.dtype)
                if seed.shape != out.shape:
                    raise ValueError(
                        f"autograd.grad: grad_outputs[{k}] has shape {seed.shape}, output {k} has {out.shape}"
                    )
            run_backward(out, seed, keep)
        results = []
        for i, x in enumerate(inputs):
            g = x.grad
            if g is None:
                if not allow_unused and not materialize_grads:
                    raise RuntimeError(
                        f"autograd.grad: input {i} was not used to compute the outputs; pass "
                        "allow_unused=True to get None for it"
                    )
                g = Tensor(np.zeros_like(x.data)) if materialize_grads else None
            results.append(g)
    finally:
        for key, t in touched.items():
            t.grad, t._retains_grad = saved[key]
    return tuple(results)
