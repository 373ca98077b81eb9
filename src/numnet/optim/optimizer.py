"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``zero_grad`` and checkpoints.

An optimizer owns a list of *parameter groups* (``param_groups``): dicts holding a ``"params"`` list of
tensors and the options (``lr``, ``weight_decay``, ...) that apply to them, exactly as in ``torch.optim``.
Options not given in a group come from the optimizer's ``defaults``. ``state`` maps each parameter tensor to
a dict of its buffers (momentum, moment estimates, step count), created lazily on the parameter's first
update so that parameters which never receive a gradient cost nothing.

Performance rules every subclass follows (the step is in the inner loop of training):

* ``p.data`` is updated in place, so the parameter array keeps its identity (views of it stay valid and
  nothing is reallocated); state buffers are allocated once and then updated with in-place NumPy ops.
* ``p.grad`` is only read, never written: the backward engine may hand the same array to several tensors.
* Hyperparameters are read once per group as Python floats, so a float32 parameter is updated in float32
  (under NumPy 2 a Python float scalar does not promote an array; a NumPy float64 scalar would).
* Parameters whose ``grad`` is ``None`` are skipped.

``state_dict()`` has PyTorch's shape, with parameters replaced by their index (counting across groups)::

    {"state": {0: {"step": 3, "exp_avg": ndarray, ...}, ...},
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, 2]}, ...]}

It contains only numbers, strings, bools, lists and ndarrays, so a checkpoint can be written as JSON plus an
``.npz`` of the arrays, without pickle.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from numnet.tensor import Tensor, enable_grad

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class _RequiredParameter:
    """Marks a default that every parameter group must give (``SGD``'s ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Optimizer:
    """Base class of all optimizers.

    ``Optimizer(params, defaults)``: ``params`` is an iterable of tensors (typically ``model.parameters()``)
    or of dicts, each a parameter group ``{"params": tensors, **options}`` whose options override
    ``defaults`` for those tensors, e.g. ``SGD([{"params": a}, {"params": b, "lr": 0.01}], lr=0.1)``.

    Subclasses implement ``step()``, ``_validate_group(group)`` (raise for bad option values) and
    ``init_state(group, param, grad)``: the per-parameter state a parameter starts with on its first
    update, declared once. ``step()`` creates it through ``_state_of``; ``load_state_dict`` checks saved
    state against its keys (entries that are numbers there, like ``"step"``, must be numbers when loaded;
    the others are arrays shaped like the parameter). An optimizer that creates its state itself may
    instead override ``_state_keys(group)`` and list the numeric entries in ``_scalar_state``.
    """

    #: State entries that are Python numbers rather than parameter-shaped arrays (for optimizers that
    #: override ``_state_keys`` instead of ``init_state``).
    _scalar_state: frozenset[str] = frozenset({"step"})

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        # Scratch arrays, one per parameter, that the update rules write their temporaries into instead of
        # allocating fresh arrays every step. They carry no state between steps and are never saved.
        self._work: dict[Tensor, np.ndarray] = {}

        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of parameter-group dicts, got a single "
                "Tensor; pass a list ([w]) or model.parameters()"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params is a single dict; pass a list of parameter groups, e.g. [{{'params': ...}}]"
            )
        try:
            groups = list(params)
        except TypeError as exc:
            raise TypeError(
                f"{name}: params must be an iterable of tensors or of parameter-group dicts, "
                f"got {type(params).__name__}"
            ) from exc
        if not groups:
            raise ValueError(
                f"{name} got an empty parameter list; pass the tensors to optimize (e.g. model.parameters()) "
                "and check that the model has parameters"
            )
        is_group = [isinstance(g, dict) for g in groups]
        if any(is_group) and not all(is_group):
            raise TypeError(f"{name}: params mixes tensors and parameter-group dicts; use one or the other")
        if not any(is_group):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups --------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. layers unfrozen while fine-tuning).

        Options the group does not give are taken from ``defaults``. Raises if a tensor is not a leaf
        requiring grad, or is already optimized by another group.
        """
        name = type(self).__name__
        index = len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}.add_param_group: a parameter group must be a dict, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(
                f"{name}: parameter group {index} has no 'params' entry; give it {{'params': [tensors], ...}}"
            )
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameter group {index} gives its params as a set, whose order changes between "
                "runs (and checkpoints refer to parameters by position); use a list"
            )
        else:
            try:
                params = list(params)
            except TypeError as exc:
                raise TypeError(
                    f"{name}: parameter group {index}: 'params' must be a Tensor or an iterable of tensors, "
                    f"got {type(params).__name__}"
                ) from exc
        if not params:
            raise ValueError(f"{name}: parameter group {index} has an empty 'params' list")

        seen: set[int] = set()
        for i, p in enumerate(params):
            where = f"parameter {i} of group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but {where} is a {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: {where} (shape {p.shape}) does not require grad, so it would never be updated; "
                    "create it with requires_grad=True, or leave frozen tensors out of the optimizer"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: {where} is not a leaf tensor (it is the result of an operation); "
                    "optimize the leaf tensors it was computed from"
                )
            if id(p) in seen:
                raise ValueError(f"{name}: {where} appears twice in the same group; list each parameter once")
            seen.add(id(p))
        for j, other in enumerate(self.param_groups):
            for p in other["params"]:
                if id(p) in seen:
                    raise ValueError(
                        f"{name}: a parameter (shape {p.shape}) of the new group {index} is already in "
                        f"parameter group {j}; a tensor can belong to only one group"
                    )
        group["params"] = params

        for key, default in self.defaults.items():
            if key not in group:
                if default is required:
                    raise ValueError(
                        f"{name}: parameter group {index} does not give '{key}', which has no default"
                    )
                group[key] = default
        self._check_group(group, index)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any], index: int) -> None:
        """Run ``_validate_group``, naming the optimizer and the group in any error it raises."""
        name = type(self).__name__
        try:
            self._validate_group(group)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{name}: {exc} (in parameter group {index})") from None

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Raise ValueError/TypeError naming a bad option of ``group`` (subclasses override this)."""
        if "lr" in group:
            _check_number(group, "lr", low=0.0)

    def init_state(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
        """The state of a parameter (its data ``param``) of ``group`` before its first update, given the
        gradient ``grad`` that update uses: one dict of numbers and arrays (empty: a stateless rule)."""
        return {}

    def _state_of(self, p: Tensor, group: dict[str, Any], d: np.ndarray, g: np.ndarray) -> dict[str, Any]:
        """``p``'s state, made by ``init_state`` on its first update."""
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = self.init_state(group, d, g)
        return st

    def _state_spec(self, group: dict[str, Any], param: np.ndarray) -> tuple[frozenset[str], frozenset[str]]:
        """(all state keys, the numeric ones) a parameter of ``group`` keeps: from ``init_state``, unless
        the subclass lists them in ``_state_keys``."""
        if type(self)._state_keys is not Optimizer._state_keys:
            keys = self._state_keys(group)
            return keys, keys & self._scalar_state
        fresh = self.init_state(group, param, np.zeros_like(param))
        numeric = frozenset(k for k, v in fresh.items() if not isinstance(v, np.ndarray))
        return frozenset(fresh), numeric

    def _state_keys(self, group: dict[str, Any]) -> frozenset[str]:
        """The names of the state entries ``step()`` keeps (override only without ``init_state``)."""
        return frozenset()

    # --- the step ----------------------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure``, if given, re-evaluates the loss."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _updates(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray, np.ndarray, np.ndarray]]:
        """``(p, grad, data, scratch)`` for each parameter of ``group`` that has a gradient: the preamble of
        every optimizer's update loop (the gradient's shape checked, the scratch array ready)."""
        work = self._work
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if type(g) is not np.ndarray:  # .grad is a Tensor (an array assigned by hand is taken as is)
                g = g.data
            d = p.data
            if g.shape != d.shape:
                raise _grad_shape_error(type(self).__name__, g, d)
            s = work.get(p)
            if s is None or s.shape != d.shape or s.dtype != d.dtype:
                s = self._scratch(p, d)
            yield p, g, d, s

    def _scratch(self, p: Tensor, d: np.ndarray) -> np.ndarray:
        """The parameter's scratch array (same shape and dtype as ``d``), allocated on first use."""
        w = self._work.get(p)
        if w is None or w.shape != d.shape or w.dtype != d.dtype:
            w = self._work[p] = np.empty_like(d)
        return w

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all optimized parameters.

        ``set_to_none=True`` (default) sets ``p.grad = None``: nothing is allocated, and the next backward
        stores its gradient without adding it to zeros. ``set_to_none=False`` gives each parameter that had a
        gradient a fresh zero array (never zeroing the old one in place: the backward engine may share it).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = Tensor._wrap(np.zeros_like(p.data), False)

    # --- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {name: value}}, "param_groups": [...]}``.

        Parameters are referred to by their position, counting through the groups in order. Arrays are
        copies (training on does not change a saved dict); tuples of options become lists. Everything inside
        is a number, string, bool, list or ndarray.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index_of[id(p)] = len(index_of)
                packed["params"].append(index_of[id(p)])
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for p, entries in self.state.items():
            if id(p) in index_of:
                state[index_of[id(p)]] = {
                    k: (v.copy() if isinstance(v, np.ndarray) else _plain(v)) for k, v in entries.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by ``state_dict()`` onto this optimizer's parameters.

        The saved groups must match this optimizer's: same number of groups, same number of parameters in
        each, and every saved buffer the shape of the parameter it belongs to; otherwise a ValueError says
        what differs, and nothing is changed. Options (``lr``, ...) are taken from the saved groups. Arrays
        are copies (cast to the parameter's dtype), so the dict and the optimizer never share memory. State
        keys may be strings (``"0"``), as after a JSON round trip.
        """
        saved_groups, saved_state = self._check_saved(state_dict)
        id_map, new_groups = self._match_groups(saved_groups)
        group_of = {id(p): g for g in new_groups for p in g["params"]}
        new_state: dict[Tensor, dict[str, Any]] = {}
        for raw_key, entries in saved_state.items():
            key = _state_index(raw_key, type(self).__name__)
            if key not in id_map:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: 'state' has an entry for parameter {key}, but "
                    f"the saved groups list only parameters {sorted(id_map)}"
                )
            p = id_map[key]
            restored = self._restore_entries(key, p, group_of[id(p)], entries)
            if restored:
                new_state[p] = restored
        # Everything checked: now replace (so a failed load leaves the optimizer untouched).
        self.param_groups[:] = new_groups
        self.state = new_state

    def _check_saved(self, state_dict: Any) -> tuple[list[Any], dict[Any, Any]]:
        """The saved ``(param_groups, state)``, once their outline matches this optimizer's."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups' (as returned by "
                f"state_dict()), got {type(state_dict).__name__}"
                + (f" with keys {sorted(state_dict)}" if isinstance(state_dict, dict) else "")
            )
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError(f"{name}.load_state_dict: 'param_groups' must be a list and 'state' a dict")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter group(s) but "
                f"this optimizer has {len(self.param_groups)}; build the optimizer with the same groups as "
                "the saved one"
            )
        return list(saved_groups), saved_state

    def _match_groups(self, saved_groups: list[Any]) -> tuple[dict[int, Tensor], list[dict[str, Any]]]:
        """Each saved parameter index mapped to this optimizer's tensor (group by group, in order), and the
        groups with the saved options, validated."""
        name = type(self).__name__
        id_map: dict[int, Tensor] = {}
        new_groups: list[dict[str, Any]] = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {gi} is not a dict with 'params'"
                )
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {gi} has {len(saved['params'])} "
                    f"parameter(s) but this optimizer's group {gi} has {len(group['params'])}"
                )
            missing = [k for k in self.defaults if k not in saved]
            if missing:
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {gi} lacks option(s) {missing}; "
                    f"was it saved from a different optimizer than {name}?"
                )
            for saved_index, p in zip(saved["params"], group["params"], strict=True):
                key = _state_index(saved_index, name)
                if key in id_map:
                    raise ValueError(
                        f"{name}.load_state_dict: parameter index {key} appears twice in 'param_groups'"
                    )
                id_map[key] = p
            new_group = {k: _restore_option(v, group.get(k)) for k, v in saved.items() if k != "params"}
            new_group["params"] = group["params"]
            self._check_group(new_group, gi)
            new_groups.append(new_group)
        return id_map, new_groups

    def _restore_entries(self, key: int, p: Tensor, group: dict[str, Any], entries: Any) -> dict[str, Any]:
        """The saved state of parameter ``key`` (tensor ``p``), checked against what ``group`` keeps:
        numbers as Python numbers, arrays copied in the parameter's dtype. ``{}`` for an empty entry."""
        name = type(self).__name__
        where = f"{name}.load_state_dict: state of parameter {key}"
        if not isinstance(entries, dict):
            raise ValueError(f"{where} must be a dict, got {type(entries).__name__}")
        if not entries:
            return {}
        expected, numeric = self._state_spec(group, p.data)
        if set(entries) != expected:
            raise ValueError(
                f"{where} has entries {sorted(entries)} but {name} with these options keeps "
                f"{sorted(expected)}; was it saved from another optimizer or with other options (momentum, "
                "amsgrad, centered)?"
            )
        restored: dict[str, Any] = {}
        for k, v in entries.items():
            if k in numeric:
                restored[k] = _saved_number(v, f"{name}.load_state_dict: state '{k}' of parameter {key}")
            elif not isinstance(v, np.ndarray):
                raise ValueError(
                    f"{name}.load_state_dict: state '{k}' of parameter {key} must be an ndarray, "
                    f"got {type(v).__name__}"
                )
            elif v.shape != p.data.shape:
                raise ValueError(
                    f"{name}.load_state_dict: state '{k}' of parameter {key} has shape {v.shape} but the "
                    f"parameter has shape {p.data.shape}; the model does not match the one that was saved"
                )
            else:
                restored[k] = np.array(v, dtype=p.data.dtype, copy=True)
        return restored

    # --- display -----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Helpers shared by the optimizers
# ---------------------------------------------------------------------------------------------------------


def _check_number(
    group: dict[str, Any], key: str, low: float = 0.0, high: float | None = None, high_inclusive: bool = False
) -> None:
    """Raise unless ``group[key]`` is a finite real number in ``[low, high)`` (or ``[low, high]``)."""
    value = group[key]
    if not _is_number(value):
        raise TypeError(f"{key} must be a number, got {value!r:.60}")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite, got {value}")
    if value < low:
        raise ValueError(f"{key} must be >= {low:g}, got {value}")
    if high is not None and (value > high if high_inclusive else value >= high):
        raise ValueError(f"{key} must be {'<=' if high_inclusive else '<'} {high:g}, got {value}")


def _check_bool(group: dict[str, Any], key: str) -> None:
    if not isinstance(group[key], (bool, np.bool_)):
        raise TypeError(f"{key} must be True or False, got {group[key]!r:.60}")


def _plain(value: Any) -> Any:
    """A saved option: tuples become lists, NumPy scalars Python numbers."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _restore_option(value: Any, current: Any) -> Any:
    """A loaded option, turned back into a tuple where the optimizer keeps a tuple (``betas``)."""
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def _saved_number(value: Any, where: str) -> int | float:
    """A numeric state entry (``step``) from a state dict: a Python int when it is whole."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if not _is_number(value):
        raise ValueError(f"{where} must be a number, got {value!r:.60}")
    return int(value) if float(value).is_integer() else float(value)


def _state_index(key: Any, name: str) -> int:
    """A parameter index from a state dict: an int, or its string form after a JSON round trip."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    raise ValueError(f"{name}.load_state_dict: parameter indices must be integers, got {key!r:.60}")


def _decayed_grad(g: np.ndarray, d: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
    """The gradient the update uses, as a new array: g_eff = ±g + weight_decay·p (L2 penalty folded in).

    Only called when ``maximize`` or ``weight_decay`` is set; otherwise the update reads ``p.grad`` as is.
    ``p.grad`` itself is never written.
    """
    if weight_decay != 0:
        out = d * weight_decay
        if maximize:
            out -= g
        else:
            out += g
        return out
    return np.negative(g)


def _grad_shape_error(name: str, g: np.ndarray, d: np.ndarray) -> ValueError:
    return ValueError(
        f"{name}.step: a parameter of shape {d.shape} has a gradient of shape {g.shape}; "
        "gradients must have the shape of their parameter"
    )
