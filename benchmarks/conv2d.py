"""How much does the engine cost on a convolution? conv2d forward + backward against hand-written
numpy, in the same run.

    python benchmarks/conv2d.py            # a few seconds; prints a markdown table
    python benchmarks/conv2d.py --quick    # fewer repeats, for a smoke test

The case is digits-sized: a batch of 64 images of 16 channels, 8 x 8 pixels, a 3 x 3 kernel with
16 output channels and padding 1 (a conv layer in the middle of a small ResNet on the 8x8 digits),
in float32 and float64.

* ``backproplab``: ``bl.conv2d(x, w, b, padding=1)`` then ``out.backward(G)`` for a fixed upstream
  gradient G: the engine's row (im2col, one matmul; the matmul rule and col2im), the Tensor and the
  backward pass, with gradients for the input, the weight and the bias.
* ``numpy``: the same three gradients written out in this file with its own im2col and col2im
  (nothing from the package): the floor the engine can approach.

Timing follows ``train_step.py`` (whose helpers it uses): BLAS on one thread, glibc told to keep
freed memory, each variant warmed up and then timed in blocks of calls that alternate between the
variants, in CPU time of this process; the best block is reported.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402
from train_step import keep_freed_memory, time_alternating  # noqa: E402

import backproplab as bl  # noqa: E402

SHAPE = (64, 16, 8, 8)  # N, C, H, W
OUT_CHANNELS, KERNEL, PADDING = 16, 3, 1
REPEATS = 31  # blocks per variant (3 with --quick)


# ----------------------------------------------------------------------- hand-written numpy
def numpy_im2col(x: np.ndarray, k: int, pad: int) -> np.ndarray:
    """Windows of x (N, C, H, W), stride 1, as rows (N*OH*OW, C*k*k) ordered (c, i, j), picked
    out of the zero-padded images by one index, as the package's im2col does."""
    n, c, h, w = x.shape
    hp, wp = h + 2 * pad, w + 2 * pad
    oh, ow = hp - k + 1, wp - k + 1
    xp = np.zeros((n, c, hp, wp), dtype=x.dtype)
    xp[:, :, pad : pad + h, pad : pad + w] = x
    r, q, ch, i, j = np.ix_(range(oh), range(ow), range(c), range(k), range(k))
    index = (ch * hp + r + i) * wp + q + j  # (OH, OW, C, k, k) positions in one padded image
    return np.take(xp.reshape(n, -1), index.reshape(oh * ow, -1), axis=1).reshape(n * oh * ow, -1)


def numpy_col2im(cols: np.ndarray, shape: tuple, k: int, pad: int) -> np.ndarray:
    """Adds each window back, kernel offset by offset, a few images at a time (about 512 kB of
    cols, which stays in the cache from one offset to the next), as the package's col2im."""
    n, c, h, w = shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = cols.reshape(n, oh, ow, c, k, k)
    xp = np.zeros((n, h + 2 * pad, w + 2 * pad, c), dtype=cols.dtype)
    per_block = max(1, 2**19 // cols[:1].nbytes)
    for block in range(0, n, per_block):
        images = slice(block, block + per_block)
        for i in range(k):
            for j in range(k):
                xp[images, i : i + oh, j : j + ow] += cols[images, ..., i, j]
    return np.ascontiguousarray(xp[:, pad : pad + h, pad : pad + w].transpose(0, 3, 1, 2))


def numpy_conv2d_step(x, w, b, g, pad):
    """Forward and backward of a stride-1 convolution: (out, dx, dw, db)."""
    o, _, k, _ = w.shape
    n, _, h, width = x.shape
    cols = numpy_im2col(x, k, pad)
    w2 = w.reshape(o, -1)
    out = cols @ w2.T + b
    oh, ow = h + 2 * pad - k + 1, width + 2 * pad - k + 1
    out = np.ascontiguousarray(out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2))
    G = g.transpose(0, 2, 3, 1).reshape(-1, o)
    dw = (G.T @ cols).reshape(w.shape)
    dx = numpy_col2im(G @ w2, x.shape, k, pad)
    return out, dx, dw, G.sum(axis=0)


# --------------------------------------------------------------------------------- engine
def engine_step(x: bl.Tensor, w: bl.Tensor, b: bl.Tensor, g: np.ndarray, pad: int):
    """The same through the engine: (out, dx, dw, db)."""
    x.grad = w.grad = b.grad = None
    out = bl.conv2d(x, w, b, padding=pad)
    out.backward(g)
    return out.data, x.grad, w.grad, b.grad


def setup(dtype: type) -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE).astype(dtype)
    w = (rng.standard_normal((OUT_CHANNELS, SHAPE[1], KERNEL, KERNEL)) * 0.1).astype(dtype)
    b = rng.standard_normal(OUT_CHANNELS).astype(dtype)
    g = rng.standard_normal((SHAPE[0], OUT_CHANNELS, SHAPE[2], SHAPE[3])).astype(dtype)
    tensors = tuple(bl.Tensor(a, requires_grad=True) for a in (x, w, b))
    return (x, w, b, g), tensors


def rows(quick: bool) -> list[dict]:
    result = []
    for dtype in (np.float32, np.float64):
        (x, w, b, g), (tx, tw, tb) = setup(dtype)
        steps = {
            "numpy": partial(numpy_conv2d_step, x, w, b, g, PADDING),
            "backproplab": partial(engine_step, tx, tw, tb, g, PADDING),
        }
        times = time_alternating(steps, block=5 if quick else 20, repeats=3 if quick else REPEATS)
        result.append({"dtype": np.dtype(dtype).name, **times})
        print(
            f"  {np.dtype(dtype).name}: "
            + "  ".join(f"{k} {v * 1e6:.0f} us" for k, v in times.items()),
            file=sys.stderr,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test)")
    args = parser.parse_args()
    allocator = "freed memory kept" if keep_freed_memory() else "not glibc: defaults"
    table = rows(args.quick)
    print(
        f"\nconv2d forward + backward, input {SHAPE}, {OUT_CHANNELS} output channels, "
        f"{KERNEL}x{KERNEL} kernel, padding {PADDING}; best of {3 if args.quick else REPEATS} "
        f"blocks, {platform.processor() or platform.machine()}, numpy {np.__version__}, BLAS "
        f"threads {os.environ['OPENBLAS_NUM_THREADS']}, allocator: {allocator}:\n"
    )
    print("| dtype | numpy (µs) | backproplab (µs) | ratio |")
    print("|---|---|---|---|")
    for r in table:
        print(
            f"| {r['dtype']} | {r['numpy'] * 1e6:.0f} | {r['backproplab'] * 1e6:.0f} | "
            f"{r['backproplab'] / r['numpy']:.2f}× |"
        )
    print(f"\nReproduce: `python {' '.join(sys.argv)}`.")


if __name__ == "__main__":
    main()
