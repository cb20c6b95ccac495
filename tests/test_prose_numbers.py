"""A number the prose states is one the code printed: the notebooks' claims, held to their outputs.

nbval holds every notebook's stored outputs to what its code prints (and its sanitize file lets
the numbers below 1e-8 through unseen). Nothing held the markdown around those outputs: "the loss
falls to 0.31" could go stale when a seed or a cell changed. Each claim below ties one phrase of
the prose to the one code cell whose output backs it:

- ``prose``, a pattern searched in the notebook's markdown cells (whitespace collapsed to single
  spaces), which must match in exactly one of them; its groups are the numbers the prose states;
- ``output``, a pattern searched in each code cell's text output (stream and text/plain, joined),
  which must match in exactly one code cell; its groups, over every match in that cell in order,
  are the numbers the code printed;
- ``holds``, how the two must relate: ``same`` (the prose's number is the printed one rounded to
  the prose's own digits), or a comparison written out for a claim such as "more than twenty
  orders of magnitude" or "it grew a little".

Change a sentence or a cell so that they disagree and the claim fails, naming both. A claim whose
phrase was reworded fails too, because its pattern finds nothing: update the claim with the prose.
And no claim is vacuous: each number a claim states, changed on its own to a thousand times
larger or smaller (0 to 1 or -1), stops it holding (the second test).
The numbers are parsed by ``number``: "1,347", "97.78%", "0.024", "2.6e-20", "$6 \\cdot 10^{-20}$",
"$10^{-19}$", "twenty". A few claims of the README and docs/teaching.md that are not stored
outputs (counts, not timings) are computed at the end.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "eight": 8, "ten": 10, "fourteen": 14,
         "nineteen": 19, "twenty": 20, "fifty": 50, "hundred": 100, "thousand": 1000,
         "half": 0.5, "quarter": 0.25}  # fmt: skip
POWER = re.compile(r"(?:(-?\d+(?:\.\d+)?)\s*\\(?:cdot|times)\s*)?10\^\{?(-?\d+)\}?")


class Num(float):
    """A number as written: its value, and the text it came from (for its precision)."""

    text: str

    def __new__(cls, text: str) -> Num:
        value = float.__new__(cls, _value(text))
        value.text = text
        return value


class Text(str):
    """A group that is not one number (a file name, a row of numbers): kept as it is written."""

    @property
    def text(self) -> str:
        return str(self)


def _value(text: str) -> float:
    text = text.strip().replace(",", "").rstrip("%").strip().strip("$")
    if text.lower() in WORDS:
        return WORDS[text.lower()]
    power = POWER.fullmatch(text)
    if power:
        return float(f"{power.group(1) or 1}e{power.group(2)}")  # as written, no 10.0 ** n
    return float(text)


def number(text: str) -> Num | Text:
    """The number a piece of prose or output writes (see the module docstring), or the text itself
    when it is not one number."""
    try:
        return Num(text)
    except ValueError:
        return Text(text)


def half_unit(p: float) -> float:
    """Half a unit of the last digit the number was written with: how far the exact value may be
    from it and still be written so. "0.024": 0.0005; "$2 \\cdot 10^{-14}$": 0.5e-14; "1,347": 0.5.
    A number without its text (a test's own) counts as written to its float's shortest repr."""
    text = getattr(p, "text", repr(float(p))).strip().replace(",", "").rstrip("%").strip("$ ")
    if text.lower() in WORDS:
        return 0.5
    power = POWER.fullmatch(text)
    mantissa, exponent = (power.group(1) or "1", int(power.group(2))) if power else (text, 0)
    if "e" in mantissa.lower():
        mantissa, exp = mantissa.lower().split("e")
        exponent += int(exp)
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (exponent - decimals)


def same(p: list[float], o: list[float]) -> bool:
    """The prose states the printed numbers, each rounded to the prose's own digits; a bare power
    of ten ("$10^{-19}$") states the printed number's order of magnitude."""
    if len(p) != len(o):
        return False
    for stated, printed in zip(p, o):
        bare_power = re.fullmatch(r"\$?10\^\{?-?\d+\}?\$?", getattr(stated, "text", ""))
        if bare_power:
            if not order(stated, printed):
                return False
        elif abs(printed - stated) > half_unit(stated) * (1 + 1e-9):
            return False
    return True


def order(p: float, o: float) -> bool:
    """``o`` is about ``p`` on a log scale: nearer to it than to ten times or a tenth of it."""
    return p > 0 and o > 0 and abs(math.log10(o / p)) < 0.5


def about(p: float, o: float, within: float) -> bool:
    """``o`` is ``p`` to within the fraction ``within`` of it."""
    return abs(o - p) <= within * abs(p)


def rows(numbers: list, width: int) -> list[list]:
    """A table's numbers, as printed row after row, back in rows of ``width``."""
    assert len(numbers) % width == 0, numbers
    return [numbers[k : k + width] for k in range(0, len(numbers), width)]


def pairs(items: list) -> list[tuple]:
    """Each item with the next."""
    return list(zip(items, items[1:]))


def number_list(text: str) -> list[float]:
    """Every number of a printed row ("0.829  0.953  0.973")."""
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", text)]


def jumps(accuracies: list[float]) -> bool:
    """The accuracy falls after some epochs and rises after others: not a steady climb."""
    steps = np.diff(accuracies)
    return bool((steps < 0).any() and (steps > 0).any())


Holds = Callable[[list, list], bool]  # (numbers stated, numbers printed) -> the claim holds


@dataclass(frozen=True)
class Claim:
    notebook: str  # "09": notebooks/09_*.ipynb
    prose: str  # pattern of the markdown; its groups are the numbers the prose states
    output: str  # pattern of one code cell's text output; its groups are the numbers printed
    holds: Holds = same

    def __str__(self) -> str:
        return f"{self.notebook}: {self.prose}"


CLAIMS = [
    # ------------------------------------------------------------------------------------- 01
    Claim("01", r"changing those (\d+) numbers so that",
          r"= (\d+) numbers"),
    Claim("01", r"keeping the other (\d+) parameters at their current values",
          r"= (\d+) numbers", lambda p, o: p[0] == o[0] - 1),
    Claim("01", r"The other (\d+) gradients we check",
          r"= (\d+) numbers", lambda p, o: p[0] == o[0] - 1),
    Claim("01", r"\(`bl.gradcheck` makes (two) passes per parameter, plus (two) of its own",
          r"forward difference\s+(\d+) forward passes(?s:.*)central \(gradcheck\)\s+(\d+) forward ",
          lambda p, o: o[1] == p[0] * (o[0] - 1) + p[1]),  # the forward difference: P + 1
    Claim("01", r"the size of \$L\$ roughly doubles with every layer",
          r"(?m)^\s+\d\s+\d+\s+(\d+)\s+\d+\s+\d+\s+\d+$",
          lambda p, o: all(1.5 < b / a < 3 for a, b in zip(o, o[1:]))),
    Claim("01", r"The `backproplab` graph grows by a fixed number of nodes per layer",
          r"(?m)^\s+\d\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)$",
          lambda p, o: len(set(np.diff(o))) == 1),
    Claim("01", r"near \$\\sqrt\{10\^\{-16\}\} = (10\^\{-8\})\$ for the forward difference and "
          r"near \$\(10\^\{-16\}\)\^\{1/3\} \\approx (10\^\{-5\})\$ for the central one",
          r"eps = (\S+) does best",  # forward, then central; "near": within a factor of ten
          lambda p, o: all(abs(math.log10(b / a)) <= 1 for a, b in zip(p, o))),
    Claim("01", r"forward mode pays \$P\$ times more",
          r"(?m)^\s+(\d+)\s+\d+\s+([\d,]+)\s+([\d,]+)\s+(\d+)$",
          lambda p, o: all(f == width * r and ratio == width for width, f, r, ratio in rows(o, 4))),
    Claim("01", r"A function of (2) inputs with ([\d,]+) outputs",
          r"forward mode is (\d+) times cheaper here", lambda p, o: o[0] == p[1] / p[0]),
    Claim("01", r"for a large enough batch they outnumber the parameters",
          r"(?m)^\s+1024\s+\d+\s+([\d,]+)\s+([\d,]+)$", lambda p, o: o[0] > o[1]),
    Claim("01", r"an MLP of ([\d,]+) parameters would need that many passes",
          r"has ([\d,]+) parameters"),
    Claim("01", r"From (two) layers on, evaluating the gradient formulas exactly as they were "
          r"derived", r"(?m)^\s+(\d)\s+([\d,]+)\s+([\d,]+)\s+[\d,]+$",
          lambda p, o: [r[0] for r in rows(o, 3) if r[2] > r[1]][0] == p[0]
          and all(r[2] > r[1] for r in rows(o, 3) if r[0] >= p[0])),
    Claim("01", r"and the gap widens with every layer",
          r"(?m)^\s+(\d)\s+([\d,]+)\s+([\d,]+)\s+[\d,]+$",
          lambda p, o: all(b[2] / b[1] > a[2] / a[1] for a, b in pairs(rows(o, 3)))),
    # ------------------------------------------------------------------------------------- 02
    Claim("02", r"a nudge (ten) times smaller makes the \*relative\* gap (ten) times smaller too "
          r"\(and the absolute gap a (hundred) times smaller\)",
          r"dx = (\S+)\s*: predicted change (\S+), actual change (\S+), relative gap (\S+)",
          lambda p, o: all(  # each row (dx, predicted, actual, relative gap) against the next
              about(p[0], a[0] / b[0], 0.01) and about(p[1], a[3] / b[3], 0.2)
              and about(p[2], abs(a[2] - a[1]) / abs(b[2] - b[1]), 0.2)
              for a, b in pairs(rows(o, 4))
          )),
    Claim("02", r"`backward\(\)` ran (three) vector-Jacobian products per diamond",
          r"(?m)^\s+(\d+)\s+\d+\s+\S+\s+\S+\s+(\d+)$",
          lambda p, o: all(vjps == p[0] * k for k, vjps in rows(o, 2))),
    # ------------------------------------------------------------------------------------- 03
    Claim("03", r"\$\\partial L/\\partial x = \\partial L/\\partial y = (-?\d+)\$, "
          r"\$\\partial L/\\partial z = (-?\d+)\$",
          r"L = -?\d+;  dL/dx = (-?\d+), dL/dy = (-?\d+), dL/dz = (-?\d+)\n",
          lambda p, o: p == [o[0], o[2]] and o[0] == o[1]),
    Claim("03", r"local \$q\$ = (\d+) \(the direct path\).*its upstream \$(-\d+)\$ × local 1 = "
          r"\$-\d+\$ \(the path through \$q\$\)\. \$x\$ \*\*sums\*\* what it receives: "
          r"\$\d+ \+ \(-\d+\) = (-?\d+)\$",
          r"downstream dL/dx = 1 × (\d+) = \d+\.(?s:.*)"
          r"downstream dL/dx = \((-\d+)\) × 1 = -\d+\.\s+\(x now holds the sum (-?\d+)\.\)"),
    Claim("03", r"lowers \$L\$ (four) times as much \(\$\\partial L/\\partial x = (-\d+)\$\)",
          r"by hand:\s+\[(-?\d+\.\d+), ",
          lambda p, o: p[0] == -o[0] and p[1] == o[0]),
    # ------------------------------------------------------------------------------------- 04
    Claim("04", r"silently loses a path \((\d+) instead of (\d+) above\)",
          r"with '=':\s+dL/dx = (\S+),.*\nwith the engine: dL/dx = (\S+),"),
    Claim("04", r"The recursive order fails after about a (thousand) nested calls",
          r"the limit is (\d+) nested calls"),
    Claim("04", r"With `=`, \$x\$ ends up with (\d+) instead of (\d+),",
          r"with '=':\s+dL/dx = (\S+),.*\nwith the engine: dL/dx = (\S+),"),
    Claim("04", r"It sends \$x\$ the gradient \$x \+ y = (\d+)\$ and \$q = x \+ y\$ the "
          r"gradient \$x = (\d+)\$",
          r"x receives (\S+) from L, then (\S+) from q"),
    Claim("04", r"within at most (50) lines run and at most 120 lines of code",
          r"(\d+) distinct lines run", lambda p, o: o[0] <= p[0]),
    Claim("04", r"runs about (fifty) lines in (three) files",
          r"(\d+) distinct lines run: \{([^}]*)\}",
          lambda p, o: about(p[0], o[0], 0.1) and o[1].count(".py") == p[1]),
    Claim("04", r"^(Three) files, (eight) names",
          r"(?m)^  (\S+\.py)\s+\S+$",  # one line per function: its file, its name
          lambda p, o: len(set(o)) == p[0] and len(o) == p[1]),
    # ------------------------------------------------------------------------------------- 05
    Claim("05", r"the last layer of notebook 09's digit classifier: (\d+) outputs, (\d+) inputs",
          r"the outer product delta a\^T, shape \((\d+), (\d+)\)"),
    Claim("05", r"a table of (\d+) tokens in which token (\d) is looked up (three) times and token "
          r"(\d) not at all",
          r"(?m)^\s+(\d)\s+(\d)(?:\s+-?\d+\.\d{4}){4}$",  # one row per token: token, lookups
          lambda p, o: len(o) == 2 * p[0]
          and dict(rows(o, 2)).get(p[1]) == p[2] and dict(rows(o, 2)).get(p[3]) == 0),
    Claim("05", r"kept one of token (\d)'s (three) gradients and dropped the other (two)",
          r"token (\d), looked up (\d) times: \[ids\] \+= G kept only its last row of G: (\w+)",
          lambda p, o: p[0] == o[0] and p[1] == o[1] and p[2] == o[1] - 1 and o[2] == "True"),
    Claim("05", r"Multiply every input by (\d+) and, for the same upstream gradient \$G\$, every "
          r"entry of \$\\partial L/\\partial W\$ is (\d+) times larger, while "
          r"\$\\partial L/\\partial X\$ stays as it was",
          r"(?m)^X times (\d+)\s+(\S+)\s+(\S+)\s+(\S+)$",  # scale, |dL/dW|, |dL/dX|, change of Z
          lambda p, o: o[4] == p[0] and about(p[1], o[5] / o[1], 1e-3) and o[6] == o[2]),
    Claim("05", r"the outputs \$Z = XW\^\\top\$ by (\d+) × (\d+) times as much",
          r"(?m)^X times (\d+)\s+\S+\s+\S+\s+(\S+)$",
          lambda p, o: about(p[0] * p[1], o[3] / o[1], 0.01)),
    # ------------------------------------------------------------------------------------- 06
    Claim("06", r"Forward: \$z_1 = xW_1\^\\top \+ b_1 = \[(\S+), (\S+)\]\$, \$h = \[\S+, 0\]\$, "
          r"\$\\hat y = (\S+)\$, \$L = (\S+)\$",
          r"z1\s+= \[\s*(\S+)\s+(\S+)\s*\]\n.*\ny_hat = \[(\S+)\]\nL\s+= (\S+)"),
    Claim("06", r"Sympy gives \$(\d+/\d+) = \S+\$, \$(\d+/\d+) = \S+\$, \$(\d+/\d+) = \S+\$: "
          r"exactly our numbers",
          r"dL/dW1 = \[\[(\d+/\d+), (\d+/\d+)\](?s:.*)dL/dW2 = \[\[(\d+/\d+), 0\]\]",
          lambda p, o: [q.text for q in p] == [q.text for q in o]),  # exact fractions
    Claim("06", r"They agree to within about (half) a percent",
          r"predicted change: (\S+)\nactual change:\s+(\S+)",
          lambda p, o: about(p[0], 100 * abs(o[1] - o[0]) / o[1], 0.5)),
    Claim("06", r"The first row is too big a nudge for that rule: the leftover is (\d+) % of the "
          r"change, not small beside the slope's part, and the nudge even switches unit 2 on",
          r"(?m)^\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s+([+-]\d\.\d{4})$",  # eps, rel. diff., z1[1]
          lambda p, o: same(p, [100 * rows(o, 3)[0][1]])
          and [r[2] > 0 for r in rows(o, 3)] == [True] + [False] * (len(o) // 3 - 1)),
    Claim("06", r"In the rows below it unit 2 stays off, and a nudge (ten) times smaller gives a "
          r"relative difference (ten) times smaller",
          r"(?m)^\s+(\S+)\s+\S+\s+\S+\s+(\S+)\s+[+-]\d\.\d{4}$",
          lambda p, o: all(about(p[0], a[0] / b[0], 0.01) and about(p[1], a[1] / b[1], 0.1)
                           for a, b in pairs(rows(o, 2)[1:]))),
    Claim("06", r"For \$\\eta = 0\.001\$ the prediction is within (1) %",
          r"(?m)^ 0\.001\s+(\S+)\s+(\S+)$",
          lambda p, o: 100 * abs(o[0] - o[1]) / abs(o[1]) < p[0]),
    Claim("06", r"At \$\\eta = 0\.1\$ it predicts a decrease of (\S+), which is impossible, since "
          r"the loss was only (\S+) and",
          r"(?m)^ 0\.100\s+(\S+)\s+\S+$",
          lambda p, o: same([p[0]], [-o[0]]) and p[0] > p[1]),
    Claim("06", r"it is lowest, almost 0, at \$\\eta = (\S+)\$, and has climbed back to (\S+) at "
          r"\$\\eta = 0\.1\$",
          r"lowest loss after the step: (\S+), at lr = (\S+); at lr = 0\.1: (\S+)",
          lambda p, o: o[0] < 1e-3 and same(p, o[1:])),
    Claim("06", r"moves an entry of \$W_1\$ by up to (\S+) \(printed above\)",
          r"largest change of an entry of W_1 in this step: (\S+)"),
    # ------------------------------------------------------------------------------------- 07
    Claim("07", r"compares with the exact derivative at\s+(\d+) points, including",
          r"matches the exact derivative of GELU at (\d+) points"),
    Claim("07", r"(Four) points, the middle (two) within `bl.gradcheck`'s",
          r"(?m)^\s*(\S+)\s+[01]\.00\s+\d\.\d\d$",  # the x of each row of the kink table
          lambda p, o: len(o) == p[0] and sum(abs(x) < 1e-6 for x in o) == p[1]
          and all(abs(x) < 1e-6 for x in o[1:-1])),
    Claim("07", r"a slope somewhere between the slopes of the two sides, (0) and (1)",
          r"(?m)^\s*(\S+)\s+([01]\.00)\s+(\d\.\d\d)$",  # x, the rule, the central difference
          lambda p, o: all(p[0] < c < p[1] for x, _, c in rows(o, 3) if abs(x) < 1e-6)
          and all(r == c for x, r, c in rows(o, 3) if abs(x) >= 1e-6)),
    Claim("07", r"Step 5 ends with \$\\partial t/\\partial u = ([\d.]+)\$",
          r"downstream dt/du = [\d.]+ × 2 = ([\d.]+)\."),
    Claim("07", r"while the one-node tanh gives (1) and slope (0)\.",
          r"one node gives tanh = (\S+), gradient (\S+)"),
    # ------------------------------------------------------------------------------------- 08
    Claim("08", r"a float64 cannot hold a number above about \$(1\.8) \\times 10\^\{(308)\}\$",
          r"largest float64:\s+(\S+)",  # 1.8e308 itself is no float64: compare the mantissas
          lambda p, o: same(p[:1], [10 ** (math.log10(o[0]) - p[1])])),
    Claim("08", r"overflows for logits above ~(\d+);",
          r"largest z with finite e\^z: (\S+)", lambda p, o: p[0] == math.floor(o[0])),
    Claim("08", r"Up to a gap of (\d+) the three columns agree",
          r"(?m)^\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)$",
          lambda p, o: all((naive == shifted == fused) == (gap <= p[0])
                           for gap, naive, shifted, fused in rows(o, 4))),
    Claim("08", r"other two differ from the fused loss by less than \$(10\^\{-13\})\$",
          r"they differ from the fused loss by less than (\S+)\n"),
    Claim("08", r"shortly before its red region, the shifted-then-log method still returns a number"
          r".* \(printed below for gaps of (\d+) and (\d+)\)",
          r"gap (\d+): shifted softmax, then log = (\S+), fused = (\S+)\n"
          r"|shifted softmax, then log\s+inf or nan from gap (\d+)",
          lambda p, o: [o[0], o[3]] == p and all(g < o[6] for g in p)  # before its first inf
          and abs(o[1] - o[2]) > 1e-3 and abs(o[4] - o[5]) > 1e-3),  # finite, but off
    Claim("08", r"whose entries always lie between \$-1\$ and \$1\$: here \$\((-?\d+), (-?\d+), "
          r"(-?\d+)\)\$",
          r"fused:\s+loss = \S+, gradient = \[\s*(\S+)\s+(\S+)\s+(\S+)\]"),
    # ------------------------------------------------------------------------------------- 09
    Claim("09", r"loads the ([\d,]+) handwritten digits",
          r"training: \((\d+), 64\).*test: \((\d+), 64\)", lambda p, o: p[0] == o[0] + o[1]),
    Claim("09", r"along one random direction through all ([\d,]+) parameters at once",
          r"parameters: (\d+)"),
    Claim("09", r"The training loss keeps falling while the test loss flattens",
          r"train loss (\S+), test loss (\S+), test accuracy",
          lambda p, o: all(b < a for a, b in pairs(o[::2]))  # the training loss, epoch by epoch
          and np.ptp(o[-5::2]) < (o[1] - min(o[1::2])) / 4),  # the last 3 test losses: flat
    Claim("09", r"the ReLU network reached the test accuracy printed above \(at least (\d+) %\)",
          r"final test accuracy (\S+)% on", lambda p, o: o[0] >= p[0]),
    Claim("09", r"about (\d+) % after the first and about (\S+) % of the (\d+) test digits after "
          r"the fifth",
          r"epoch 1: last batch loss .*test accuracy (\S+)%(?s:.*)"
          r"epoch 5: .* test accuracy (\S+)%\nyour engine: \S+ of (\d+) unseen digits",
          lambda p, o: about(p[0], o[0], 0.01) and about(p[1], o[1], 0.005) and p[2] == o[2]),
    Claim("09", r"momentum, to about (\S+) % test accuracy",
          r"your engine: (\S+)% of", lambda p, o: about(p[0], o[0], 0.005)),
    Claim("09", r"comes close to the two ReLU layers of 128, with far fewer parameters",
          r"(\d+) parameters: test accuracy (\S+)%",  # sigmoid, then ReLU: within a point, < 1/4
          lambda p, o: abs(o[1] - o[3]) < 1 and o[0] < o[2] / 4),
    Claim("09", r"and (\d+) of the (\d+) mistakes are digits taken for a 1 or an 8",
          r"(?m)^ ?\[?\[((?: *\d+){10})\]",  # the confusion matrix, row by row
          lambda p, o: (lambda m: [m[:, [1, 8]].sum() - m[1, 1] - m[8, 8], m.sum() - np.trace(m)]
                        == p)(np.array([number_list(row) for row in o]))),
    Claim("09", r"further than (\d+) standard deviations from that pixel's mean.*We record it on "
          r"the first batch, which has no such pixel, and replay it on the third, which has",
          r"largest \|pixel\|: batch 1 (\S+), batch 3 (\S+)", lambda p, o: o[0] < p[0] < o[1]),
    # ------------------------------------------------------------------------------------- 10
    Claim("10", r"about \$(10\^\{-10\})\$ for weights like the Xavier matrix above, whose "
          r"\$\\lVert W \\rVert_2\$ is about (\d+) \(printed above\)",
          r"\|\|W\|\|_2 of a Xavier 32x32 weight = (\S+);\s+\(\|\|W\|\|_2 / 4\)\^30 = (\S+)\n",
          lambda p, o: order(p[0], o[1]) and round(o[0]) == p[1]),
    Claim("10", r"With \$c = 1\$ the gradient keeps its size through all (\d+) layers",
          r"c = 1\.0\s+: \|\|dL/da\|\| layer 1 / layer (\d+) =\s+(\S+)",
          lambda p, o: p[0] == o[0] and 0.5 < o[1] < 2),
    Claim("10", r"With \$c = (0\.8)\$ every layer multiplies it by about (0\.8) and the input side "
          r"gets a (thousand) times less; with \$c = (1\.25)\$ every layer multiplies it by about "
          r"(1\.25) and it grows a (thousand)fold",
          r"c = (\S+)\s+: \|\|dL/da\|\| layer 1 / layer 31 =\s+(\S+)\s+\(c\^30 =\s+\S+\);\s+"
          r"factor per layer (\S+)",
          lambda p, o: p[0] == o[0] and about(p[1], o[2], 0.02) and order(1 / p[2], o[1])
          and p[3] == o[6] and about(p[4], o[8], 0.02) and order(p[5], o[7])),  # c = 0.8, 1.25
    Claim("10", r"multiplies the signal's scale by about \$0\.01 \\cdot \\sqrt\{64/2\} \\approx "
          r"(0\.06)\$ per ReLU layer",
          r"relu: std (?s:.*?)init 0\.01\s+:\s+(\S+)\s+(\S+)",  # layer 1 to 11: ten layers
          lambda p, o: same(p, [(o[1] / o[0]) ** (1 / 10)])),
    Claim("10", r"the variance halves at every layer: the standard deviation loses a factor "
          r"\$\\sqrt 2\$ per layer",
          r"relu: std (?s:.*?)init xavier :\s+(\S+)\s+(\S+)",
          lambda p, o: about(2**-0.5, (o[1] / o[0]) ** (1 / 10), 0.05)),
    Claim("10", r"\(The 0\.01 curve would fall below \$(10\^\{-26\})\$",
          r"relu: std (?s:.*?)init 0\.01\s+:\s+\S+\s+\S+\s+(\S+)", lambda p, o: o[0] < p[0]),
    Claim("10", r"from (\S+) at layer 1 to (\S+) at layer 11 and (\S+) at layer 21",
          r"relu: std (?s:.*?)init xavier :\s+(\S+)\s+(\S+)\s+(\S+)"),
    Claim("10", r"kills the signal within a few layers \(\$(\d \\cdot 10\^\{-14\})\$ at layer 11\)",
          r"relu: std (?s:.*?)init 0\.01\s+:\s+\S+\s+(\S+)"),
    Claim("10", r"tanh \+ Xavier\*\* decays only slowly",
          r"tanh: std (?s:.*?)init xavier :\s+(\S+)\s+(\S+)\s+(\S+)",
          lambda p, o: o[0] > o[1] > o[2] > o[0] / 10),
    Claim("10", r"all (\d+) rows of the hidden layer's weight matrix are still one and the same "
          r"row.*The same network from random weights uses all (\d+)",
          r"the (\d+) hidden units' weights span (\d+) direction",
          lambda p, o: p[0] == o[0] == o[2] == p[1] == o[3] and o[1] == 1),
    Claim("10", r"With ReLU the killed units' weights and biases did not move at all",
          r"(?m)^relu: test (?s:.*?)weights moved at most (\S+), biases at most (\S+)",
          lambda p, o: o == [0, 0]),
    Claim("10", r"their biases moved only the amount printed above, nowhere near the (\d+) they "
          r"need, and they still fire on no digit",
          r"leaky_relu: (?s:.*?)before (\S+), after (\S+)\n.*biases at most (\S+) \(from -(\d+)\)",
          lambda p, o: o[2] < p[0] / 100 and o[0] == o[1] and p[0] == o[3]),
    Claim("10", r"About a (quarter) of the units in the deep layers never fire .* \(a mean cosine "
          r"of (\S+) or more\)",
          r"init he\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\n(?s:.*)"
          r"mean cosine between the outputs for two digits\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
          lambda p, o: all(about(p[0], d, 0.15) for d in o[1:5]) and min(o[5:]) >= p[1]),
    Claim("10", r"Note that He and Xavier give \*exactly\* the same numbers",
          r"init he\s+([\d. ]+)\n(?s:.*)init xavier\s+([\d. ]+)\n",
          lambda p, o: o[0] == o[1]),
    Claim("10", r"the printed ratios of the first layer's gradient to the last one's stay between "
          r"(\S+) and (\S+), for 5 hidden layers as for 40",
          r"(?:tanh|relu)\s+\d+ hidden layers: .*ratio\s+(\S+)",
          lambda p, o: len(o) == 8 and all(p[0] <= r <= p[1] for r in o)),
    Claim("10", r"\*\*sigmoid\*\*: the first layer's gradient is smaller than the last one's by "
          r"many orders of magnitude, and the gap grows with depth",
          r"sigmoid\s+\d+ hidden layers: .*ratio\s+(\S+)",
          lambda p, o: o[0] < 1e-3 and all(b < a for a, b in zip(o, o[1:]))),
    Claim("10", r"Now a run that explodes: .* plain SGD with learning rate 0\.1, (\d+) steps on",
          r"no clipping\s+: (\d+) steps, (?s:.*)clipped at norm 1 : (\d+) steps, last finite loss",
          lambda p, o: o[0] < p[0] == o[1]),
    Claim("10", r"with your `clip_gradients` at `max_norm = (1)` between `backward\(\)` and the step",
          r"clipped at norm (\S+) : "),
    Claim("10", r"the gradient's norm was above (1) at every step",
          r"clipped at norm 1 : .*\n.*above (\S+) at (\d+) of its (\d+) steps",
          lambda p, o: p[0] == o[0] and o[1] == o[2]),  # every step shortened
    Claim("10", r"four epochs of Adam leave it at chance level \(about (\d+) %\)",
          r"std 0\.080 \(as given\): test accuracy after 4 epochs (\S+)",
          lambda p, o: about(p[0], 100 * o[0], 0.2)),
    Claim("10", r"\(a factor between (\S+) and (\S+) per layer, on average\)",
          r"the gradient keeps its size: about (\S+) per layer", lambda p, o: p[0] <= o[0] <= p[1]),
    # ------------------------------------------------------------------------------------- 11
    Claim("11", r"lost more than (twenty) orders of magnitude.*it even grew a little \(from (\S+) "
          r"to (\S+)\)",
          r"after 30 blocks: \|\|g\|\| plain (\S+),\s+residual (\S+)\s+\(started at (\S+)\)",
          lambda p, o: math.log10(o[2] / o[0]) > p[0] and same(p[1:], [o[2], o[1]])),
    Claim("11", r"its loss first shoots up, to more than (\d+) times its value at the first step",
          r"residual (\S+) \(at step \d+; (\S+) at step 1\)", lambda p, o: o[0] / o[1] > p[0]),
    Claim("11", r"The plain network never leaves the chance level: its loss stays near \$\\ln 10\$",
          r"largest batch loss \(batches of 64\): plain (\S+),(?s:.*)plain network's smallest "
          r"batch loss is (\S+)\n",
          lambda p, o: abs(o[0] - math.log(10)) < 0.25 and abs(o[1] - math.log(10)) < 0.25),
    Claim("11", r"both networks have the same ([\d,]+) \(printed above\)",
          r"parameters: plain ([\d,]+), residual ([\d,]+)",
          lambda p, o: same(p, o[:1]) and o[0] == o[1]),
    Claim("11", r"it recovers within a few dozen steps",
          r"stays below ln\(10\) from step (\d+) on", lambda p, o: o[0] < 60),
    Claim("11", r"In the plain network the first layer's gradient is \$(\d \\cdot 10\^\{-\d+\})\$ "
          r"times the last one's.*In the residual network the same ratio is "
          r"\$(\d \\cdot 10\^\{-\d+\})\$: the first and the last layer's gradients differ by about "
          r"(two) orders of magnitude, not (nineteen)",
          r"plain\s+layer 1 / layer 32: (\S+)\n(?s:.*)residual layer 1 / layer 32: (\S+)\n",
          lambda p, o: same(p[:2], o) and round(-math.log10(o[1])) == p[2]
          and round(-math.log10(o[0])) == p[3]),
    Claim("11", r"gives, to about (\d+) digits, the same output for every digit",
          r"plain\s+: last hidden layer, largest spread of a unit across digits (\S+);\s+"
          r"least-squares readout on it: test accuracy (\S+)",
          lambda p, o: round(-math.log10(o[0])) == p[0] and o[1] < 0.15),
    Claim("11", r"a linear readout alone gets most digits right before any training",
          r"residual: last hidden layer, .*\s+least-squares readout on it: test accuracy (\S+)",
          lambda p, o: o[0] > 0.5),
    Claim("11", r"its early layers' gradients stay about (nineteen) orders of magnitude below the "
          r"last layer's at every step.*stay within a factor of about (\d+) of each other "
          r"throughout \(the largest layer's over the smallest's, printed above; about "
          r"\$(10\^\{\d+\})\$ in the plain network\)",
          r"(?m)^plain .*\n.*at the records: (\S+) to (\S+)\n^residual .*\n.*at the records: (\S+) "
          r"to (\S+)",
          lambda p, o: all(round(math.log10(s)) == p[0] for s in o[:2])
          and order(p[1], o[3]) and o[2] < o[3] and order(p[2], o[0]) and order(p[2], o[1])),
    Claim("11", r"Along the skips the gradient reaching \$x_0\$ is of the same order as the one at "
          r"\$x_\{30\}\$, in fact a little larger.*Without skips it has all but vanished",
          r"plain\s+: \|\|dL/dx_l\|\| at x_0 (\S+), at x_30 (\S+)\n"
          r"residual: \|\|dL/dx_l\|\| at x_0 (\S+), at x_30 (\S+)",
          lambda p, o: o[3] < o[2] < 2 * o[3] and o[0] < 1e-10 * o[1]),
    Claim("11", r"about \$(10\^\{-19\})\$ times the last layer's at the first layer of the plain "
          r"network; in the residual one all layers within a factor of about (\d+) of each other "
          r"at initialisation",
          r"plain\s+layer 1 / layer 32: (\S+)\n(?s:.*)residual layer 1 / layer 32: (\S+)\n",
          lambda p, o: order(p[0], o[0]) and order(p[1], 1 / o[1])),
    Claim("11", r"at initialisation, about (\d+) during training",
          r"(?m)^residual at step \d+: .*\n.*at the records: \S+ to (\S+)",
          lambda p, o: order(p[0], o[0])),
    Claim("11", r"the plain network stayed at chance level, with a first-layer gradient of the "
          r"order printed there, while the residual one learned the digits",
          r"plain\s+: test accuracy after each epoch (.*)\n.*\n"
          r"residual: test accuracy after each epoch .* (\S+)\n",
          lambda p, o: all(n < 0.15 for n in number_list(o[0])) and o[1] > 0.9),
    Claim("11", r"about (0\.5), and (\d+) such factors leave \$(5 \\cdot 10\^\{-15\})\$\)\. With "
          r"its gates held open the LSTM still hands the first step a gradient of order 1\. The "
          r"`\+` path alone carries (\S+) of that (\S+) after 50 steps",
          r"(?m)^\s+50\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)$",
          lambda p, o: same([p[2], p[3], p[4]], [o[0], o[2], o[1]]) and order(1, o[1])
          and about(p[0], o[0] ** (1 / p[1]), 0.1)),
    # ------------------------------------------------------------------------------------- 12
    Claim("12", r"its intercept is pulled from (\d) to about (\d)\); the Huber line stays close to "
          r"the clean one",
          r"MSE\s+: w = (\S+), b = (\S+) .*\nHuber: w = (\S+), b = (\S+) ",
          lambda p, o: same(p[1:], [o[1]]) and abs(o[3] - p[0]) < 0.2 and abs(o[2] - 2) < 0.1),
    Claim("12", r"from \$\(-4, 2\)\$ to \$\((\S+), (\S+)\)\$ after (\d+) steps \(printed above\).*"
          r"overshoots to \$p_2 = (\S+)\$ \(after step (\d+)\)",
          r"Adam: after step (\d+) p = \((\S+), (\S+)\); lowest p2 (\S+), after step (\d+)",
          lambda p, o: same(p, [o[1], o[2], o[0], o[3], o[4]])),
    Claim("12", r"after the same 50 steps it is far closer to the minimum",
          r"SGD \(lr 0\.035\)\s+: .*loss (\S+)\nmomentum .*loss (\S+)\n",
          lambda p, o: o[1] < o[0] / 10),
    Claim("12", r"Plain SGD is still far behind after 60 epochs; momentum and Adam get down much "
          r"faster\. With momentum, the loss goes up more often from one epoch to the next",
          r"60 epochs \S+ / \S+ / (\S+);\s+accuracy \S+;\s+the loss went up after (\d+) of 60",
          lambda p, o: o[0] > 3 * max(o[2], o[4]) and o[3] > max(o[1], o[5])),
    Claim("12", r"a score \$z\$ of about (\d+) gives \$\\sigma\(z\) = 1\.0\$ \*exactly\*",
          r"sigmoid\((\d+)\) in float64 = (\S+)\n", lambda p, o: p[0] == o[0] and o[1] == 1),
    Claim("12", r"breaks on any score for which \$\\sigma\(z\)\$ rounds to 1 \((\d+) is one, printed "
          r"above\)",
          r"sigmoid\((\d+)\) in float64 = (\S+)\n", lambda p, o: p[0] == o[0] and o[1] == 1),
    Claim("12", r"at learning rate 1 the loss jumps up and down, and after 30 steps it is higher "
          r"than at the start.*at 0\.1 it goes down steadily",
          r"lr 1\.0: loss at steps 1, 2, 3, 10, 30: (\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\n"
          r"lr 0\.1: loss at steps 1, 2, 3, 10, 30: (\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)",
          lambda p, o: o[4] > o[0] and o[2] < o[1] and all(b < a for a, b in zip(o[5:], o[6:]))),
    Claim("12", r"At lr = 0\.001 the ratio is around \$(10\^\{-4\})\$ .*\(its test accuracy, "
          r"(\S+), is no better than guessing one of the ten digits\); at 0\.05 it is around "
          r"\$(10\^\{-2\})\$ and the network learns; at 3 it is close to (1)",
          r"lr 0\.001 : median update/weight ratio per layer \[(\S+) (\S+)\];\s+test accuracy (\S+)"
          r"\nlr 0\.05\s+: .*\[(\S+) (\S+)\];.*\nlr 3\.0\s+: .*\[(\S+) (\S+)\];",
          lambda p, o: order(p[0], math.sqrt(o[0] * o[1])) and same([p[1]], [o[2]])  # the layers'
          and order(p[2], math.sqrt(o[3] * o[4])) and order(p[3], math.sqrt(o[5] * o[6]))),
    Claim("12", r"The initial loss, (\S+), is above \$\\ln 10 \\approx (\S+)\$.*\(the root mean "
          r"square of its initial logits is (\S+), not near 0\)",
          r"1\. initial loss (\S+);\s+ln 10 = (\S+);\s+root mean square of the initial logits "
          r"(\S+)\n"),
    Claim("12", r"and it classifies at least (\d+) % of the test digits",
          r"no stale ones, and (\S+)% of the test digits", lambda p, o: o[0] >= p[0]),
    # ------------------------------------------------------------------------------------- 13
    Claim("13", r"Its first layer's gradient was about \$(10\^\{-19\})\$ times its last layer's",
          r"plain\s+at initialisation: \|\|dL/dW\|\| layer 1 (\S+), layer 16 \S+, layer 32 (\S+);",
          lambda p, o: order(p[0], o[0] / o[1])),
    Claim("13", r"instead of about (\d+) orders of magnitude, the largest and the smallest layer "
          r"gradients differ by the factor printed above",
          r"largest / smallest (\S+)\n",  # plain, then with batch norm
          lambda p, o: round(math.log10(o[0])) == p[0] and o[1] < 10),
    Claim("13", r"batch norm brought the per-layer gradient norms from (\d+) orders of magnitude "
          r"apart to within a small factor",
          r"largest / smallest (\S+)\n",  # plain, then with batch norm
          lambda p, o: round(math.log10(o[0])) == p[0] and o[1] < 10),
    Claim("13", r"With batch norm the network leaves it and learns, but slowly and unevenly: the "
          r"test accuracy \(printed above\) jumps around from epoch to epoch",
          r"plain\s+: (.*)\n\s+with batch norm : (.*)\n",
          lambda p, o: max(number_list(o[0])) < 0.15 and jumps(number_list(o[1]))),
    Claim("13", r"In section 6's network the growth is mild: at initialisation its first layer's "
          r"gradient is only a little larger than its last layer's \(printed there\)",
          r"with batch norm\s+at initialisation: \|\|dL/dW\|\| layer 1 (\S+), layer 16 \S+, "
          r"layer 32 (\S+);", lambda p, o: 1 < o[0] / o[1] < 3),
    Claim("13", r"which costs accuracy \(printed above\)",
          r"eval  mode, test images in batches of 5: accuracy (\S+)\n(?s:.*)"
          r"train mode, test images in batches of 5: accuracy (\S+)",
          lambda p, o: o[1] < o[0] - 0.05),
    # ------------------------------------------------------------------------------------- 14
    Claim("14", r"\$2 \\cdot 4 \\cdot 5 \\cdot 6 = (\d+)\$ small dot products here \(padding 1, "
          r"the output shape printed above\)",
          r"padding 1: output \((\d+), (\d+), (\d+), (\d+)\)", lambda p, o: p[0] == math.prod(o)),
    Claim("14", r"\(pixel (\d+) is in all (four) windows\)",
          r"in how many windows is each pixel\?\n\s*\[\[([\d. ]+)\]\n\s*\[([\d. ]+)\]",
          lambda p, o: number_list(o[0] + " " + o[1])[int(p[0]) - 1] == p[1]),
    Claim("14", r"The network with skips reaches the test accuracy printed above \(at least "
          r"(\d+) %\) in (\d) epochs; the same 13 convolution layers without the skips learn more "
          r"slowly and end lower",
          r"with skips\s+: (.*)\n\s+without skips : (.*)\n",
          lambda p, o: number_list(o[0])[-1] >= p[0] / 100 and len(number_list(o[0])) == p[1]
          and all(b < a for a, b in zip(number_list(o[0]), number_list(o[1])))),
    Claim("14", r"which subtracts it right back out: its gradient is (0) \(printed above\).*here "
          r"the biases only cost their (\d+) × 8 numbers",
          r"largest \|dL/db\| of the (\d+) convolutions' biases: (\S+)\n",
          lambda p, o: p[0] == o[1] and p[1] == o[0]),
    Claim("14", r"At initialisation every block of the ResNet receives a larger gradient than the "
          r"same block of the plain network",
          r"with skips\s+\|\|dL/dW\|\| per block: \[(.*)\].*\n"
          r"without skips\s+\|\|dL/dW\|\| per block: \[(.*)\]",
          lambda p, o: all(a > b for a, b in zip(number_list(o[0]), number_list(o[1])))),
    Claim("14", r"After training, the ResNet's gradients are the smaller ones",
          r"with skips\s+after training, \|\|dL/dW\|\| per block: \[(.*)\]\n"
          r"without skips\s+after training, \|\|dL/dW\|\| per block: \[(.*)\]",
          lambda p, o: all(a < b for a, b in zip(number_list(o[0]), number_list(o[1])))),
    Claim("14", r"reached at least (\d+) % test accuracy on the 8×8 digits in (\d) epochs",
          r"with skips\s+: (.*)\n", lambda p, o: number_list(o[0])[-1] >= p[0] / 100
          and len(number_list(o[0])) == p[1]),
    Claim("14", r"Each of the (three) windows with one winner sent its (1) to that pixel; the window "
          r"of (four) zeros, a (four)-way tie",
          r"dL/dx, upstream 1 per window:\n((?:.*\n){4})",
          lambda p, o: number_list(o[0]).count(p[1]) == p[0]
          and number_list(o[0]).count(1 / p[2]) == p[3] == p[2]),
    Claim("14", r"the package's `relu` gives slope (0) at \$x = 0\$",
          r"relu's gradient (\S+), maximum\(x, 0\)'s (\S+)",
          lambda p, o: p[0] == o[0] and 0 < o[1] < 1),
]  # fmt: skip


@cache
def cells(notebook: str) -> tuple[list[str], list[str]]:
    """(markdown cells, whitespace collapsed; code cells' text outputs) of notebook NN."""
    (path,) = (ROOT / "notebooks").glob(f"{notebook}_*.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown, outputs = [], []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            markdown.append(re.sub(r"\s+", " ", "".join(cell["source"])))
        elif cell["cell_type"] == "code":
            text = ""
            for out in cell["outputs"]:
                if out["output_type"] == "stream":
                    text += "".join(out["text"])
                elif "text/plain" in out.get("data", {}):
                    text += "".join(out["data"]["text/plain"]) + "\n"
            outputs.append(text)
    return markdown, outputs


def found(pattern: str, texts: list[str], what: str) -> list[Num | Text]:
    """The groups of ``pattern`` in the one text of ``texts`` it matches, over all its matches."""
    regex = re.compile(pattern)
    hits = [text for text in texts if regex.search(text)]
    assert len(hits) == 1, f"the {what} pattern matches {len(hits)} cells, not 1: {pattern!r}"
    return [number(group) for match in regex.finditer(hits[0]) for group in match.groups()
            if group is not None]  # fmt: skip


def stated_and_printed(claim: Claim) -> tuple[list[Num | Text], list[Num | Text]]:
    markdown, outputs = cells(claim.notebook)
    return found(claim.prose, markdown, "prose"), found(claim.output, outputs, "output")


@pytest.mark.parametrize("claim", CLAIMS, ids=[f"{c.notebook}-{i}" for i, c in enumerate(CLAIMS)])
def test_the_prose_states_what_the_code_printed(claim):
    stated, printed = stated_and_printed(claim)
    assert claim.holds(stated, printed), (
        f"notebook {claim.notebook}: the prose states {[s.text for s in stated]} "
        f"({claim.prose!r}) but the output printed {[p.text for p in printed]} ({claim.output!r})"
    )


def states_a_number(claim: Claim) -> bool:
    """Whether the prose of ``claim`` holds a number (not only a comparison, "a little larger")."""
    try:
        return any(
            isinstance(s, Num) for s in found(claim.prose, cells(claim.notebook)[0], "prose")
        )
    except AssertionError:  # a pattern that matches no cell: the test above says so
        return False


NUMBERED = [(i, c) for i, c in enumerate(CLAIMS) if states_a_number(c)]


def test_most_claims_state_a_number_and_are_scaled_below():
    assert len(NUMBERED) >= 0.7 * len(CLAIMS)  # (a pattern gone wrong would empty the list)


def numbers_it_ignores(claim: Claim) -> list[str]:
    """The numbers the prose of ``claim`` states that it holds with whatever they are: each is
    changed on its own (a thousand times larger or smaller; 0 to 1 or -1), the others kept."""
    stated, printed = stated_and_printed(claim)
    ignored = []
    for k, s in enumerate(stated):
        if not isinstance(s, Num):
            continue
        for changed in (s * 1000, s / 1000) if s else (1.0, -1.0):
            try:
                if not claim.holds([*stated[:k], changed, *stated[k + 1 :]], printed):
                    break
            except (ArithmeticError, IndexError, ValueError):
                break  # a number so far off that the comparison cannot even be made
        else:
            ignored.append(s.text)
    return ignored


@pytest.mark.parametrize(
    "claim", [c for _, c in NUMBERED], ids=[f"{c.notebook}-{i}" for i, c in NUMBERED]
)
def test_a_claim_fails_when_any_of_its_numbers_is_far_off(claim):
    """Each claim depends on every number it states (a test of the claims themselves: none is
    vacuous, in whole or in part). The claims that state only a comparison have no number to
    change, and are not here."""
    assert numbers_it_ignores(claim) == [], f"{claim}: holds whatever these numbers are"


def test_a_claim_that_checks_one_of_its_two_numbers_is_caught():
    """Scaling all of a claim's numbers at once, as this test did, passed a claim that checks
    only the first: "2 instead of 7" would have held with "2 instead of 70"."""
    half_checked = Claim("04", r"With `=`, \$x\$ ends up with (\d+) instead of (\d+),",
                         r"with '=':\s+dL/dx = (\S+),.*\nwith the engine: dL/dx = (\S+),",
                         lambda p, o: same(p[:1], o[:1]))  # fmt: skip
    assert half_checked.holds(*stated_and_printed(half_checked))
    assert numbers_it_ignores(half_checked) == ["7"]


def test_the_benchmarks_readme_counts_the_graphs_it_times():
    """benchmarks/README.md: "the deep float32 net (42 nodes, 42 parameters)" and "a scalar MLP,
    43,150 nodes". (Its timings and instruction counts are measured on purpose on varying
    machines; these two counts are not.)"""
    readme = re.sub(r"\s+", " ", (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8"))
    nodes, params = map(int, re.search(r"deep float32 net \((\d+) nodes, (\d+) parameters\)",
                                       readme).groups())  # fmt: skip
    scalar = int(re.search(r"a scalar MLP, ([\d,]+) nodes", readme).group(1).replace(",", ""))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import scalar_graph
        from train_step import CASES
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    import backproplab as bl

    (sizes,) = [sizes for name, sizes, _ in CASES if name.startswith("deep")]
    model = bl.nn.MLP(sizes, rng=0)
    loss = bl.cross_entropy(model(bl.Tensor(np.zeros((2, sizes[0])))), np.array([0, 1]))
    assert sum(node.op is not None for node in bl.toposort(loss)) == nodes
    assert len(model.parameters()) == params
    graph = scalar_graph.scalar_mlp_loss([4, 16, 16, 1], 60, np.random.default_rng(0))
    counted = len(bl.toposort(graph))
    assert counted == scalar, f"the README says {scalar:,} nodes; the scalar MLP has {counted:,}"


def test_the_benchmarks_readme_names_the_accuracy_both_digits_loops_reach():
    """benchmarks/README.md: "Training the digits MLP to 97 % test accuracy ... (both reach
    97.33 %)": the hand-written numpy loop of benchmarks/train_step.py, and `fit` on the same
    batches."""
    readme = re.sub(r"\s+", " ", (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8"))
    target, reached = re.search(
        r"Training the digits MLP to (\d+) % test accuracy .*?\(both reach ([\d.]+) %\)", readme
    ).groups()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from train_step import numpy_fit, numpy_twin
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    import backproplab as bl

    data = bl.datasets.digits()
    hp = {"lr": 0.1, "momentum": 0.9}  # time_to_97's settings, with its weight decay 1e-3
    accuracies = numpy_fit(numpy_twin(bl.nn.MLP([64, 128, 64, 10], rng=0)), data, 30,
                           hp["lr"], hp["momentum"], 1e-3, 0)  # fmt: skip
    epochs = next(i + 1 for i, a in enumerate(accuracies) if a >= float(target) / 100)
    model = bl.nn.MLP([64, 128, 64, 10], rng=0)
    history = bl.train.fit(
        model, data.X_train, data.y_train, epochs=epochs, test=(data.X_test, data.y_test),
        optimizer=bl.optim.SGD(model.parameters(), weight_decay=1e-3, **hp),
    )  # fmt: skip
    assert same([number(reached)] * 2, [100 * accuracies[epochs - 1], 100 * history.test_acc[-1]])


def test_the_teaching_page_counts_the_one_statement_solutions():
    """docs/teaching.md: "24 of the 55 notebook exercises are one statement"."""
    from backproplab.classroom._same_code import _size
    from backproplab.classroom.release import solution_regions

    page = re.sub(r"\s+", " ", (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8"))
    short, total = map(int, re.search(r"\((\d+) of the (\d+) notebook exercises are one statement",
                                      page).groups())  # fmt: skip
    sizes = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        grades = {c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]}
        for cell in nb["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if cell["metadata"].get("nbgrader", {}).get("solution") and (
                f"{grade_id}-check" in grades
            ):  # a graded exercise: a graded check cell bears its name
                sizes += [_size(code) for _, code in solution_regions("".join(cell["source"]))]
    assert (sizes.count(1), len(sizes)) == (short, total)
