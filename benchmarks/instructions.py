"""Machine instructions per train step, counted by valgrind: exact where timings are noisy.

    python benchmarks/instructions.py                          # digits float32: about 90 s
    python benchmarks/instructions.py --case deep --dtype float64  # about six minutes

The same step as ``train_step.py`` (forward, backward, SGD update, on two batches in turn), for the
engine and the hand-written numpy network. Each variant runs
in a child process under ``valgrind --tool=callgrind`` twice, after the same set-up and warm-up:
once with 0 more steps and once with ``--steps``. The difference divided by the number of steps is
the cost of one step, with the imports and the set-up taken out. Every child gets the same hash
seed (``PYTHONHASHSEED=0``), so the counts repeat to within about a hundred instructions per step
from run to run, whatever else the machine is doing (with Python's random seed, dicts and sets
probe differently, and four counts of the same step lay up to 16,620 instructions apart): they
show a change in the engine's Python overhead that timings on a shared machine would hide. They
are not times: they do not see cache misses or page faults, and BLAS kernels run many
instructions per cycle where the Python interpreter runs few.

Needs valgrind (Debian's ``valgrind`` package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from train_step import CASES, LR, in_turn, numpy_twin

import backproplab as bl
from backproplab import nn, optim, train

VARIANTS = ("numpy", "backproplab")
WARM_UP = 20


def run_steps(case: str, dtype: str, variant: str, steps: int) -> None:
    """The child: build the case, warm up, then run ``steps`` more train steps."""
    _, sizes, batch = next(c for c in CASES if case in c[0])
    rng = np.random.default_rng(0)
    batches = [  # two batches in turn, as in train_step.py
        (rng.standard_normal((batch, sizes[0])).astype(dtype), rng.integers(0, sizes[-1], batch))
        for _ in range(2)
    ]
    model = nn.MLP(sizes, activation="relu", init="he", rng=0, dtype=dtype)
    opt = optim.SGD(model.parameters(), lr=LR)
    if variant == "numpy":
        step = in_turn(partial(numpy_twin(model).sgd_step, lr=LR), batches)
    else:
        tensors = [(bl.Tensor(X), y) for X, y in batches]
        step = in_turn(partial(train.train_step, model, opt), tensors)

    for _ in range(WARM_UP + steps):
        step()


def count(case: str, dtype: str, variant: str, steps: int) -> int:
    """Instructions callgrind counted for a whole child process."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable]
    command += [__file__, "--case", case, "--dtype", dtype, "--child", variant, str(steps)]
    # one hash seed for every child (see the module docstring)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", default="digits", help="a network of train_step.py: digits, ...")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--steps", type=int, default=100, help="steps counted (after warm-up)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_steps(args.case, args.dtype, args.child[0], int(args.child[1]))
        return
    if shutil.which("valgrind") is None:
        sys.exit("instructions.py needs valgrind: apt-get install valgrind")
    per_step = {}
    for variant in VARIANTS:
        print(f"counting {variant} under valgrind ...", file=sys.stderr)
        with ThreadPoolExecutor(2) as pool:  # the two children run side by side
            jobs = [pool.submit(count, args.case, args.dtype, variant, n) for n in (0, args.steps)]
            none, some = (job.result() for job in jobs)
        per_step[variant] = (some - none) / args.steps
    name = next(c[0] for c in CASES if args.case in c[0])
    print(f"\nInstructions per train step, {name}, {args.dtype} ({args.steps} steps counted):\n")
    print("| numpy | backproplab | backproplab - numpy | ratio |")
    print("|---|---|---|---|")
    numpy_, engine = (per_step[v] for v in VARIANTS)
    print(f"| {numpy_:,.0f} | {engine:,.0f} | {engine - numpy_:,.0f} | {engine / numpy_:.2f}× |")


if __name__ == "__main__":
    main()
