"""Trace-and-replay training steps: the same NumPy calls as eager mode, without the framework around them.

::

    step = numnet.compiled.compile_step(model, loss_fn, optimizer)
    for xb, yb in loader:
        loss = step(xb, yb)  # = optimizer.zero_grad(); loss_fn(model(xb), yb).backward(); optimizer.step()

The first call runs the step eagerly while recording every operation it applies (its ``Function`` node,
inputs, options and output): that record is the step's static graph, written out once as a plain Python
function (``step.source`` shows it). Later calls with inputs of the same shapes and dtypes run that
function: each recorded node's ``forward`` is called on the new arrays in the recorded order, then each
``backward`` in reverse; then the leaves' gradients are stored in their ``.grad`` and ``optimizer.step()``
runs as usual (plain SGD of a small model, the tiny nets' case, takes one update of one flat buffer
instead, with the same numbers: see ``_FlatSGD``). Modules, ``Function.apply``, argument checks outside the
ops, tensor wrapping and the graph walk are skipped; the ops' own forward and backward formulas are the very
same code, so the numbers are the same as eager mode's, bit for bit (the tests check this).

What a replay assumes, as ``torch.jit.trace`` does: the step applies the same operations every time. Python
control flow that depends on the data, or module code with side effects outside the ops, is not replayed.
So ``compile_step`` refuses models that hold buffers (BatchNorm counts its batches in the module), and
inputs that the step converts (a float64 target for a float32 model: pass the data in the model's dtype).
A change of input shape or dtype, or of ``model.training``, traces the step again. Random ops (Dropout)
draw from numnet's generator in the same order as eager mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from numnet.nn.module import Module
from numnet.optim.optimizer import Optimizer
from numnet.optim.sgd import SGD, plain_update
from numnet.tensor import Tensor, _accumulate, _fit_shape, _record_tape, is_grad_enabled

# Kinds of operand sources in a recorded step: an array computed in the step (or the step's x, y), a tensor
# whose .data is read at each replay (a parameter), a constant.
_SLOT, _TENSOR, _CONST = 0, 1, 2
_MAX_PLANS = 8  # recorded steps kept per CompiledStep (one per input shape and mode)
# Parameters of at most this many elements in all take plain SGD as one update of one flat buffer
# (_FlatSGD): there the per-parameter calls are the cost; above it the copy of the gradients into the
# buffer would be one more pass over memory than the per-parameter update makes.
_FLAT_MAX_ELEMENTS = 1 << 16
_UNTRIED = object()


class _Plan(NamedTuple):
    """One recorded step, as the Python function that replays it (``run(x, y) → (loss, prediction or None,
    the leaves' gradients)``) and that function's source."""

    run: Callable[[np.ndarray, np.ndarray], tuple[Any, Any, tuple[Any, ...]]]
    source: str
    leaves: tuple[Tensor, ...]  # the tensors whose gradients ``run`` returns, in that order
    # where the model's output comes from, (_SLOT, slot) or (_TENSOR, t), and whether it must be copied
    prediction: tuple[int, Any, bool] | None


class CompiledStep:
    """A training step ``(x, y) → loss`` recorded once and replayed; see the module docstring.

    ``model(x)`` gives the prediction and ``loss_fn(prediction, y)`` a one-element loss tensor (any callable:
    ``lambda z, t: 0.5 * mse(z, t)`` works). Each call zeroes the optimizer's gradients, computes the loss
    and its gradients and takes one ``optimizer.step()``; it returns the loss as a tensor without a graph.
    ``prediction`` then holds that step's ``model(x)`` (a tensor without a graph), for metrics that need
    more than the loss (per-sample errors, accuracy) without a second forward pass.
    """

    def __init__(self, model: Module, loss_fn: Callable[[Any, Any], Tensor], optimizer: Optimizer) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"compile_step: model must be an nn.Module, got {type(model).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"compile_step: optimizer must be an optim.Optimizer, got {type(optimizer).__name__}"
            )
        if not callable(loss_fn):
            raise TypeError(f"compile_step: loss_fn must be callable, got {type(loss_fn).__name__}")
        buffers = [name for name, _ in model.named_buffers()]
        if buffers:
            raise ValueError(
                f"compile_step: the model holds buffers ({', '.join(buffers[:3])}), state that its modules "
                "update outside the recorded operations (BatchNorm); train it eagerly instead"
            )
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self._plans: dict[tuple[Any, ...], _Plan] = {}
        # plain SGD over one flat buffer: set up on the first replay after each trace (None: it does not fit)
        self._flat: Any = _UNTRIED
        self.traces = 0  # how many times the step was recorded (once per input shape and mode)
        self.prediction: Tensor | None = None  # model(x) of the last call

    def __call__(self, x: Any, y: Any) -> Tensor:
        self.prediction = None  # until this call has one (a call that raises leaves none)
        xa = x.data if isinstance(x, Tensor) else np.asarray(x)
        ya = y.data if isinstance(y, Tensor) else np.asarray(y)
        key = (xa.shape, xa.dtype, ya.shape, ya.dtype, self.model.training, is_grad_enabled())
        plan = self._plans.get(key)
        if plan is None:
            return self._trace(key, xa, ya)
        return self._replay(plan, xa, ya)

    def _updated_tensors(self) -> list[Tensor]:
        """Every tensor the optimizer updates (its parameter groups' ``params``)."""
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    # --- recording -----------------------------------------------------------------------------------------
    def _trace(self, key: tuple[Any, ...], xa: np.ndarray, ya: np.ndarray) -> Tensor:
        if not is_grad_enabled():
            raise RuntimeError(
                "compile_step: a training step needs gradients; do not call it under no_grad()"
            )
        x_t, y_t = Tensor._wrap(xa, False), Tensor._wrap(ya, False)
        tape: list[Any] = []
        self.optimizer.zero_grad()
        _record_tape(tape)
        try:
            prediction = self.model(x_t)
            loss = self.loss_fn(prediction, y_t)
        finally:
            _record_tape(None)
        if not isinstance(loss, Tensor) or loss.data.size != 1 or loss._ctx is None:
            raise ValueError("compile_step: loss_fn must return a one-element tensor computed from the model")
        plan = self._plan(tape, x_t, y_t, loss, prediction)
        if plan.prediction is not None:
            self.prediction = _before_update(prediction.data, plan.prediction[2])
        loss.backward()
        self.optimizer.step()
        if len(self._plans) >= _MAX_PLANS:  # shapes that keep changing: forget the oldest
            del self._plans[next(iter(self._plans))]
        self._plans[key] = plan
        self.traces += 1
        self._flat = _UNTRIED
        return Tensor._wrap(loss.data, False)

    def _plan(self, tape: list[Any], x_t: Tensor, y_t: Tensor, loss: Tensor, prediction: Any) -> _Plan:
        """Turn the recorded operations into the replay's forward and backward lists."""
        slot_of = {id(x_t): 0, id(y_t): 1}
        data_shapes = {x_t.data.shape, y_t.data.shape}
        forward: list[tuple[Any, tuple[Any, ...], dict[str, Any], int]] = []
        backward: list[tuple[Any, int, list[tuple[int, int, Any, tuple[int, ...]]]]] = []
        for fn, inputs, kwargs, out in tape:
            sources = []
            for value in inputs:
                sources.append(self._source(value, slot_of, x_t, y_t, data_shapes, fn))
            for name, value in kwargs.items():
                if isinstance(value, np.ndarray) and value.shape in data_shapes:
                    raise ValueError(f"compile_step: {fn.name}'s option {name!r} looks derived from the data")
            out_slot = slot_of[id(out)] = len(slot_of)
            forward.append((fn.forward, tuple(sources), kwargs, out_slot))
            if out._ctx is fn:  # recorded in the graph: it has a backward
                targets = []
                for i, ((kind, ref), needed) in enumerate(zip(sources, fn.needs_input_grad, strict=True)):
                    if needed:
                        targets.append((i, kind, ref, inputs[i].data.shape))
                backward.append((fn, out_slot, targets))
        if id(loss) not in slot_of:
            raise ValueError("compile_step: loss_fn's result was not computed by numnet operations")
        seed = np.ones(loss.data.shape, dtype=loss.data.dtype)
        seed.flags.writeable = False  # shared by every replay: no backward may write into it
        source = None
        if isinstance(prediction, Tensor):  # computed in the step, or a tensor it returned as it is
            slot = slot_of.get(id(prediction))
            # memory that the step's update may change (a parameter, a view of one) is copied at every call;
            # the usual fresh output of the last op is kept as it is
            shared = any(np.may_share_memory(prediction.data, p.data) for p in self._updated_tensors())
            source = (_SLOT, slot, shared) if slot is not None else (_TENSOR, prediction, True)
        return _generate(forward, backward[::-1], slot_of[id(loss)], source, seed)

    @staticmethod
    def _source(
        value: Any, slot_of: dict[int, int], x_t: Tensor, y_t: Tensor, data_shapes: set[Any], fn: Any
    ):
        if isinstance(value, Tensor):
            slot = slot_of.get(id(value))
            if slot is not None:
                return (_SLOT, slot)
            if value._ctx is not None:
                raise ValueError(
                    f"compile_step: {fn.name} uses a tensor computed before the step; every operation of the "
                    "step must start from the model's parameters and the step's inputs"
                )
            if value.requires_grad or value.data.shape not in data_shapes:
                return (_TENSOR, value)  # a parameter (or constant): its .data is read at every replay
            value = value.data
        if isinstance(value, np.ndarray):
            if value is x_t.data:
                return (_SLOT, 0)
            if value is y_t.data:
                return (_SLOT, 1)
            if value.shape in data_shapes:
                raise ValueError(
                    f"compile_step: {fn.name} gets an array shaped like the step's input {value.shape} that "
                    "is not the input itself (was it converted, e.g. float64 → float32?); pass x and y in "
                    "the dtypes the model uses"
                )
        return (_CONST, value)

    # --- replay -------------------------------------------------------------------------------------------
    def _replay(self, plan: _Plan, xa: np.ndarray, ya: np.ndarray) -> Tensor:
        loss, prediction, leaf_grads = plan.run(xa, ya)
        if plan.prediction is not None:
            kind, ref, copy = plan.prediction
            self.prediction = _before_update(prediction if kind == _SLOT else ref.data, copy)
        flat = self._flat
        if flat is _UNTRIED:  # the first replay since a trace: does the optimizer fit the flat update?
            flat = self._flat = _FlatSGD.set_up(self.optimizer, plan.leaves)
        if flat is not None:
            if flat.holds(self.optimizer) and flat.step(plan.leaves, leaf_grads):
                return Tensor._wrap(loss, False)
            self._flat = None  # no longer fits: the general path until the next trace looks again
        self.optimizer.zero_grad()
        owned: set[int] = set()
        for leaf, g in zip(plan.leaves, leaf_grads, strict=True):
            if g is not None:  # stored as the engine stores it: a fresh array as it is, else copied or added
                _accumulate(leaf, g, owned)
        self.optimizer.step()
        return Tensor._wrap(loss, False)

    @property
    def source(self) -> str:
        """The Python function that replays the last recorded step: each op's forward, then each backward in
        reverse, the gradients gathered as the engine gathers them (empty before the first call)."""
        return next(reversed(self._plans.values())).source if self._plans else ""


class _FlatSGD:
    """Plain SGD (one group, no momentum, weight decay or maximize) of small parameters as one update of one
    flat buffer: ``p ← p − lr·g`` for all of them in two NumPy calls instead of two per parameter.

    Set up on a replay (the recorded step has run eagerly once), it moves every parameter's values into one
    contiguous array and makes each ``p.data`` a view of it (the same numbers; ``p.data`` becomes another
    array object, as PyTorch's ``flatten_parameters`` does). Each step copies the leaves' gradients into a
    second flat array, whose views are the parameters' ``.grad`` from then on (one ``.grad`` array per
    parameter, overwritten by the next step, as PyTorch's ``zero_grad(set_to_none=False)`` reuses them),
    and updates the values array with ``optim.sgd.plain_update``, the function eager SGD calls for each
    parameter: element by element the same formula and dtype, so the numbers are eager SGD's, bit for bit.
    On the fit demo's 9 stacked 1-128-1 nets (3,465 values) zero_grad, storing the gradients and the update
    took 9.9 µs of a 36.6 µs step.

    Anything that no longer fits (another optimizer type or group layout, options no longer plain, a
    parameter whose ``.data`` was replaced, a gradient that did not come) leaves the step to the general path:
    the views are updated in place there as any array is.
    """

    def __init__(self, optimizer: SGD, params: list[Tensor]) -> None:
        self.group = optimizer.param_groups[0]
        self.params = params
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.values = np.empty(bounds[-1], dtype=dtype)
        self.grads = np.empty(bounds[-1], dtype=dtype)
        self.scratch = np.empty(bounds[-1], dtype=dtype)
        self.grad_views: list[np.ndarray] = []
        self.grad_tensors: list[Tensor] = []
        for p, start, stop in zip(params, bounds[:-1], bounds[1:], strict=True):
            shape = p.data.shape
            self.values[start:stop] = p.data.reshape(-1)
            p.data = self.values[start:stop].reshape(shape)
            view = self.grads[start:stop].reshape(shape)
            self.grad_views.append(view)
            self.grad_tensors.append(Tensor._wrap(view, False))
        self.data_views = [p.data for p in params]
        self.position = {id(p): i for i, p in enumerate(params)}
        self.leaves: tuple[Tensor, ...] = ()  # the leaves (a plan's order) that leaf_views follows
        self.leaf_views: list[np.ndarray] = []
        self.lr = float(self.group["lr"])
        self.rate = np.array(self.lr, dtype=dtype)

    @classmethod
    def set_up(cls, optimizer: Optimizer, leaves: tuple[Tensor, ...]) -> _FlatSGD | None:
        """The flat update for ``optimizer`` if it is a plain SGD whose parameters are exactly the recorded
        step's leaves, small, distinct and of one floating dtype; else None."""
        if type(optimizer) is not SGD or len(optimizer.param_groups) != 1:
            return None
        group = optimizer.param_groups[0]
        params = list(group["params"])
        if not SGD.is_plain(group) or not params or len({id(p) for p in params}) != len(params):
            return None
        if {id(p) for p in params} != {id(t) for t in leaves} or len(leaves) != len(params):
            return None
        arrays = [p.data for p in params]
        dtype = arrays[0].dtype
        if dtype.kind != "f" or any(type(a) is not np.ndarray or a.dtype != dtype for a in arrays):
            return None
        if sum(a.size for a in arrays) > _FLAT_MAX_ELEMENTS:
            return None
        for i, a in enumerate(arrays):  # tied or overlapping parameters update through each other
            if any(np.may_share_memory(a, b) for b in arrays[i + 1 :]):
                return None
        return cls(optimizer, params)

    def holds(self, optimizer: Optimizer) -> bool:
        """Whether the set-up still describes ``optimizer`` and its parameters."""
        groups = optimizer.param_groups
        if len(groups) != 1 or groups[0] is not self.group or not SGD.is_plain(self.group):
            return False
        params = self.group["params"]
        if len(params) != len(self.params):
            return False
        for p, q, d in zip(params, self.params, self.data_views, strict=True):
            if p is not q or p.data is not d:
                return False
        return True

    def step(self, leaves: tuple[Tensor, ...], leaf_grads: tuple[Any, ...]) -> bool:
        """Store the gradients and take the update; False (nothing done) when a gradient is missing."""
        if leaves is not self.leaves:  # another plan (input shape): its leaves' order
            self.leaves = leaves
            self.leaf_views = [self.grad_views[self.position[id(leaf)]] for leaf in leaves]
        for view, g in zip(self.leaf_views, leaf_grads, strict=True):
            if g is None:  # the general path stores what came (the buffer is not anyone's .grad there)
                return False
            view[...] = g  # cast to the parameter's dtype, as the engine stores it
        for p, t in zip(self.params, self.grad_tensors, strict=True):
            p.grad = t
        lr = float(self.group["lr"])
        if lr != self.lr:  # a scheduler changed it
            self.lr, self.rate = lr, np.array(lr, dtype=self.values.dtype)
        plain_update(self.values, self.grads, self.rate, self.scratch)  # d ← d − lr·g, SGD's own formula
        return True


def _before_update(array: np.ndarray, copy: bool) -> Tensor:
    """The model's output as ``prediction``, as it is before the optimizer's step updates the parameters in
    place: copied where it shares their memory, else kept as it is (the usual fresh array, no copy)."""
    return Tensor._wrap(array.copy() if copy else array, False)


def _generate(
    forward: list[tuple[Any, tuple[Any, ...], dict[str, Any], int]],
    backward: list[tuple[Any, int, list[tuple[int, int, Any, tuple[int, ...]]]]],
    loss_slot: int,
    prediction: tuple[int, Any, bool] | None,
    seed: np.ndarray,
) -> _Plan:
    """Write the replay of a recorded step as one Python function and compile it.

    ``forward`` holds ``(fn.forward, sources, kwargs, out_slot)`` in recorded order, ``backward`` holds
    ``(fn, out_slot, [(input index, kind, ref, shape), …])`` in reverse. Slot ``k``'s array is the local
    ``v{k}`` and its gradient ``g{k}``; each leaf's gradient is ``L{j}``. A loop over those lists would decide
    at every step what the source decides once: where each argument comes from and where each gradient
    goes (a quarter of the fit demo's step went into that loop). The names in the source are made here, and
    every object it uses (the recorded ops, the parameters, the constants) is bound in its namespace, never
    written into it: the source is ours, not the data's.
    """
    env: dict[str, Any] = {"ndarray": np.ndarray, "asarray": np.asarray, "fit_shape": _fit_shape}
    env["SEED"] = seed
    names: dict[int, str] = {}

    def bind(obj: Any, prefix: str) -> str:
        name = names.get(id(obj))
        if name is None:
            name = names[id(obj)] = f"{prefix}{len(env)}"
            env[name] = obj
        return name

    lines = ["def replay(v0, v1):"]
    for fwd, sources, kwargs, out in forward:
        args = [
            f"v{ref}" if kind == _SLOT else (f"{bind(ref, 'T')}.data" if kind == _TENSOR else bind(ref, "C"))
            for kind, ref in sources
        ]
        if kwargs:
            args.append(f"**{bind(kwargs, 'K')}")
        lines.append(f"    v{out} = {bind(fwd, 'F')}({', '.join(args)})")
        lines.append(f"    if type(v{out}) is not ndarray: v{out} = asarray(v{out})")
    leaves: list[Tensor] = []
    leaf_of: dict[int, str] = {}
    gathered = {out for _, out, _ in backward} | {
        ref for _, _, targets in backward for _, kind, ref, _ in targets if kind == _SLOT
    }
    lines += [f"    g{slot} = None" for slot in sorted(gathered - {loss_slot})]
    lines.append(f"    g{loss_slot} = SEED")
    for _, _, targets in backward:
        for _, kind, ref, _ in targets:
            if kind != _SLOT and id(ref) not in leaf_of:
                leaf_of[id(ref)] = f"L{len(leaves)}"
                leaves.append(ref)
    lines += [f"    {name} = None" for name in leaf_of.values()]
    for fn, out, targets in backward:
        f = bind(fn, "N")
        lines += [f"    if g{out} is not None:", f"        r = {f}.backward(g{out})"]
        lines.append("        if type(r) is not tuple: r = (r,)")
        for i, kind, ref, shape in targets:
            total = f"g{ref}" if kind == _SLOT else leaf_of[id(ref)]
            dims = repr(tuple(int(d) for d in shape))
            lines += [
                f"        t = r[{i}]",
                "        if t is not None:",
                f"            if t.shape != {dims}: t = fit_shape(t, {dims}, {f})",
                f"            {total} = t if {total} is None else {total} + t",
            ]
    predicted = f"v{prediction[1]}" if prediction is not None and prediction[0] == _SLOT else "None"
    returned = "".join(f"{name}, " for name in leaf_of.values())
    lines.append(f"    return v{loss_slot}, {predicted}, ({returned})")
    source = "\n".join(lines) + "\n"
    defined: dict[str, Any] = {}  # the function lands here, not in its own globals: no reference cycle, so
    # a dropped plan frees its recorded nodes (and their saved arrays) at once, without waiting for the GC
    exec(compile(source, "<numnet.compiled replay>", "exec"), env, defined)  # our own source, no data in it
    return _Plan(defined["replay"], source, tuple(leaves), prediction)


def compile_step(model: Module, loss_fn: Callable[[Any, Any], Tensor], optimizer: Optimizer) -> CompiledStep:
    """A training step ``step(x, y) → loss`` that is recorded on its first call and replayed after.

    Equivalent to ``optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()``
    and as fast as the ops' own NumPy calls allow; see the module docstring for what it assumes.
    """
    return CompiledStep(model, loss_fn, optimizer)
