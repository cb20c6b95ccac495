"""Time to draw a 100-node computational graph with ``plotting.draw_graph``.

    python benchmarks/draw_graph.py

Builds a scalar neuron network (micrograd's kind of graph: one node per scalar op) of about 100
nodes, backpropagates it, then times ``draw_graph`` plus rendering the figure to pixels
(``fig.canvas.draw()``, which is what a notebook pays when it shows the picture). Prints the best
and median of several runs. Goal (issue 4): under 1 s. Also times the summarised drawing of a
graph ten times larger, and the pure ``graph_layout`` alone.
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")  # off screen: we time drawing and rendering, not a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import backproplab as bl  # noqa: E402
from backproplab import plotting  # noqa: E402


def neuron_network(n_in: int, hidden: int, rng: np.random.Generator) -> bl.Tensor:
    """(y - 1)^2 for a one-hidden-layer network of tanh neurons on scalars."""
    xs = [bl.Tensor(v, name=f"x{i + 1}") for i, v in enumerate(rng.uniform(-1, 1, n_in))]
    hs = []
    for j in range(hidden):
        total = bl.Tensor(0.0, requires_grad=True, name=f"b{j + 1}")
        for i, x in enumerate(xs):
            w = bl.Tensor(rng.uniform(-1, 1), requires_grad=True, name=f"w{j + 1}{i + 1}")
            total = total + w * x
        hs.append(total.tanh())
    out = hs[0]
    for h in hs[1:]:
        out = out + h
    return (out - 1.0) ** 2


def timed(draw, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``draw()`` plus rendering, for each of ``repeats`` runs.

    CPU time (``time.process_time``) is what the drawing itself costs; wall-clock time also
    counts waiting for the processor, which on a shared machine can be several times more.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fig = draw()
        fig.canvas.draw()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        plt.close(fig)
    return wall, cpu


def report(what: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    print(f"{what}: CPU best {min(cpu):.3f} s, median {np.median(cpu):.3f} s; "
          f"wall-clock best {min(wall):.3f} s, median {np.median(wall):.3f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    loss = neuron_network(n_in=3, hidden=8, rng=rng)
    loss.backward()
    n = len(plotting.graph_nodes(loss))
    report(f"draw_graph, {n} nodes, drawn and rendered (goal < 1 s)",
           timed(lambda: plotting.draw_graph(loss), args.repeats))  # fmt: skip

    start = time.perf_counter()
    for _ in range(args.repeats):
        plotting.graph_layout(loss)
    print(f"graph_layout alone: {(time.perf_counter() - start) / args.repeats * 1e3:.1f} ms")

    big = neuron_network(n_in=10, hidden=20, rng=rng)
    big.backward()
    n_big = len(plotting.graph_nodes(big))
    report(f"draw_graph, {n_big} nodes, summarised",
           timed(lambda: plotting.draw_graph(big), args.repeats))  # fmt: skip


if __name__ == "__main__":
    main()
