"""Per-node cost of building and backpropagating a large graph of scalars (0-d tensors).

    python benchmarks/scalar_graph.py

Builds the scalar graph micrograd is made for -- neurons tanh(sum_i w_i x_i + b) in a small MLP,
one scalar op per node -- then backpropagates it, and prints microseconds per node (best of
several runs). Goal: <= 7.5 us per node on the 2-core machine. For reference, measured earlier on
that machine: PyTorch with 0-d tensors ~12 us, micrograd ~34 us (and micrograd's recursive
topological sort fails past a depth of ~1000). A deep chain is timed too: no recursion limit.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import backproplab as bl
from backproplab.autodiff import toposort


def scalar_mlp_loss(sizes: list[int], batch: int, rng: np.random.Generator) -> bl.Tensor:
    """Squared error of a scalar-by-scalar MLP on ``batch`` random points: one node per op."""
    layers = [
        [
            ([bl.Tensor(rng.uniform(-1, 1), requires_grad=True) for _ in range(n_in)],
             bl.Tensor(0.0, requires_grad=True))
            for _ in range(n_out)
        ]
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]  # fmt: skip
    loss = bl.Tensor(0.0)
    for _ in range(batch):
        h = [bl.Tensor(v) for v in rng.uniform(-1, 1, sizes[0])]
        for layer in layers:
            h = [_neuron(ws, b, h) for ws, b in layer]
        loss = loss + (h[0] - 1.0) ** 2
    return loss


def _neuron(ws: list[bl.Tensor], b: bl.Tensor, xs: list[bl.Tensor]) -> bl.Tensor:
    total = b
    for w, x in zip(ws, xs):
        total = total + w * x
    return total.tanh()


def deep_chain(depth: int) -> bl.Tensor:
    """y = tanh(tanh(...tanh(x * w)...)): a chain ``depth`` nodes long."""
    x = bl.Tensor(0.5, requires_grad=True)
    h = x
    for _ in range(depth):
        h = h.tanh()
    return h


def measure(build, repeats: int) -> tuple[int, float, float]:
    """Nodes, best build time and best backward time (seconds) over ``repeats`` runs."""
    best_build = best_backward = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        root = build()
        built = time.process_time()
        root.backward()
        done = time.process_time()
        best_build = min(best_build, built - start)
        best_backward = min(best_backward, done - built)
    return len(toposort(root)), best_build, best_backward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    def mlp() -> bl.Tensor:
        return scalar_mlp_loss([4, 16, 16, 1], 60, np.random.default_rng(0))

    rows = [
        ("scalar MLP 4-16-16-1, 60 points", mlp),
        ("deep chain of tanh, depth 100,000", lambda: deep_chain(100_000)),
    ]
    print("| graph | nodes | build µs/node | backward µs/node | total µs/node |")
    print("|---|---:|---:|---:|---:|")
    for label, build in rows:
        nodes, b, bw = measure(build, args.repeats)
        per = 1e6 / nodes
        print(f"| {label} | {nodes:,} | {b * per:.2f} | {bw * per:.2f} | {(b + bw) * per:.2f} |")


if __name__ == "__main__":
    main()
