"""How much does the engine cost? One training step against hand-written numpy, in the same run.

    python benchmarks/train_step.py            # about a minute; prints a markdown table
    python benchmarks/train_step.py --quick    # fewer repeats, for a smoke test
    python benchmarks/train_step.py --case deep  # only the networks whose name contains "deep"

A train step is forward + backward + a plain SGD update on one batch. The learning rate is 0: the
update is computed and applied all the same, but thousands of steps on one batch do not drive the
network into a memorised state (huge logits, probabilities that underflow to denormal numbers,
whose arithmetic is many times slower) that would time something else than a training step.

* ``backproplab``: ``train.train_step(model, SGD, X, y)`` -- the engine, Module, cross_entropy and
  the optimizer, exactly what ``fit`` runs.
* ``numpy``: the same network written out by hand with the same weight layout: Z = X @ W.T + b,
  ReLU, the fused softmax-cross-entropy gradient (P - Y) / N, the backward as matmuls, and
  in-place updates. No graph, no Python objects per operation: the floor the engine can approach.
* ``torch``: the same step in PyTorch on the CPU, if it is importable (it is not a dependency).

Each variant takes two batches in turn, so that every step sees new data, as in training.

Timing: each variant is warmed up, then timed in blocks of steps; blocks of the variants alternate
(so that a noisy neighbour slows all of them alike) and the best (fastest) block is reported: on a
shared machine other programs only ever add time, so the minimum is the least disturbed. Blocks
are timed in CPU time of this process (``time.process_time``), which leaves out the time spent
waiting while other programs run. BLAS runs on one thread (``OPENBLAS_NUM_THREADS=1`` and
friends, set before numpy is imported, unless they are set already): on a small shared machine
threads make small matmuls slower and the timings erratic. To measure as a learner's laptop runs,
with BLAS on several threads, set ``OPENBLAS_NUM_THREADS=2`` (say) for the run: blocks are then
timed in wall time (``time.perf_counter``), since CPU time would add up the threads' work.

Allocator: both variants allocate and free the same kinds of arrays every step, and glibc's
malloc decides what that costs. With its defaults, memory freed at the top of the heap (more than
128 KiB) goes back to the system and the next step faults it back in page by page, and arrays of
128 KiB or more are mapped fresh from the system (until freeing one raises that threshold). Which
variant pays depends on where freed blocks happen to lie: in a fresh process the engine, which
frees a whole step's graph and gradients at once, faulted hundreds of pages back in every step on
the deep row (2.5x), while an earlier run showed the float64 MNIST row at 0.70x-0.75x of numpy
(about 1.0x with freed memory kept); each row's progress line prints the page faults per step.
So the benchmark tells glibc (``mallopt``, before any timing) to keep freed memory for reuse: a
training loop's steady state, the same for every variant.
``--default-allocator`` measures with glibc's defaults instead.

The last part trains the digits MLP 64-128-64-10 with ``train.fit`` and with a hand-written numpy
loop doing the same work (same initial weights, same batches, SGD with momentum and weight decay,
train and test evaluated after every epoch) for the number of epochs the numpy loop needs to reach
97 % test accuracy, and compares the wall times.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import itertools  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import datasets, nn, optim, train  # noqa: E402

LR = 0.0  # see the module docstring
# CPU time of this process with BLAS on one thread; with more threads, CPU time would add up the
# threads' work, so the benchmark measures wall time instead (what a learner's laptop shows).
ONE_THREAD = os.environ["OPENBLAS_NUM_THREADS"] == "1"
CLOCK = time.process_time if ONE_THREAD else time.perf_counter
REPEATS = 31  # blocks per variant (3 with --quick)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse (see the module docstring); False if not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from <malloc.h>
    trim_at, map_at = 1 << 30, 1 << 25  # 1 GiB; 32 MiB is the largest mmap threshold allowed
    return bool(libc.mallopt(M_TRIM_THRESHOLD, trim_at) and libc.mallopt(M_MMAP_THRESHOLD, map_at))


# ----------------------------------------------------------------------- hand-written numpy
class NumpyMLP:
    """A ReLU MLP with softmax-cross-entropy, forward and backward written out by hand.

    weights[i] has shape (n_out, n_in) like nn.Linear, so the same numbers can be loaded."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.W = [w.copy() for w in weights]
        self.b = [b.copy() for b in biases]

    def logits(self, X: np.ndarray) -> np.ndarray:
        a = X
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W.T
            z += b  # in place: one fresh array per layer, as the engine's linear row
            a = np.maximum(z, 0) if i < len(self.W) - 1 else z
        return a

    def gradients(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list, list]:
        """Loss and (dW, db) per layer for one batch."""
        acts = [X]  # the input of every layer
        zs = []
        a = X
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W.T
            z += b  # in place: one fresh array per layer, as the engine's linear row
            zs.append(z)
            a = np.maximum(z, 0) if i < last else z
            acts.append(a)
        shifted = a - a.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = len(y)
        loss = -log_probs[np.arange(n), y].mean()
        G = np.exp(log_probs)
        G[np.arange(n), y] -= 1
        G /= n  # dL/dz of the output layer: (P - Y) / N
        dW, db = [None] * len(self.W), [None] * len(self.W)
        for i in range(last, -1, -1):
            dW[i] = G.T @ acts[i]
            db[i] = G.sum(axis=0)
            if i > 0:
                G = (G @ self.W[i]) * (zs[i - 1] > 0)
        return float(loss), dW, db

    def sgd_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        loss, dW, db = self.gradients(X, y)
        for W, b, gW, gb in zip(self.W, self.b, dW, db):
            W -= lr * gW
            b -= lr * gb
        return loss


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    return [m for _, m in model.named_modules() if isinstance(m, nn.Linear)]


def numpy_twin(model: nn.Module, kind: type[NumpyMLP] = NumpyMLP) -> NumpyMLP:
    """A NumpyMLP holding copies of the model's weights."""
    layers = linear_layers(model)
    return kind([m.weight.data for m in layers], [m.bias.data for m in layers])


# --------------------------------------------------------------------------------- torch
def torch_step(sizes: list[int], dtype: np.dtype, batches: list):
    """A PyTorch train step of the same network, or None when torch is not importable."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b, dtype=tdtype))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(tX, ty) -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(tX), ty).backward()
        opt.step()

    return in_turn(step, [(torch.from_numpy(X), torch.from_numpy(y)) for X, y in batches])


# ------------------------------------------------------------------------------- timing
def in_turn(step: Callable, batches: list) -> Callable[[], object]:
    """A function of no arguments that calls ``step(X, y)`` on each batch in turn."""
    batch = itertools.cycle(batches)
    return lambda: step(*next(batch))


def time_alternating(steps: dict[str, Callable[[], object]], block: int, repeats: int) -> dict:
    """Best seconds per call of each function, timing blocks of calls in alternation."""
    for f in steps.values():  # warm-up
        for _ in range(max(3, block // 2)):
            f()
    samples: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(repeats):
        for name, f in steps.items():
            start = CLOCK()
            for _ in range(block):
                f()
            samples[name].append((CLOCK() - start) / block)
    return {k: min(v) for k, v in samples.items()}


def page_faults(f: Callable[[], object], steps: int = 20) -> float | None:
    """Minor page faults per call of ``f``: memory the allocator handed back to the system and
    that the next call touches again. None where the ``resource`` module is missing (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        f()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps


CASES = [  # name, layer sizes, batch
    ("digits 64-128-64-10", [64, 128, 64, 10], 64),
    ("MNIST-size 784-256-128-10", [784, 256, 128, 10], 128),
    ("deep 20x64", [64] + [64] * 20 + [10], 64),
]


def step_rows(quick: bool, case: str = "") -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for name, sizes, batch in CASES:
        if case not in name:
            continue
        for dtype in (np.float32, np.float64):
            batches = [  # two batches, taken in turn: a new batch at every step, as in training
                (
                    rng.standard_normal((batch, sizes[0])).astype(dtype),
                    rng.integers(0, sizes[-1], batch),
                )
                for _ in range(2)
            ]
            model = nn.MLP(sizes, activation="relu", init="he", rng=0, dtype=dtype)
            twin = numpy_twin(model)
            opt = optim.SGD(model.parameters(), lr=LR)
            tensors = [(bl.Tensor(X), y) for X, y in batches]
            steps = {
                "backproplab": in_turn(partial(train.train_step, model, opt), tensors),
                "numpy": in_turn(partial(twin.sgd_step, lr=LR), batches),
            }
            t_step = torch_step(sizes, dtype, batches)
            if t_step is not None:
                steps["torch"] = t_step
            big = sizes[0] >= 784
            block = (10 if big else 20) if not quick else 5
            repeats = REPEATS if not quick else 3
            times = time_alternating(steps, block, repeats)
            rows.append({"case": name, "dtype": np.dtype(dtype).name, "batch": batch, **times})
            faults = {k: page_faults(f) for k, f in steps.items()}
            print(
                f"  {name:<28} {np.dtype(dtype).name:<8} "
                + "  ".join(
                    f"{k} {v * 1e6:8.1f} us"
                    + ("" if faults[k] is None else f" ({faults[k]:.0f} page faults/step)")
                    for k, v in times.items()
                ),
                file=sys.stderr,
            )
    return rows


# ----------------------------------------------------------------------- time to 97 %
def numpy_fit(twin: NumpyMLP, data, epochs: int, lr: float, momentum: float, wd: float, seed: int):
    """The numpy twin of train.fit with SGD(momentum, weight_decay): the same batches, updates
    and per-epoch evaluation of the training and test data. Returns test accuracies."""
    rng = np.random.default_rng(seed)
    vel_W = [None] * len(twin.W)
    vel_b = [None] * len(twin.b)
    test_acc = []
    for _ in range(epochs):
        for Xb, yb in datasets.minibatches(data.X_train, data.y_train, 64, rng=rng):
            _, dW, db = twin.gradients(Xb, yb)
            for i in range(len(twin.W)):
                for params, grads, vel in ((twin.W, dW, vel_W), (twin.b, db, vel_b)):
                    g = grads[i] + wd * params[i]
                    if vel[i] is None:
                        vel[i] = g
                    else:
                        vel[i] *= momentum
                        vel[i] += g
                    params[i] -= lr * vel[i]
        for X, y, keep in ((data.X_train, data.y_train, False), (data.X_test, data.y_test, True)):
            logits = twin.logits(X)  # loss and accuracy, as fit's evaluate computes them
            shifted = logits - logits.max(axis=1, keepdims=True)
            _ = -(shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))[
                np.arange(len(y)), y
            ].mean()
            acc = float(np.mean(logits.argmax(1) == y))
            if keep:
                test_acc.append(acc)
    return test_acc


def time_to_97(repeats: int) -> dict:
    data = datasets.digits()
    hp = dict(lr=0.1, momentum=0.9, wd=1e-3, seed=0)
    model = nn.MLP([64, 128, 64, 10], rng=0)
    accs = numpy_fit(numpy_twin(model), data, 30, hp["lr"], hp["momentum"], hp["wd"], hp["seed"])
    epochs = next((i + 1 for i, a in enumerate(accs) if a >= 0.97), None)
    if epochs is None:
        raise RuntimeError("the numpy loop did not reach 97 % in 30 epochs")
    times: dict[str, list[float]] = {"numpy": [], "backproplab": []}
    acc: dict[str, float] = {"numpy": accs[epochs - 1]}
    for _ in range(repeats):
        twin = numpy_twin(nn.MLP([64, 128, 64, 10], rng=0))
        start = time.process_time()
        numpy_fit(twin, data, epochs, hp["lr"], hp["momentum"], hp["wd"], hp["seed"])
        times["numpy"].append(time.process_time() - start)
        for name in ("backproplab",):
            model = nn.MLP([64, 128, 64, 10], rng=0)
            start = time.process_time()
            opt = optim.SGD(
                model.parameters(), lr=hp["lr"], momentum=hp["momentum"], weight_decay=hp["wd"]
            )
            history = train.fit(
                model,
                data.X_train,
                data.y_train,
                optimizer=opt,
                epochs=epochs,
                batch_size=64,
                test=(data.X_test, data.y_test),
                rng=hp["seed"],
            )
            times[name].append(time.process_time() - start)
            acc[name] = history.test_acc[-1]
    return {"epochs": epochs, "time": {k: min(v) for k, v in times.items()}, "acc": acc}


# --------------------------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test)")
    parser.add_argument(
        "--case", default="", help="only the networks whose name contains this (no time to 97 %%)"
    )
    parser.add_argument(
        "--default-allocator", action="store_true", help="leave glibc's malloc settings alone"
    )
    args = parser.parse_args()
    allocator = "glibc defaults"
    if not args.default_allocator:
        allocator = "freed memory kept" if keep_freed_memory() else "not glibc: defaults"
    start = time.perf_counter()
    print("timing train steps ...", file=sys.stderr)
    rows = step_rows(args.quick, args.case)
    fit_row = None
    if not args.case:
        print("timing training to 97 % ...", file=sys.stderr)
        fit_row = time_to_97(1 if args.quick else 11)
    has_torch = any("torch" in r for r in rows)

    print(
        f"\nTrain step (forward + backward + SGD update), best of "
        f"{3 if args.quick else REPEATS} blocks of steps, "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}, allocator: {allocator}:\n"
    )
    head = "| network | dtype | batch | numpy (µs) | backproplab (µs) | ratio |"
    rule = "|---|---|---|---|---|---|"
    if has_torch:
        head += " torch (µs) |"
        rule += "---|"
    print(head)
    print(rule)
    for r in rows:
        line = (
            f"| {r['case']} | {r['dtype']} | {r['batch']} | {r['numpy'] * 1e6:.0f} | "
            f"{r['backproplab'] * 1e6:.0f} | {r['backproplab'] / r['numpy']:.2f}× |"
        )
        if has_torch:
            line += f" {r['torch'] * 1e6:.0f} |"
        print(line)
    if fit_row is not None:
        f = fit_row
        print(
            f"\nTraining the digits MLP 64-128-64-10 to 97 % test accuracy ({f['epochs']} epochs, "
            f"SGD lr 0.1 momentum 0.9 weight decay 1e-3, batch 64, best of runs):\n"
        )
        t, a = f["time"], f["acc"]
        print("| | numpy (s) | backproplab `fit` (s) | ratio |")
        print("|---|---|---|---|")
        print(
            f"| time | {t['numpy']:.2f} | {t['backproplab']:.2f} | "
            f"{t['backproplab'] / t['numpy']:.2f}× |"
        )
        print(f"| test accuracy | {a['numpy']:.4f} | {a['backproplab']:.4f} | |")
    if not has_torch:
        print("\n(torch is not installed: no torch column.)")
    print(
        f"\nReproduce: `python {' '.join(sys.argv)}` (this run: "
        f"{time.perf_counter() - start:.0f} s)."
    )


if __name__ == "__main__":
    main()
