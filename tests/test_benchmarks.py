"""The benchmark's hand-written numpy network must do the engine's work, or its ratios mean nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import backproplab as bl
from backproplab import datasets, nn, optim, train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import train_step as bench  # noqa: E402


def test_numpy_twin_computes_the_engines_loss_and_gradients():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((16, 8)), rng.integers(0, 5, size=16)
    model = nn.MLP([8, 12, 6, 5], rng=2)
    loss, dW, db = bench.numpy_twin(model).gradients(X, y)
    L = bl.cross_entropy(model(bl.Tensor(X)), y)
    L.backward()
    np.testing.assert_allclose(loss, L.item(), rtol=1e-12)
    layers = bench.linear_layers(model)
    for layer, gW, gb in zip(layers, dW, db):
        np.testing.assert_allclose(gW, layer.weight.grad, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(gb, layer.bias.grad, rtol=1e-10, atol=1e-14)


def test_numpy_fit_makes_the_same_updates_as_fit():
    data = datasets.digits()
    model = nn.MLP([64, 128, 64, 10], rng=0)
    twin = bench.numpy_twin(model)
    accs = bench.numpy_fit(twin, data, 2, 0.1, 0.9, 1e-3, 0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    history = train.fit(
        model, data.X_train, data.y_train, optimizer=opt, epochs=2, batch_size=64,
        test=(data.X_test, data.y_test), rng=0,
    )  # fmt: skip
    for layer, W, b in zip(bench.linear_layers(model), twin.W, twin.b):
        np.testing.assert_allclose(W, layer.weight.data, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, layer.bias.data, rtol=1e-9, atol=1e-12)
    assert accs == history.test_acc


def test_step_rows_time_every_variant_on_batches_taken_in_turn():
    rows = bench.step_rows(quick=True, case="digits")
    assert [r["dtype"] for r in rows] == ["float32", "float64"]
    for r in rows:
        for variant in ("backproplab", "numpy"):
            assert 0 < r[variant] < 0.1, (variant, r[variant])  # seconds per step
    seen = []
    step = bench.in_turn(lambda X, y: seen.append((X, y)), [(1, 2), (3, 4)])
    for _ in range(3):
        step()
    assert seen == [(1, 2), (3, 4), (1, 2)]


def test_the_grading_benchmark_grades_a_small_class_as_expected():
    """benchmarks/grading.py asserts full marks for solved copies and 0 for the release: run it on
    two students (it broke unnoticed once, when notebooks started to check the learner's mygrad.py)."""
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "grading.py"
    done = subprocess.run(
        [sys.executable, str(script), "--students", "2", "--jobs", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "notebooks graded per minute" in done.stdout


def test_page_faults_counts_memory_touched_fresh():
    """The count the benchmark prints beside each time: fresh memory faults, reused memory not."""
    if sys.platform == "win32":  # no `resource` module: the benchmark prints no count
        assert bench.page_faults(lambda: None) is None
        return
    kept = np.full(1 << 23, 0.0)  # written once here, so its pages are in memory already
    # 64 MiB: past the largest mmap threshold glibc allows, so mapped anew and freed at each call
    fresh = bench.page_faults(lambda: np.ones(1 << 23), steps=5)
    reused = bench.page_faults(lambda: kept.fill(1.0), steps=5)
    assert fresh is not None and reused is not None
    assert fresh >= 4 > reused  # >= 4 even with 2 MiB pages; the kept array faults in once only
