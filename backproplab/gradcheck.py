"""Checking gradients against finite differences.

Three checks, from thorough to cheap:

* ``gradcheck`` compares every entry of every input's gradient with a central difference
  (f(x + eps) - f(x - eps)) / (2 eps): two forward passes per entry (four more for an entry
  that fails the first comparison, see below).
* ``check_direction`` compares the gradient along one random direction v with
  (f(x + eps v) - f(x - eps v)) / (2 eps): two forward passes in all, for inputs of any size.
* ``nudge_check`` nudges every parameter at once (notebook 06), and compares the change of
  the loss that the gradient predicts, sum(grad * nudge), with the change that really happens.

Defaults, and why (they follow ``torch.autograd.gradcheck``):

* float64 only. A central difference has truncation error ~ eps^2 * f''' and rounding error
  ~ machine_eps * |f| / eps; in float64 (machine eps 2.2e-16) eps = 1e-6 keeps both near 1e-10.
  In float32 (1.2e-7) no eps is good enough, so float32 inputs are refused, and so is a
  float32 output (a cast inside fn: a step of 1e-6 on 3.0 is lost in float32's rounding).
  The difference is divided by the step float64 really took, (x + eps) - (x - eps) as stored
  (near x = 1e8, spaced 1.5e-8, it is 0.2 % off 2 eps); a step lost entirely is refused.
* An entry passes when |analytic - numeric| <= atol' + rtol * |numeric|, with rtol = 1e-3 and
  atol' = atol = 1e-5 for an input whose gradient is of size 1 or more (as torch's): loose
  enough for rounding, tight enough that a wrong rule (a missing factor 2, a transposed matrix)
  fails by orders of magnitude. A fixed atol would pass ANY rule for an input whose gradients
  are all below it (f scaled by 1e-6), so it shrinks with the input's largest gradient entry
  s: atol' = atol * s when s < 1 (as ``bl.symbolic.check_backward``'s). It never goes below
  the entry's own finite-difference error, though: a gradient that is truly 0 comes out of
  the differences as rounding noise (~1e-10), not 0. That error is measured, for an entry that
  would fail otherwise, by redoing its difference with the steps 2 eps and eps / 2 (their
  disagreement with step eps is of the size of its rounding and truncation error), and is
  at least what rounding alone can do, machine_eps * |f| / eps (the three differences can all
  come out exactly 0 while backward's rounding leaves 1e-17); the tolerance is then
  NOISE_FACTOR times it, capped at atol. So the check is never looser than
  |a - n| <= atol + rtol * |n|, and tighter for small gradients. ``check_direction`` treats its
  one slope the same way (with its own atol and rtol). A failure within NOISE_FACTOR times
  that measured error is reported as one the differences cannot judge (not as a wrong gradient).
* Kinks: at a point where the function is not differentiable (relu at 0, max with ties, abs at
  0) the two one-sided slopes differ and no check can pass. Keep inputs at least ~1e-3 from
  kinks. Large values are out of reach too: near f = 1e10 float64's spacing is 2e-6, so a step
  of eps = 1e-6 barely changes f (subtract such a constant before checking).
* Refused rather than checked (``_gradcheck_inputs.py``): a function whose output depends on
  none of its inputs (it uses a notebook's tensor instead: nothing would be checked), and an op
  that writes into its input arrays in its forward or vjp (its values are put back).
* A non-scalar output f is checked through the scalar sum(u * f) for a fixed random u, so every
  output's gradient takes part (a vector-Jacobian product, which is what backward computes).
  A scalar output is differentiated as -1.7 * f (the gradients divided back by -1.7), so that
  every rule gets an upstream gradient other than 1: one that forgets to multiply by it fails.
  So check an op's own output, not its ``.sum()``: after a sum (or mean) every entry of the
  op's upstream gradient is the same number, and a vjp that mixes up g's entries (g.T, g.mean())
  passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ._differences import NOISE_FACTOR, _allowed, _difference, _lost_step, _rounding
from ._gradcheck_inputs import NOT_DETERMINISTIC, Unchanged, checked_inputs, checked_settings
from ._numbers import count, is_real
from .autodiff import no_grad, toposort
from .ops import Op
from .tensor import Tensor, apply

__all__ = [
    "DirectionReport",
    "GradcheckError",
    "GradcheckReport",
    "NudgeReport",
    "check_direction",
    "gradcheck",
    "nudge_check",
]


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with finite differences."""


@dataclass
class InputCheck:
    """How one input's gradient compares with finite differences."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    passed: bool
    unsure: int = 0  # failing entries whose error is within NOISE_FACTOR times their noise
    noise: float = 0.0  # the largest of those entries' measured finite-difference error


@dataclass
class GradcheckReport:
    """The result of ``gradcheck``: one row per input, and whether all passed."""

    rows: list[InputCheck]
    eps: float
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        """True when every input passed."""
        return all(r.passed for r in self.rows)

    def __str__(self) -> str:
        lines = [f"{'input':<12}{'shape':<14}{'max abs error':>15}{'max rel error':>15}  ok"]
        for r in self.rows:
            ok = "yes" if r.passed else "NO"
            errors = f"{r.max_abs_error:>15.2e}{r.max_rel_error:>15.2e}"
            lines.append(f"{r.name:<12}{str(r.shape):<14}{errors}  {ok}")
        for r in self.rows:
            if r.unsure:  # the differences cannot tell: say so rather than blame the gradient
                lines.append(
                    f"{r.name}: {r.unsure} failing entr{'y is' if r.unsure == 1 else 'ies are'} "
                    f"within {NOISE_FACTOR:g} times the finite differences' own error "
                    f"(up to {r.noise:.1e}),\nso the differences cannot judge "
                    f"{'it' if r.unsure == 1 else 'them'}: is a kink (relu at 0, a tie of max) "
                    f"within eps of the point,\nor f so large that rounding swamps a step of eps?"
                )
        verdict = "passed" if self.passed else "FAILED"
        lines.append(
            f"gradcheck {verdict} (eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})"
        )
        return "\n".join(lines)

    __repr__ = __str__


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Compare backward()'s gradients of ``fn(*inputs)`` with central differences (``fn`` a
    function of tensors, or an ``Op``).

    Every input with ``requires_grad=True`` is checked, entry by entry. Returns a report (a
    readable table); raises GradcheckError when a check fails, unless ``raise_exception=False``.

    An entry passes when |analytic - numeric| <= atol' + rtol * |numeric|. atol' is ``atol``
    for an input whose largest gradient entry s is 1 or more and ``atol * s`` below that (so
    a tiny function cannot pass a wrong rule), but not below NOISE_FACTOR times the entry's
    own finite-difference error, measured when needed (a true 0 comes out as ~1e-10 for an f
    of size 1), nor above ``atol``.

    ``fn`` runs twice per entry: a BatchNorm in training mode inside it updates its running
    averages every time (to about the batch's statistics); save ``state_dict()`` and load it back.
    """
    checked_settings("gradcheck", fn, eps, atol, rtol)
    count("gradcheck", "seed", seed, 0)  # (numpy's error named neither; None: a new u each run)
    checked = checked_inputs("gradcheck", inputs)
    unchanged = Unchanged("gradcheck", inputs)
    project = _projection("gradcheck", fn, inputs, seed, unchanged)
    analytic = _analytic(project, inputs, checked, unchanged)

    rows = []
    for i in checked:
        x = inputs[i]
        numeric, rounding = np.zeros_like(x.data), np.zeros_like(x.data)
        original = x.data
        x.data = original.copy()
        try:  # x gets its own array back, even when fn raises at a nudged value
            for idx in np.ndindex(*x.shape):  # two forward passes per entry
                numeric[idx], rounding[idx] = _difference(project, inputs, x, idx, eps)
            error = np.abs(analytic[i] - numeric)
            allowed = _allowed(numeric, atol, rtol)
            failing = [idx for idx in np.ndindex(*x.shape) if not error[idx] <= allowed[idx]]
            noise = np.zeros_like(numeric)
            if failing:  # a second opinion: how far off are the differences themselves?
                for idx in failing:
                    other = [
                        _difference(project, inputs, x, idx, step, False)[0]
                        for step in (2 * eps, eps / 2)
                    ]
                    noise[idx] = max([rounding[idx]] + [abs(numeric[idx] - d) for d in other])
                allowed = _allowed(numeric, atol, rtol, noise)
        finally:
            x.data = original
        with np.errstate(over="ignore"):  # a wrong gradient where the differences give 0: inf
            rel = error / np.maximum(np.abs(numeric), np.finfo(np.float64).tiny)
        ok = bool(np.all(error <= allowed))
        unsure = ~(error <= allowed) & (error <= NOISE_FACTOR * noise)
        row = InputCheck(x.name or f"input {i}", x.shape, _max(error), _max(rel), ok)
        row.unsure, row.noise = int(unsure.sum()), _max(np.where(unsure, noise, 0.0))
        rows.append(row)
    report = GradcheckReport(rows, eps, atol, rtol)
    if raise_exception and not report.passed:
        raise GradcheckError("gradients disagree with finite differences:\n" + str(report))
    return report


@dataclass
class DirectionReport:
    """The result of ``check_direction``: the slope along one direction, two ways."""

    analytic: float
    numeric: float
    rtol: float
    atol: float
    noise: float = 0.0  # the differences' own error, measured only when needed (see passed)

    @property
    def error(self) -> float:
        """|analytic - numeric|."""
        return abs(self.analytic - self.numeric)

    @property
    def allowed(self) -> float:
        """How far apart the slopes may be: atol' + rtol * |numeric|, where atol' is atol scaled
        by |numeric| when that is below 1, but at least NOISE_FACTOR * noise (at most atol)."""
        return float(_allowed(np.array(self.numeric), self.atol, self.rtol, np.array(self.noise)))

    @property
    def passed(self) -> bool:
        """True when the two slopes agree: error <= allowed."""
        return bool(self.error <= self.allowed)

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        text = (
            # 8 digits: a difference's ninth and tenth are rounding noise (they change with the
            # CPU's matrix kernels); the error line shows how far apart the two are
            f"directional derivative: backward {self.analytic:.8g}, finite differences "
            f"{self.numeric:.8g}\nerror {self.error:.2e}, allowed {self.allowed:.2e} -> {verdict}"
        )
        if not self.passed and self.error <= NOISE_FACTOR * self.noise:
            text += (
                f"\nbut that is within {NOISE_FACTOR:g} times the finite differences' own error "
                f"({self.noise:.1e}),\nso they cannot judge it: is a kink (relu at 0, a tie of "
                f"max) within eps of the point,\nor f so large that rounding swamps a step of eps?"
            )
        return text

    __repr__ = __str__


def check_direction(
    fn: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
    raise_exception: bool = True,
) -> DirectionReport:
    """Check the gradient of ``fn(*inputs)`` along one random direction: cheap for big inputs.

    The slope along v is sum(grad * v) by backward, and (f(x + eps v) - f(x - eps v)) / (2 eps)
    by finite differences (v is a unit vector over all checked inputs together).
    """
    checked_settings("check_direction", fn, eps, atol, rtol)
    count("check_direction", "seed", seed, 0)
    checked = checked_inputs("check_direction", inputs)
    # a tensor passed twice moves once, along one direction (its gradient is the total of both)
    checked = [
        i for n, i in enumerate(checked) if all(inputs[j] is not inputs[i] for j in checked[:n])
    ]
    unchanged = Unchanged("check_direction", inputs)
    project = _projection("check_direction", fn, inputs, seed, unchanged)
    analytic = _analytic(project, inputs, checked, unchanged)
    rng = np.random.default_rng(seed + 1)
    direction = {i: rng.standard_normal(inputs[i].shape) for i in checked}
    norm = np.sqrt(sum(float((v**2).sum()) for v in direction.values()))
    direction = {i: v / norm for i, v in direction.items()}

    originals = {i: inputs[i].data for i in checked}
    # The steps are 1, 2 and 4 times the displacement float64 stores for eps / 2 (x + eps/2 v,
    # rounded, minus x): multiples of it are stored exactly, so all three slopes are taken along
    # one direction, and backward's slope along it too (near x = 1e6, where numbers are 1.2e-10
    # apart, x + 1e-6 v was 1e-5 off its direction: check_direction's rtol)
    half = {i: (x + eps / 2 * direction[i]) - x for i, x in originals.items()}
    for i, d in half.items():
        if not np.all(d):  # an entry that would never move
            where = np.unravel_index(np.argmin(np.abs(d)), d.shape)
            raise ValueError(_lost_step("check_direction", eps / 2, originals[i][where]))
    analytic_slope = sum(float((analytic[i] * d).sum()) for i, d in half.items()) / (eps / 2)

    def slope(k: int) -> tuple[float, float]:  # with its rounding error (see _difference)
        values = []
        try:
            for sign in (k, -k):
                for i in checked:
                    inputs[i].data = originals[i] + sign * half[i]
                values.append(project(inputs))
        finally:  # the inputs' own arrays come back, even when fn raises
            for i in checked:
                inputs[i].data = originals[i]
        step = k * eps / 2
        return (values[0] - values[1]) / (2 * step), _rounding(values[0], values[1], step)

    numeric, rounding = slope(2)
    report = DirectionReport(analytic_slope, numeric, rtol, atol)
    if not report.passed:  # a second opinion: how far off is the difference itself?
        others = [abs(numeric - slope(k)[0]) for k in (4, 1)]  # steps 2 eps and eps / 2
        report.noise = max([rounding, *others])
    if raise_exception and not report.passed:
        raise GradcheckError(str(report))
    return report


@dataclass
class NudgeReport:
    """What a nudge of every parameter does to the loss: predicted by the gradient, and actual."""

    loss_before: float
    loss_after: float
    predicted_change: float

    @property
    def actual_change(self) -> float:
        """loss_after - loss_before."""
        return self.loss_after - self.loss_before

    @property
    def relative_difference(self) -> float:
        """|predicted - actual| / |actual|: small when the first-order prediction holds."""
        return abs(self.predicted_change - self.actual_change) / max(
            abs(self.actual_change), float(np.finfo(np.float64).tiny)
        )

    def __str__(self) -> str:
        return (
            f"loss {self.loss_before:.6f} -> {self.loss_after:.6f}\npredicted change "
            f"{self.predicted_change:+.6f}, actual change {self.actual_change:+.6f} "
            f"(relative difference {self.relative_difference:.1e})"
        )

    __repr__ = __str__


def nudge_check(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    nudge: float | Sequence[np.ndarray] = 1e-3,
) -> NudgeReport:
    """Nudge every parameter at once and compare predicted with actual change of the loss.

    ``loss_fn()`` computes the loss from ``params``. ``nudge`` is a number added to every entry
    (the same small epsilon for all parameters), or one array per parameter, e.g. ``-lr * grad``
    for a gradient-descent step. Predicted change: sum over parameters of grad * nudge.
    The parameters and every tensor's ``.grad`` are left as they were. ``loss_fn`` runs three
    times: a BatchNorm in training mode updates its running averages each time (save
    ``state_dict()`` and load it back), and a Dropout in training mode is refused.
    """
    if not callable(loss_fn):  # nudge_check([w], loss_fn): the arguments swapped
        raise TypeError(
            f"nudge_check: loss_fn must be a function of no arguments that returns the loss, "
            f"got a {type(loss_fn).__name__}; call nudge_check(loss_fn, params)"
        )
    given = params
    many = isinstance(given, Iterable) and not isinstance(given, (Tensor, str))  # not its rows
    params = list(given) if many else []
    if not params or not all(isinstance(p, Tensor) for p in params):
        raise TypeError(
            f"nudge_check: params must be a list of tensors, e.g. model.parameters() or [w], "
            f"got {type(given).__name__}"
        )
    for i, p in enumerate(params):
        if not p.requires_grad:  # it would be nudged, but no gradient would predict its share
            raise ValueError(
                f"nudge_check: parameter {i} (shape {p.shape}) does not require grad, so no "
                f"gradient can predict what its nudge does; leave it out or set requires_grad"
            )
    one = is_real(nudge) or (isinstance(nudge, np.ndarray) and nudge.ndim == 0)  # for every entry
    try:  # each in its parameter's dtype (None, text: numpy's errors named neither)
        nudges = [np.full(p.shape, nudge) for p in params] if one else list(nudge)  # type: ignore[arg-type]
        deltas = [np.asarray(d, dtype=p.dtype) for p, d in zip(params, nudges)]
    except (TypeError, ValueError):
        nudges = deltas = []
    if len(nudges) != len(params) or any(d.shape != p.shape for d, p in zip(deltas, params)):
        raise ValueError("nudge_check: give one nudge array per parameter, shaped like it")
    saved, unchanged = [p.data for p in params], Unchanged("nudge_check", params, "parameter")
    try:  # the parameters come back, even when loss_fn raises
        loss = loss_fn()
        unchanged.check("loss_fn's forward pass")
        if not isinstance(loss, Tensor):  # loss.item(), a float: no graph to backpropagate
            raise TypeError(
                f"nudge_check: loss_fn returned a {type(loss).__name__}, not a Tensor; return "
                f"the loss tensor itself (not loss.item())"
            )
        grads = _gradients(loss, params)
        unchanged.check("backward (an op's vjp)")
        with no_grad():
            if not np.array_equal(loss_fn().data, loss.data, equal_nan=True):  # a new Dropout mask
                raise ValueError(f"nudge_check: loss_fn {NOT_DETERMINISTIC}")
        grads = [np.zeros_like(p.data) if g is None else g for p, g in zip(params, grads)]
        predicted = sum(float((g * d).sum()) for g, d in zip(grads, deltas))
        for p, d in zip(params, deltas):
            p.data = p.data + d
        with no_grad():
            after = loss_fn().item()
    finally:
        for p, data in zip(params, saved):
            p.data = data
    return NudgeReport(loss.item(), after, predicted)


# ------------------------------------------------------------------------------------ helpers
# A scalar output f is differentiated as SCALAR_SEED * f (and the gradient divided back): with
# the seed 1, a rule that drops the upstream gradient g (returns 2 x for x**2, not g * 2 x) gave
# the right numbers whenever it was the last op, or was followed by .sum(), and passed.
SCALAR_SEED = -1.7


def _projection(
    caller: str, fn: Callable[..., Tensor] | Op, inputs: Sequence[Tensor], seed: int, unchanged
):
    """A function of the inputs returning the float sum(u * fn(*inputs)), u fixed and random
    (for a scalar output, u = 1). With ``grad=True`` it returns the tensor whose backward
    gives the analytic gradients: sum(u * fn) again, or SCALAR_SEED * fn for a scalar output
    (``project.scale`` is what the gradients are then divided by).
    An ``Op`` is checked as ``apply(op, *inputs)``."""
    if isinstance(fn, Op):
        op = fn
        fn = lambda *xs: apply(op, *xs)  # noqa: E731
    with no_grad():
        out = fn(*inputs)
    unchanged.check("fn's forward pass")
    if not isinstance(out, Tensor):  # np.sum(t.data), float(...): no graph to backpropagate
        raise TypeError(
            f"{caller}: fn returned a {type(out).__name__}, not a Tensor; build it from the "
            f"package's ops on the input tensors (t.sum(), bl.exp(t) ...), not numpy on t.data"
        )
    if np.issubdtype(out.dtype, np.floating) and out.dtype != np.float64:  # a cast inside fn
        raise TypeError(  # its rounding (1e-7 in float32) would swamp a step of eps
            f"{caller}: fn's output of shape {out.shape} is {out.dtype}; finite differences "
            f"need float64 throughout (is there an astype inside fn?)"
        )
    u = 1.0 if out.size == 1 else np.random.default_rng(seed).standard_normal(out.shape)
    scale = SCALAR_SEED if out.size == 1 else 1.0

    def project(xs: Sequence[Tensor], grad: bool = False) -> float | Tensor:
        if grad:  # (called once, at the inputs themselves: the same output as `out` above)
            again = fn(*xs)
            if not again.requires_grad:  # made from t.data, a new Tensor(...), or no_grad()
                raise ValueError(
                    f"{caller}: fn's output has no graph back to the inputs (computed from "
                    f"t.data, a new bl.Tensor(...) or inside no_grad?), so there is no gradient "
                    f"to check; use the input tensors themselves"
                )
            if again.shape != out.shape or not np.array_equal(again.data, out.data, equal_nan=True):
                raise ValueError(f"{caller}: fn {NOT_DETERMINISTIC}")  # differences measure noise
            return (again * (u * scale)).sum()
        with no_grad():
            return float((fn(*xs).data * u).sum())

    project.scale = scale  # type: ignore[attr-defined]  # a function's attribute: _analytic reads it
    return project


def _analytic(
    project, inputs: Sequence[Tensor], checked: list[int], unchanged: Unchanged
) -> dict[int, np.ndarray]:
    root = project(inputs, grad=True)
    unchanged.check("fn's forward pass")
    reached = {id(t) for t in toposort(root)}
    if not any(id(inputs[i]) in reached for i in checked):  # fn uses a tensor from outside
        raise ValueError(
            f"{unchanged.caller}: fn's output does not depend on any input it was given, so no "
            f"gradient would be checked; does fn use a tensor from outside (a notebook's "
            f"variable) instead of its argument?"
        )
    grads = _gradients(root, [inputs[i] for i in checked])
    unchanged.check("backward (an op's vjp)")
    return {
        i: np.zeros_like(inputs[i].data) if g is None else np.asarray(g) / project.scale
        for i, g in zip(checked, grads)
    }


def _gradients(root: Tensor, tensors: Sequence[Tensor]) -> list[np.ndarray | None]:
    """The gradients of root with respect to ``tensors``, by root.backward(), with every
    leaf's ``.grad`` left as it was: fn may use parameters it was not given (a model's weights,
    a closure's), and a check must not add its gradients (scaled by SCALAR_SEED) to theirs."""
    leaves = [t for t in toposort(root) if t.op is None] + list(tensors)
    saved = [(t, t.grad) for t in leaves]
    for t in leaves:
        t.grad = None
    try:
        root.backward()
        return [t.grad for t in tensors]
    finally:  # the caller's gradients come back, even when backward raised
        for t, grad in saved:
            t.grad = grad


def _max(a: np.ndarray) -> float:
    return float(a.max()) if a.size else 0.0
