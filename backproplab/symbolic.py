"""The derivative table again, in sympy: check the code against the math.

``SYMPY_OPS`` maps the op names of ``backproplab.ops.TABLE`` to the same functions written with
sympy. A tensor's symbolic value is a numpy array of sympy expressions (dtype object), so the
numpy-style rules (``np.add``, ``np.matmul``, ``.sum(axis=...)``) work on it unchanged and a
scalar is a 0-d array.

* ``to_sympy(L)`` traces a backproplab graph into one sympy expression in the names of its
  leaves: ``(x + y) * z`` becomes ``z*(x + y)``.
* ``check_backward(L)`` differentiates that expression with sympy and compares it, entry by
  entry, with what ``L.backward()`` put in the ``.grad`` of every leaf -- or compares your own
  hand derivation, if you pass one. It returns a ``Comparison`` that prints a clear verdict
  (``symbolic_verdict.py``: the verdict, and evaluating formulas exactly enough to trust).
* ``symbol_matrix`` and ``matmul_derivation`` write matrices with explicit entries (x_11, x_12,
  ...) so that dL/dW = X^T G can be read off entry by entry.

A custom op can join in: ``register("cube", lambda x: x**3)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .autodiff import toposort
from .symbolic_verdict import (
    Comparison,
    Row,
    _check_shape,
    _evaluate,
    _kinks,
    _rounding_scale,
)
from .tensor import Tensor

__all__ = [
    "ELEMENTWISE",
    "SYMPY_OPS",
    "Comparison",
    "MatmulDerivation",
    "check_backward",
    "derivative_table",
    "expression_size",
    "gradients",
    "leaf_symbols",
    "matmul_derivation",
    "register",
    "symbol_matrix",
    "symbols",
    "to_sympy",
]


def _each(f: Callable) -> Callable:
    """Apply a function of one sympy expression to every entry of an object array."""

    def rule(x: np.ndarray) -> np.ndarray:
        return _obj(np.frompyfunc(f, 1, 1)(x))

    return rule


def _each2(f: Callable) -> Callable:
    """Apply a function of two sympy expressions entrywise, with numpy broadcasting."""

    def rule(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _obj(np.frompyfunc(f, 2, 1)(x, y))

    return rule


def _obj(a: object) -> np.ndarray:
    """An object array (a 0-d one for a single expression)."""
    if isinstance(a, np.ndarray):
        return a if a.dtype == object else a.astype(object)
    out = np.empty((), dtype=object)
    out[()] = a
    return out


def _sigmoid(x: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-x))


def _leaky_relu(x: sp.Expr, slope: float = 0.01) -> sp.Expr:
    return sp.Piecewise((x, x > 0), (_number(slope) * x, True))


def _reduce(kind: str) -> Callable:
    def rule(
        x: np.ndarray, *, axis: int | tuple[int, ...] | None = None, keepdims: bool = False
    ) -> np.ndarray:
        total = _obj(x.sum(axis, keepdims=True) if keepdims else x.sum(axis))
        if kind == "mean":
            total = _obj(total * sp.Rational(total.size, x.size))
        return total

    return rule


def _max(x: np.ndarray, *, axis: object = None, keepdims: bool = False) -> np.ndarray:
    """sympy.Max over ``axis``, one axis at a time (Max of symbols cannot be sorted by numpy)."""
    given = range(x.ndim) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = {a % x.ndim for a in given}
    out = x
    for a in sorted(axes):
        out = np.frompyfunc(sp.Max, 2, 1).reduce(out, axis=a, keepdims=True)
    if not keepdims:
        out = out.reshape([n for i, n in enumerate(x.shape) if i not in axes])
    return _obj(out)


def _log_softmax(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    exps = _each(sp.exp)(x)
    return _obj(x - _each(sp.log)(_obj(np.sum(exps, axis=axis, keepdims=True))))


def _cross_entropy(logits: np.ndarray, *, labels: np.ndarray) -> np.ndarray:
    batch = logits.size // logits.shape[-1]
    if labels.dtype.kind in "iu":  # class indices: one-hot rows
        target = np.eye(logits.shape[-1], dtype=int)[labels].astype(object)
    else:  # class probabilities: each a sympy number
        target = np.frompyfunc(_number, 1, 1)(labels)
    picked = _obj(_log_softmax(logits, axis=-1) * target)
    return _obj(-np.sum(picked) / batch)


def _binary_cross_entropy(p: np.ndarray, *, target: np.ndarray) -> np.ndarray:
    y = np.frompyfunc(_number, 1, 1)(target)  # (the row's clamp at log = -100 is left out)
    terms = _obj(y * _each(sp.log)(p) + (1 - y) * _each(sp.log)(_obj(1 - p)))
    return _obj(-np.sum(terms) / p.size)


def _bce_with_logits(z: np.ndarray, *, target: np.ndarray) -> np.ndarray:
    y = np.frompyfunc(_number, 1, 1)(target)
    terms = _obj(_each(lambda e: sp.log(1 + sp.exp(e)))(z) - z * y)
    return _obj(np.sum(terms) / z.size)


# fmt: off
# name -> the op's forward, written for object arrays of sympy expressions
SYMPY_OPS: dict[str, Callable[..., np.ndarray]] = {
    "add":         _each2(lambda x, y: x + y),
    "sub":         _each2(lambda x, y: x - y),
    "mul":         _each2(lambda x, y: x * y),
    "div":         _each2(lambda x, y: x / y),
    "neg":         _each(lambda x: -x),
    "power":       lambda x, *, p: _each(lambda e: e ** _number(p))(x),
    "pow":         _each2(lambda x, y: x ** y),
    "exp":         _each(sp.exp),
    "log":         _each(sp.log),
    "sqrt":        _each(sp.sqrt),
    "abs":         _each(sp.Abs),
    "maximum":     _each2(sp.Max),
    "relu":        _each(lambda x: sp.Max(x, 0)),
    "leaky_relu":  lambda x, *, slope=0.01: _each(lambda e: _leaky_relu(e, slope))(x),
    "sigmoid":     _each(_sigmoid),
    "tanh":        _each(sp.tanh),
    "matmul":      lambda x, y: _obj(np.matmul(x, y)),
    "sum":         _reduce("sum"),
    "mean":        _reduce("mean"),
    "max":         _max,
    "reshape":     lambda x, *, shape: x.reshape(shape),
    "transpose":   lambda x, *, axes=None: np.transpose(x, axes),
    "getitem":     lambda x, *, index: _obj(x[index]),
    "concatenate": lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    "stack":       lambda *xs, axis=0: np.stack(xs, axis=axis),
    "where":       lambda x, y, *, cond: _obj(np.where(cond, x, y)),
    "log_softmax": _log_softmax,
    "linear":      lambda x, w, b: _obj(np.matmul(x, w.T) + b),  # nn.Linear
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy": _binary_cross_entropy,
    "bce_with_logits": _bce_with_logits,
}
# fmt: on

ELEMENTWISE: tuple[str, ...] = (
    "add", "sub", "mul", "div", "neg", "power", "pow", "exp", "log", "sqrt", "abs", "maximum",
    "relu", "leaky_relu", "sigmoid", "tanh",
)  # fmt: skip
"""The rows that act entry by entry: their vjp is (upstream) * (the sympy derivative)."""


def derivative_table(names: tuple[str, ...] = ELEMENTWISE) -> dict[str, tuple]:
    """The elementwise rows as math: ``{name: (formula, [d formula / d input, ...])}`` in the
    real symbols x (and y for two inputs), derived by ``sympy.diff`` from ``SYMPY_OPS``.

    >>> derivative_table(("tanh",))["tanh"]
    (tanh(x), [1 - tanh(x)**2])

    Settings take their defaults (``power`` uses p = 3, written as the symbol-free x**3).
    """
    x, y = symbols("x y")
    table = {}
    for name in names:
        rule = SYMPY_OPS[name]
        settings = {"p": 3} if name == "power" else {}
        inputs = (x, y) if name in _BINARY else (x,)
        formula = rule(*[_obj(s) for s in inputs], **settings)[()]
        table[name] = (formula, [sp.diff(formula, s) for s in inputs])
    return table


_BINARY = ("add", "sub", "mul", "div", "pow", "maximum")


def register(name: str, forward: Callable[..., sp.Expr], *, elementwise: bool = True) -> None:
    """Teach the symbolic table a new op, under the same name as your ``Op``.

    ``forward`` takes sympy expressions (and the op's settings as keywords) and returns one;
    with ``elementwise=False`` it takes and returns object arrays instead::

        cube = bl.Op("cube", lambda x: x**3, lambda g, out, x: (g * 3 * x**2,))
        register("cube", lambda x: x**3)
    """
    if elementwise:

        def rule(*xs: np.ndarray, **settings: object) -> np.ndarray:
            return _obj(np.frompyfunc(lambda *es: forward(*es, **settings), len(xs), 1)(*xs))

        SYMPY_OPS[name] = rule
    else:
        SYMPY_OPS[name] = forward


def _number(v: float) -> sp.Expr:
    """A Python/numpy number as sympy: integers stay exact (5, not 5.0)."""
    v = float(v)
    return sp.Integer(int(v)) if v.is_integer() else sp.Float(v)


# ------------------------------------------------------------------------- symbols for leaves
def symbols(names: str) -> sp.Symbol | tuple[sp.Symbol, ...]:
    """Real symbols, the same ones ``to_sympy`` gives the leaves: ``x, y, z = symbols("x y z")``.

    (``sympy.symbols("x")`` makes an x that may be complex, a different variable for sympy;
    real ones also let sympy differentiate abs and max.)
    """
    return sp.symbols(names, real=True)


def symbol_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    """A rows x cols sympy Matrix of named entries, counted from 1 as in the math:
    ``symbol_matrix("x", 2, 3)`` has x_11 ... x_23 (x_1,10 style when an index passes 9)."""
    shape = (rows, cols)
    return sp.Matrix(
        rows, cols, lambda i, j: sp.Symbol(_entry_name(name, (i, j), shape), real=True)
    )


def _entry_name(name: str, index: tuple[int, ...], shape: tuple[int, ...]) -> str:
    if not index:
        return name
    sep = "," if any(n > 9 for n in shape) else ""
    return f"{name}_" + sep.join(str(i + 1) for i in index)


def leaf_symbols(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An object array of symbols for a tensor called ``name``: a scalar is the symbol itself,
    a (2, 3) tensor has entries name_11 ... name_23 (the same names as ``symbol_matrix``)."""
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = sp.Symbol(_entry_name(name, index, shape), real=True)
    return out


def _leaves(root: Tensor) -> list[Tensor]:
    """The leaves of ``root``'s graph in the order they were made (``toposort``'s order)."""
    return [t for t in toposort(root) if t.op is None]


def _leaf_names(root: Tensor, caller: str) -> dict[int, str]:
    """Symbol names for leaves that need a gradient (``Tensor.name``, else input1, input2...,
    skipping names a leaf already has). Two leaves whose entries would be the same symbol (a
    vector x has x_1, x_2: a scalar called x_1 clashes) are refused."""
    if not isinstance(root, Tensor):  # L.item() or L.data: only the tensor holds the graph
        raise TypeError(
            f"{caller}: got a {type(root).__name__}, not a Tensor; pass the tensor itself "
            f"(L, not L.item() or L.data): its graph is what is traced"
        )
    leaves = [t for t in _leaves(root) if t.requires_grad]
    taken = {t.name for t in leaves if t.name}
    names: dict[int, str] = {}  # id(leaf) -> its symbol name
    k = 0
    for t in leaves:
        if t.name:
            if t.name in names.values():
                raise ValueError(
                    f"{caller}: two different tensors are both called '{t.name}'; give "
                    f"them different names (they would become the same symbol)"
                )
            names[id(t)] = t.name
        else:
            k += 1
            while f"input{k}" in taken:  # a learner's own name: skip it
                k += 1
            names[id(t)] = f"input{k}"
    owner: dict[str, str] = {}  # symbol name -> the leaf it belongs to
    for t in leaves:
        for s in leaf_symbols(names[id(t)], t.shape).ravel():
            other = owner.setdefault(s.name, names[id(t)])
            if other != names[id(t)]:
                raise ValueError(
                    f"{caller}: the tensors called '{other}' and '{names[id(t)]}' would both "
                    f"have an entry called {s.name}; rename one of them"
                )
    return names


def _trace(root: Tensor, names: dict[int, str]) -> dict[int, np.ndarray]:
    """Every node's value as an object array of sympy expressions, keyed by ``id(node)``: the
    leaves named in ``names`` as symbols, the other leaves as numbers, each op by its sympy row."""
    value: dict[int, np.ndarray] = {}
    for t in toposort(root):
        if t.op is None:
            if id(t) in names:
                value[id(t)] = leaf_symbols(names[id(t)], t.shape)
            else:  # a number: it enters the formula as itself
                value[id(t)] = _obj(np.frompyfunc(_number, 1, 1)(t.data))
            continue
        rule = SYMPY_OPS.get(t.op.name)
        if rule is None:
            raise KeyError(  # conv2d, pooling, batch_norm: not elementwise, so not lambda x: ...
                f"to_sympy: op '{t.op.name}' has no sympy form; add one with symbolic.register("
                f"'{t.op.name}', f): f takes and returns sympy expressions for an elementwise op, "
                f"or object arrays of them with elementwise=False (a convolution, a norm)"
            )
        value[id(t)] = _obj(rule(*[value[id(x)] for x in t.inputs], **t.settings))
    return value


def to_sympy(root: Tensor) -> sp.Expr | sp.Matrix:
    """The sympy formula that ``root`` was computed by, in the names of its leaves.

    Leaves that need a gradient become symbols named by ``Tensor.name`` (entries x_11, x_12...
    for a matrix called x); numbers stay numbers. A scalar root gives an expression, a
    vector or matrix root a sympy Matrix.
    """
    return _as_sympy(_trace(root, _leaf_names(root, "to_sympy"))[id(root)])


def _as_sympy(a: np.ndarray) -> sp.Expr | sp.Matrix:
    """An object array as sympy: 0-d -> the expression, (n,) -> a column, (n, m, ...) -> n rows."""
    return a[()] if a.ndim == 0 else sp.Matrix(a.reshape(a.shape[0], -1))


def gradients(root: Tensor) -> dict[str, sp.Expr | sp.Matrix]:
    """d(root)/d(leaf) for every leaf that needs a gradient, by ``sympy.diff`` of the traced
    formula: an expression for a scalar leaf, a Matrix shaped like the leaf otherwise."""
    names = _leaf_names(root, "gradients")
    if root.size != 1:
        raise ValueError(f"gradients: the root has shape {root.shape}; reduce it to a scalar first")
    expr = _trace(root, names)[id(root)].reshape(())[()]
    out = {}
    for t in _leaves(root):
        if id(t) in names and names[id(t)] not in out:
            symbols = leaf_symbols(names[id(t)], t.shape)
            grad = _obj(np.frompyfunc(lambda s: sp.diff(expr, s), 1, 1)(symbols))
            out[names[id(t)]] = _as_sympy(grad)
    return out


# ------------------------------------------------------------------------------ comparison
# How many machine epsilons times the size of the numbers a gradient's formula adds up (see
# _rounding_scale) a right gradient may be off: backward adds them in another order than sympy.
ROUNDING_FACTOR = 16


def check_backward(
    root: Tensor,
    derivation: Mapping[str, object] | None = None,
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Compare what ``root.backward()`` computed with a symbolic derivation.

    With no ``derivation``, sympy differentiates the traced formula (``gradients(root)``).
    Otherwise ``derivation`` maps leaf names to your formulas (sympy expressions or matrices
    in the leaves' symbols, a matrix shaped like the leaf, or a column for a vector), e.g.
    ``{"x": z, "y": z, "z": x + y}`` for ``(x + y) * z``.
    Call ``root.backward()`` first; nothing here changes a ``.grad``.

    Tolerances: rtol = 1e-7, atol = 1e-10 for float64 gradients; rtol = 1e-4, atol = 1e-6 if
    any gradient is float32 (its rounding alone is ~1e-7 relative per operation). The default
    atol is scaled down by a leaf's largest gradient entry when that is below 1, but not below
    ROUNDING_FACTOR machine epsilons times the size of the numbers its formula adds up (a
    confident classifier's dL/dlogit, 1 - softmax = 9e-14, is a difference of numbers of size
    1: float64 gets it to about 1e-16 only, in backward as anywhere).

    With no ``derivation``, the traced formula's value is compared with the root's value as
    well: a sympy form (``register``) unlike its op's forward would otherwise differentiate
    another function, and could "agree" with a vjp that is just as wrong.
    """
    names = _leaf_names(root, "check_backward")
    leaves = {names[id(t)]: t for t in _leaves(root) if id(t) in names}
    formulas = gradients(root) if derivation is None else dict(derivation)
    unknown = sorted(set(formulas) - set(leaves))
    if unknown:
        raise KeyError(f"check_backward: no leaf called {unknown}; leaves are {sorted(leaves)}")
    missing = [n for n in formulas if leaves[n].grad is None]
    if missing:
        raise ValueError(f"check_backward: {missing} hold no gradient; call backward() first")
    changed = [n for n, t in leaves.items() if t.modified > root.seq]
    if changed:  # the gradients belong to the old values, the formulas would get the new ones
        raise ValueError(
            f"check_backward: {changed} changed in place (an optimizer step, p -= ...) after the "
            f"root was computed; run the forward pass and backward() again first"
        )
    double = all(np.asarray(leaves[n].grad).dtype == np.float64 for n in formulas)
    least = np.float64 if double else np.float32  # a float64 leaf's gradient may pass float32
    rtol = (1e-7 if double else 1e-4) if rtol is None else rtol
    scaled, atol = atol is None, (1e-10 if double else 1e-6) if atol is None else atol
    point = {}  # symbol name -> value: your formulas may use plain or real symbols
    for name, t in leaves.items():
        for s, v in zip(leaf_symbols(name, t.shape).ravel(), t.data.ravel()):
            point[s.name] = float(v)
    rows: list[Row] = []
    kinks, leaf_atols = {}, {}
    for name, formula in formulas.items():
        t = leaves[name]
        _check_shape(name, formula, t.shape)
        entries = formula if isinstance(formula, sp.MatrixBase) else [formula]
        want = np.array([_evaluate(e, point) for e in entries]).reshape(t.shape)
        scale = float(np.max(np.abs(want), initial=0.0))
        # the default atol shrinks with a gradient smaller than 1, or it would pass any rule
        # for gradients below it (float32's 1e-6: vanishing gradients are that small)
        leaf_atol = atol * min(1.0, scale) if scaled and 0 < scale < np.inf else atol
        assert t.grad is not None  # leaves without a gradient were refused above
        if scaled:  # but never below what float64 (or 32) rounding does where terms cancel
            size = max((_rounding_scale(e, point) for e in entries), default=0.0)
            eps = max(np.finfo(t.grad.dtype).eps, np.finfo(least).eps)  # its arithmetic's
            leaf_atol = max(leaf_atol, ROUNDING_FACTOR * float(eps) * size)
        agrees = bool(np.allclose(t.grad, want, rtol=rtol, atol=leaf_atol))
        rows.append((name, formula, want, t.grad, agrees))
        leaf_atols[name] = leaf_atol
        kinks[name] = _kinks(entries, point)
    value = None
    if derivation is None:  # the formula sympy differentiated: is it what the graph computed?
        traced = _trace(root, names)[id(root)]
        formula_value = np.array([_evaluate(e, point) for e in traced.ravel()])
        value = (formula_value.reshape(root.shape), np.asarray(root.data))
    return Comparison(rows, rtol, atol, kinks, value, leaf_atols)


def expression_size(expr: object) -> int:
    """How big a formula is: the number of operations in it (``sympy.count_ops``), summed over
    the entries of a matrix. Use it to measure expression swell."""
    if isinstance(expr, sp.MatrixBase):
        return int(sum(sp.count_ops(e) for e in expr))
    return int(sp.count_ops(expr))


# -------------------------------------------------------------------------- matrix derivations
@dataclass
class MatmulDerivation:
    """Y = X W with explicit entries, a loss L = sum(G * Y) whose upstream gradient is G, and
    dL/dX, dL/dW found entry by entry with ``sympy.diff`` beside the formulas G W^T, X^T G."""

    X: sp.Matrix
    W: sp.Matrix
    G: sp.Matrix
    Y: sp.Matrix
    L: sp.Expr
    dX: sp.Matrix
    dW: sp.Matrix

    @property
    def dX_is_G_WT(self) -> bool:
        """dL/dX, entry by entry, equals G W^T."""
        return sp.simplify(self.dX - self.G * self.W.T) == sp.zeros(*self.dX.shape)

    @property
    def dW_is_XT_G(self) -> bool:
        """dL/dW, entry by entry, equals X^T G."""
        return sp.simplify(self.dW - self.X.T * self.G) == sp.zeros(*self.dW.shape)


def matmul_derivation(n: int = 2, k: int = 3, m: int = 2) -> MatmulDerivation:
    """Derive the matmul gradients by brute force for an (n, k) X and a (k, m) W.

    Y = X W is (n, m); G (n, m) stands for the upstream gradient dL/dY, so L = sum_ij G_ij Y_ij
    is any loss whose gradient at Y is G. ``dX[i, j] = dL/dX_ij`` comes from ``sympy.diff``.
    """
    X, W, G = symbol_matrix("x", n, k), symbol_matrix("w", k, m), symbol_matrix("g", n, m)
    Y = X * W
    L = sum(G[i, j] * Y[i, j] for i in range(n) for j in range(m))
    dX = sp.Matrix(n, k, lambda i, j: sp.expand(sp.diff(L, X[i, j])))
    dW = sp.Matrix(k, m, lambda i, j: sp.expand(sp.diff(L, W[i, j])))
    return MatmulDerivation(X, W, G, Y, sp.expand(L), dX, dW)
