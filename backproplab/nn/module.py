"""``Parameter`` and ``Module``: a function with parameters, found by walking its attributes.

A ``Module`` finds its parameters by looking at its own attributes: a ``Parameter``, another
``Module``, or a list, tuple or dict of them. Nothing is registered by hand, so a layer is written
the way you would write the math.

NB: PyTorch's ``nn.Module`` registers parameters in ``__setattr__``; walking attributes on demand
does the same job in fewer lines for a small package.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..tensor import ArrayLike, Tensor, as_array


class Parameter(Tensor):
    """A Tensor that a Module learns: ``requires_grad=True`` (unless frozen with
    ``requires_grad=False``, as in PyTorch), found by ``parameters()``.

    It is an ordinary Tensor in every other way (a subclass, so ``isinstance(p, Tensor)`` holds);
    the class only marks "this is trained" for Module's attribute walk and for the optimizers.
    The data is copied, so the optimizer's in-place updates never touch the array you passed.
    """

    __slots__ = ()

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = True,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        data = np.array(as_array(data))  # a copy this Parameter owns (frozen ones too)
        super().__init__(data, requires_grad=requires_grad, name=name, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.dtype})"


def _held_by_an_optimizer(p: Parameter) -> bool:
    from ..optim import _held_by_an_optimizer as held  # here: nn does not need optim otherwise

    return held(p)


def _walk(name: str, value: Any, owner: Module) -> list[tuple[str, Any]]:
    """``[(name, value)]``, or, for a list, tuple or dict, every item inside it with a dotted name
    (``blocks.0``, ``heads.a``), looking inside nested containers too. ``owner``, the module
    whose attribute ``name`` is, is named in the error for a set."""
    items: Iterable[tuple[Any, Any]]  # (key, item) pairs
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif isinstance(value, (set, frozenset)) and any(_learns(v) for v in value):
        raise TypeError(  # a set has no order, so its items would have no names: never found
            f"{type(owner).__name__}: attribute '{name}' is a set, and the parameters inside a "
            f"set are not found (nor trained, nor saved); use a list"
        )
    else:
        return [(name, value)]
    return [found for key, item in items for found in _walk(f"{name}.{key}", item, owner)]


def _warn_if_untrained(owner: Module, name: str, old: Any, value: Any) -> None:
    """Warn when a new Parameter or Module takes the place of one whose parameters a living
    optimizer holds: that optimizer goes on updating the old ones and never trains the new."""
    both = (Parameter, Module)
    if value is old or not isinstance(value, both) or not isinstance(old, both):
        return
    kept = {id(p) for p in _own_parameters(value)}  # e.g. the old layer wrapped in a new one
    if not any(id(p) not in kept and _held_by_an_optimizer(p) for p in _own_parameters(old)):
        return
    if isinstance(old, Parameter):
        what, copy = "Parameter", f".{name}.data[...] = new_values"
    else:
        what, copy = "layer", f".{name}.load_state_dict(new_layer.state_dict())"
    warnings.warn(
        f"{type(owner).__name__}: the {what} '{name}' is replaced, but an optimizer made "
        f"before holds the old one: it will not train the new one; make the optimizer after "
        f"replacing {what.lower()}s, or copy new values into the old one ({copy})",
        stacklevel=3,
    )


def _own_parameters(value: Any) -> list[Parameter]:
    """The parameters a Parameter or a Module brings ([] for anything else)."""
    if isinstance(value, Parameter):
        return [value]
    return value.parameters() if isinstance(value, Module) else []


def _learns(value: Any) -> bool:
    return isinstance(value, Module) or isinstance(value, Tensor) and value.requires_grad


def _not_a_parameter(module: Module, name: str) -> str:
    return (
        f"{type(module).__name__}: attribute '{name}' is a Tensor that requires grad but not a "
        f"Parameter, so parameters() leaves it out and no optimizer would train it; make it "
        f"bl.nn.Parameter(...) (or requires_grad=False for a constant)"
    )


def _not_a_state(state: object) -> str:
    """Why ``state`` is not what ``load_state_dict`` takes, and what to pass instead."""
    what = (
        f"load_state_dict: expected a dict of arrays from state_dict(), got a "
        f"{type(state).__name__}"
    )
    if isinstance(state, Module):
        return f"{what} (a model); pass its state: load_state_dict(model.state_dict())"
    if isinstance(state, (str, os.PathLike)):
        return f"{what} (a file name?); load the file first: load_state_dict(np.load(path))"
    if isinstance(state, np.ndarray) and state.dtype == object and state.ndim == 0:
        return (
            f"{what} holding a dict (saved with np.save); pass "
            f"np.load(path, allow_pickle=True).item()"
        )
    return what


class Module:
    """Base class of every layer and model: override ``forward``; call the module to run it.

    Parameters are found by walking attributes (in the order they were set): Parameters,
    Modules and lists, tuples or dicts of either (also inside one another). A plain Tensor
    that requires grad, or a set of modules, would be skipped without a word, so either is
    refused; so is replacing a Parameter attribute by anything but a Parameter (or None).
    ``named_parameters()`` gives dotted names such as ``blocks.0.weight`` (attribute ``blocks``,
    item 0, its ``weight``) or ``heads.a.bias`` (attribute ``heads``, key ``"a"``, its ``bias``).
    """

    training: bool = True
    buffer_names: tuple[str, ...] = ()  # arrays kept but not learned (BatchNorm's running stats)

    def forward(self, *args: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(
            f"{type(self).__name__} must define forward(), its computation (is the name misspelt?)"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if out is None:  # else the loss gets None, and the error blames a Tensor(None) there
            raise TypeError(
                f"{type(self).__name__}.forward returned None; does it end with a return of "
                f"its output (return self.layer(x), not just self.layer(x))?"
            )
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        """``self.name = value``, except that a Parameter is never replaced by something else:
        ``model.weight = model.weight - lr * model.weight.grad`` would make it a plain tensor
        that no optimizer trains and no ``state_dict`` saves, without a word (PyTorch refuses
        it too)."""
        old = self.__dict__.get(name)
        if isinstance(old, Parameter) and value is not None and not isinstance(value, Parameter):
            raise TypeError(
                f"{type(self).__name__}: cannot replace the Parameter '{name}' (shape "
                f"{old.shape}) with a {type(value).__name__}: it would no longer be trained or "
                f"saved; update it in place (with bl.no_grad(): p -= lr * p.grad) or assign a "
                f"bl.nn.Parameter"
            )
        _warn_if_untrained(self, name, old, value)
        object.__setattr__(self, name, value)

    # ---------------------------------------------------------------- finding the parameters
    def named_children(self) -> list[tuple[str, Module]]:
        """The direct sub-modules with their attribute names (items of a list, tuple or dict are
        ``name.i`` or ``name.key``)."""
        return [
            (full, v)
            for name, value in vars(self).items()
            for full, v in _walk(name, value, self)
            if isinstance(v, Module)
        ]

    def named_modules(
        self, prefix: str = "", _outer: tuple[Module, ...] = ()
    ) -> list[tuple[str, Module]]:
        """This module and every module inside it, depth first, with dotted names ("" is self)."""
        if any(self is m for m in _outer):  # e.g. a layer keeping a reference to its model
            raise ValueError(
                f"{type(self).__name__}: attribute '{prefix}' holds a module that contains it; "
                f"keep such references out of the module's attributes"
            )
        found = [(prefix, self)]
        for name, child in self.named_children():
            found += child.named_modules(f"{prefix}.{name}" if prefix else name, (*_outer, self))
        return found

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """Every Parameter with its dotted name, e.g. ``("blocks.0.weight", p)``, each once."""
        found: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for prefix, module in self.named_modules():
            for name, value in vars(module).items():
                for full, v in _walk(name, value, module):
                    full = f"{prefix}.{full}" if prefix else full
                    if isinstance(v, Parameter):
                        if id(v) not in seen:
                            seen.add(id(v))
                            found.append((full, v))
                    elif isinstance(v, Tensor) and v.requires_grad and v.is_leaf:
                        raise TypeError(_not_a_parameter(self, full))  # never trained: say so
        return found

    def parameters(self) -> list[Parameter]:
        """Every Parameter, each once (the list an optimizer takes)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The total number of learned numbers."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every module
        inside it. ``BatchNorm1d``/``BatchNorm2d`` (batch statistics vs running averages) and
        ``Dropout`` (random zeros vs identity) read ``self.training``; the other layers behave
        the same in both modes. ``fit`` trains in training mode and evaluates in evaluation
        mode. Returns self."""
        if not isinstance(mode, (bool, np.bool_)):  # train("eval") would mean training mode
            raise TypeError(
                f"{type(self).__name__}.train: mode must be True or False, got {mode!r}"
            )
        for _, m in self.named_modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode, ``train(False)``. Returns self."""
        return self.train(False)

    # ------------------------------------------------------------------- saving and restoring
    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """Arrays a module keeps but does not learn (the attributes named in ``buffer_names``,
        such as BatchNorm's ``running_mean``), with dotted names. Optimizers never see them;
        ``state_dict`` saves them. (NB: PyTorch calls them buffers, made by ``register_buffer``.)"""
        return [
            (f"{prefix}.{name}" if prefix else name, getattr(module, name))
            for prefix, module in self.named_modules()
            for name in module.buffer_names
        ]

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values and every buffer, keyed by dotted name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values saved by ``state_dict`` back in; names and shapes must match (if one does
        not, nothing is loaded)."""
        if not isinstance(state, Mapping):  # set(state) below would say something baffling
            raise TypeError(_not_a_state(state))
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        if set(params) | set(buffers) != set(state):
            known = set(params) | set(buffers)
            missing, extra = sorted(known - set(state)), sorted(set(state) - known)
            hint = "; saved by np.savez(path, state)? save it with np.savez(path, **state)"
            raise KeyError(
                f"load_state_dict: missing {missing}, unexpected {extra}"
                + (hint if extra == ["arr_0"] else "")
            )
        current: Any  # a Parameter, or a buffer's array (`name in buffers` tells which)
        values = {name: np.asarray(value) for name, value in state.items()}
        for name, current in [*params.items(), *buffers.items()]:  # all checked before any loads
            if values[name].shape != current.shape:
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {current.shape}, the saved value "
                    f"{values[name].shape}; nothing was loaded"
                )
        for name, current in [*params.items(), *buffers.items()]:
            value = values[name]
            if name in buffers:
                current[...] = value  # in place: the layer keeps its own array
            else:
                current.data = value.astype(current.dtype, copy=True)
                current.mark_modified()  # graphs built with the old value cannot backpropagate

    # ---------------------------------------------------------------------------- display
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's one-line repr."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
