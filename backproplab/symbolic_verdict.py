"""The verdict of ``symbolic.check_backward``: sympy's gradients beside backward's, leaf by leaf.

``Comparison`` holds the rows and prints the verdict; the helpers here evaluate sympy's formulas
exactly enough to trust (30 digits), refuse a hand derivation shaped unlike its leaf, say where
two gradients differ most, and name the kinks (relu at 0, ties of max) where no derivative
exists. Tracing graphs into sympy is ``symbolic.py``'s job; this file knows nothing of graphs.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ._format import format_array

__all__ = ["Comparison"]

Row = tuple[str, object, np.ndarray, np.ndarray | None, bool]  # a row of Comparison.rows


@dataclass
class Comparison:
    """Symbolic gradients next to the ones ``backward()`` computed, leaf by leaf.

    ``rows`` holds ``(name, formula, sympy value, backward value, agrees)``; ``ok`` is True
    when every leaf agrees to within ``rtol``/``atol``. Printing it gives a table and a verdict.
    ``kinks`` names, by leaf, the kinks the point sits on (see ``check_backward``).
    ``value`` is ``(formula's value, graph's value)`` when sympy differentiated the traced
    formula: if they differ, the formula is not the function the graph computed.
    ``leaf_atols`` is the atol each leaf's gradient was compared with (see ``check_backward``).
    """

    rows: list[Row]
    rtol: float
    atol: float
    kinks: dict[str, list[str]] = field(default_factory=dict)
    value: tuple[np.ndarray, np.ndarray] | None = None
    leaf_atols: dict[str, float] = field(default_factory=dict)

    @property
    def value_agrees(self) -> bool:
        """True when the traced formula gives the value the graph computed (or was not used)."""
        if self.value is None:
            return True
        return bool(np.allclose(self.value[1], self.value[0], rtol=self.rtol, atol=self.atol))

    @property
    def ok(self) -> bool:
        """True when every gradient agrees (and the traced formula is the graph's function)."""
        return self.value_agrees and all(row[4] for row in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = []
        for name, formula, want, got, agrees in self.rows:
            mark = "agrees" if agrees else "DIFFERS" + _largest_difference(want, got)
            shown = str(formula) if len(str(formula)) <= 40 else str(formula)[:37] + "..."
            lines.append(f"  dL/d{name} = {shown}")  # two lines: each fits a laptop's notebook
            lines.append(f"    sympy {format_array(want)}, backward {format_array(got)}: {mark}")
            if not agrees and self.kinks.get(name):
                lines.append(
                    f"    (at a kink: {' and '.join(self.kinks[name])}"
                    f" {'is' if len(self.kinks[name]) == 1 else 'are'} 0 here, where the function"
                    f"\n    has no derivative; sympy takes Heaviside(0) = 1/2, the code another"
                    f" subgradient)"
                )
        n = len(self.rows)
        if self.ok:
            verdict = f"The derivation matches the code: all {n} gradient(s) agree."
        elif not self.value_agrees:
            assert self.value is not None  # (value_agrees is True without one)
            want, got = self.value
            verdict = (
                f"The traced formula gives {format_array(want)} but the graph computed "
                f"{format_array(got)},\nso the gradients below check nothing. Is a sympy form from "
                f"symbolic.register unlike its op's forward?\nWas a leaf's .data changed after the "
                f"forward pass? Or did float64 round a value away (1 - sigmoid(40) is 0)\nor an op "
                f"clamp one (binary_cross_entropy's log at -100)?"
            )
        else:
            bad = ", ".join(row[0] for row in self.rows if not row[4])
            verdict = f"The derivation and the code DISAGREE on: {bad}."
            passes = self._passes()
            if passes:
                verdict += (
                    f"\nEvery .grad is exactly {passes} times the derivation's, as after "
                    f"{passes} backward() calls\nwith no zero_grad() (or .grad = None) in between, "
                    "or as from a rule (or a derivation)\noff by that factor."
                )
        return "\n".join([verdict, *lines, *self._tolerances()])

    def _passes(self) -> int | None:
        """k (2 to 10) when every leaf's gradient is k times the derivation's: gradients of k
        backward() calls added up, the commonest reason for a right rule to disagree."""
        for k in range(2, 11):
            if all(
                got is not None
                and np.allclose(
                    got, k * want, rtol=self.rtol, atol=k * self.leaf_atols.get(name, self.atol)
                )
                for name, _, want, got, _ in self.rows
            ) and any(np.any(want != 0) for _, _, want, _, _ in self.rows):
                return k
        return None

    def _tolerances(self) -> list[str]:
        """The tolerances the rows were compared with, wrapped to a laptop notebook's width."""
        atols = ", ".join(f"{n} {self.leaf_atols[n]:.1e}" for n in self.leaf_atols)
        text = f"(each entry within atol + rtol * |sympy|: rtol {self.rtol:.0e}; atol {atols})"
        return textwrap.wrap(text, 96, initial_indent="  ", subsequent_indent="  ")

    __repr__ = __str__


def _largest_difference(want: np.ndarray, got: np.ndarray | None) -> str:
    """Where two gradients differ most, for a DIFFERS row: the summary of a big array (shape
    and norm) can look the same for both."""
    if got is None or np.shape(want) != np.shape(got) or np.size(want) <= 1:
        return ""
    gap = np.abs(np.asarray(got, dtype=float) - want)
    where = np.unravel_index(np.nanargmax(gap) if not np.all(np.isnan(gap)) else 0, gap.shape)
    index = tuple(int(i) for i in where)
    return f" (most at index {index}: sympy {want[where]:.6g}, backward {got[where]:.6g})"


def _kinks(entries: Iterable[Any], point: dict[str, float]) -> list[str]:
    """The steps Heaviside(a) in the formulas whose argument a is 0 at the point: relu at 0,
    max with ties. There the function has no derivative, and sympy's Heaviside(0) = 1/2 is a
    convention, not the calculus (a three-way tie of max gets 1/2 for each entry)."""
    found = []
    for e in entries:
        for h in sorted(sp.sympify(e).atoms(sp.Heaviside), key=str):
            arg = h.args[0]
            exact = {s: sp.Rational(point[s.name]) for s in arg.free_symbols if s.name in point}
            if str(arg) not in found and arg.subs(exact) == 0:  # exactly: the inputs' binary values
                found.append(str(arg))
    return found


def _check_shape(name: str, formula: object, shape: tuple[int, ...]) -> None:
    """A derivation must be shaped like its leaf, as ``gradients`` gives it: one formula for a
    scalar, a sympy Matrix of the leaf's shape otherwise (a column for a vector; a row is
    fine too). A transposed matrix is refused: its entries would be compared in the wrong
    places."""
    size = int(np.prod(shape))
    if isinstance(formula, sp.MatrixBase):
        rows = shape[0] if shape else 1
        fits = [(rows, size // rows if rows else 0)] + ([(1, size)] if len(shape) <= 1 else [])
        if formula.shape in fits:
            return
        got = f"a {formula.rows} x {formula.cols} Matrix"
    elif isinstance(formula, (list, tuple, np.ndarray)):
        got = f"a {type(formula).__name__}"  # its entries would be read as one formula
    elif size == 1:
        return
    else:
        got = "one formula"
    raise ValueError(
        f"check_backward: the derivation of '{name}' is {got}, but '{name}' has shape {shape}: "
        f"give a sympy Matrix with {_fits_text(shape)}"
    )


def _fits_text(shape: tuple[int, ...]) -> str:
    """How a Matrix for a leaf of this shape is laid out, in words."""
    if len(shape) <= 1:
        return f"{int(np.prod(shape))} entries (a column or a row)"
    rows = f"{shape[0]} row" + ("s" if shape[0] != 1 else "")
    return f"{rows} of {int(np.prod(shape[1:]))} entries"


def _evaluate(formula: object, point: dict[str, float]) -> float:
    expr = sp.sympify(formula)
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in point)
    if unknown:
        raise ValueError(
            f"check_backward: the formula {formula} uses {unknown}, which are no leaves"
        )
    free = {s: point[s.name] for s in expr.free_symbols}
    # 30 digits, raised further where terms cancel: subs() computes in 15-digit floats, and
    # 1 - sigmoid(40) became 0 (or less: log of it, a complex number)
    value = expr.evalf(30, subs=free)
    if isinstance(value, sp.Float) and value._prec <= 1:  # terms that cancel exactly: sympy
        return 0.0  # knows no digit (it prints 0.e-166), and 1e-166 is only its error bound
    return float(value)


def _rounding_scale(formula: object, point: dict[str, float]) -> float:
    """The size of the numbers float64 adds up on the way to ``formula``'s value: the formula
    with every sum a + b replaced by |a| + |b| (products and powers of such sizes alike;
    functions, quotients and symbols count as their own values). Where terms cancel, this is
    far above the value: 1 - softmax_1 at logits (30, 0) is 9.4e-14, a difference of numbers of
    size 1, and float64 gets it only to about 1e-16, as backward does. The error of a right
    gradient is a few machine epsilons times this size. Anything not a real number counts 0."""
    expr = sp.sympify(formula)
    subs = {s: point[s.name] for s in expr.free_symbols if s.name in point}
    sizes: dict[sp.Basic, sp.Float] = {}

    def size(e: sp.Basic) -> sp.Float:
        if e not in sizes:
            if e.is_Add:
                sizes[e] = sp.Add(*[size(a) for a in e.args])
            elif e.is_Mul:
                sizes[e] = sp.Mul(*[size(a) for a in e.args])
            elif e.is_Pow and e.exp.is_number and e.exp.is_positive:
                sizes[e] = size(e.base) ** e.exp
            else:  # a symbol, a number, a function, 1 / x: its own value
                value = e.evalf(30, subs=subs)
                real = (
                    value.is_Number and value.is_finite and getattr(value, "_prec", 0) > 1
                )  # not 0.e-165
                sizes[e] = abs(value) if real else sp.Float(0)
        return sizes[e]

    try:
        total = float(size(expr))
    except (TypeError, ValueError):  # an imprecise zero sympy cannot compare: no size
        return 0.0
    return total if np.isfinite(total) else 0.0
