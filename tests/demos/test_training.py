"""The training demos at reduced size: they run, print their key figures, write their pictures and summary,
and their random results land where the experiment says they should."""

from __future__ import annotations

import dataclasses
import math
import shutil

import numpy as np
import pytest

import numnet
from numnet import data, demos, graph, nn, optim
from numnet.cli import main

from .demo_helpers import check_outputs


def test_xor_is_solved_and_its_graph_drawn(tmp_path, capsys):
    # lr 0.03 instead of 0.01: the test stops within ~1200 iterations (seed 3 solves XOR at either rate)
    figures = demos.run_demo("xor", out=tmp_path, lr=0.03, iterations=2500, print_every=500, seeds=4)
    assert figures["solved"] is True
    np.testing.assert_array_equal(figures["predictions"], [0, 1, 1, 0])
    assert figures["stopped_at"] is not None and figures["stopped_at"] < 2500
    assert figures["final_loss"] < 0.001
    assert figures["losses"][0] > 0.1  # it did learn something
    assert figures["tutorial_relu_stopped_at"] is not None  # the tutorial's ReLU also gets there here
    assert figures["graph"] == tmp_path / "graph.png" and figures["graph"].is_file()
    assert len(figures["seed_stops"]) == 4
    if shutil.which("dot"):
        svg = (tmp_path / "graph.svg").read_text()
        for node in (
            "a1 = Linear",
            "o1 = ReLU",
            "a2 = Linear",
            "y = Reshape",
            "y − t = Sub",
            "Σ(y − t)² = Sum",
            "loss ½·Σ(y − t)² = Mul",
        ):
            assert node in svg
        assert "MSE" not in svg  # the graph shows the loss the net is trained on
    printed = capsys.readouterr().out
    assert "stopped at iteration" in printed and "3315" in printed
    assert "NOT COMPARABLE" in printed  # lr and iterations differ from the tutorial's
    summary = check_outputs(tmp_path, pictures=4)
    assert "multiplies the incoming gradient by the input X" in summary
    assert "result.shape[0]" in summary  # the tutorial's undefined name, listed among its bugs
    assert "stop later" not in summary  # no claim about other seeds that this run did not measure


def test_xor_seeds_side_by_side_are_the_single_runs():
    xor = demos.load("xor")
    settings = demos.settings("xor", iterations=3000, lr=0.02, seeds=6)
    together = xor.over_seeds(settings)
    X, y = xor.data.make_xor()
    for seed, (stopped, right) in enumerate(together):
        one = dataclasses.replace(settings, seed=seed)
        model = xor.make_model(one)
        _, alone = xor.train(model, one, None)
        assert stopped == alone, seed
        assert right == bool(np.array_equal(xor.predict(model, X, one.threshold), y)), seed
    assert any(s is not None for s, _ in together) and any(s is None for s, _ in together)


def test_xor_without_graphviz_draws_its_graph_and_says_so_once(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    figures = demos.run_demo("xor", out=tmp_path, iterations=300, seeds=0, tutorial_relu=False)
    assert figures["graph"] == tmp_path / "graph.png"
    assert (tmp_path / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.dot"))
    printed = capsys.readouterr().out
    assert printed.count("apt-get install graphviz") == 1
    assert "wrote 3 picture(s)" in printed  # loss, decision boundary, graph: each one exists
    summary = check_outputs(tmp_path, pictures=3)
    assert "graph.png" in summary and "numnet's own layout" in summary


def test_fit_runs_its_settings_and_reports_time(tmp_path, capsys):
    out = tmp_path / "fit"
    flags = ["--neurons", "16", "--samples", "50", "--epochs", "4", "--lr", "0.1", "--threads", "0"]
    assert main(["demo", "fit", "--out", str(out), *flags]) == 0
    printed = capsys.readouterr().out
    assert "test MSE on linspace(0, 1, 100)" in printed and "training time (s)" in printed
    assert "4 epochs × 50 samples = 200 single-sample SGD steps" in printed
    summary = check_outputs(out, pictures=2)
    assert "| `neurons` | 16 |" in summary


def test_fit_draws_side_by_side_are_lone_runs():
    fit = demos.load("fit")
    settings = demos.settings("fit", neurons=128, samples=40, epochs=3, seeds=3)
    seeds = fit.data_seeds(settings)
    assert seeds == [4, 0, 1]
    together = fit.train_side_by_side(settings, seeds)
    x_test, _ = data.curve_linspace(settings.test_points)
    for k, seed in enumerate(seeds):  # a lone net, built from modules, on draw `seed`
        model = fit.make_model(settings)
        x, y = data.make_curve(settings.samples, seed=seed)
        optimizer = optim.SGD(model.parameters(), lr=settings.lr)
        epoch_loss = []
        for _ in range(settings.epochs):
            total = np.zeros((1, 1))  # a running float64 total of the steps' (z − y)², before each update
            for j in range(settings.samples):
                z = model(numnet.tensor(x[j : j + 1]))
                loss = 0.5 * nn.MSELoss(reduction="sum")(z, y[j : j + 1])
                total += (z.data - y[j : j + 1]) ** 2
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            epoch_loss.append(0.5 * total[0, 0] / settings.samples)
        with numnet.no_grad():
            alone = model(numnet.tensor(x_test)).data
        np.testing.assert_array_equal(together["z_test"][k], alone)
        np.testing.assert_array_equal(together["epoch_loss"][k], epoch_loss)
        np.testing.assert_array_equal(together["x"][k], x)


def test_fit_reports_the_spread_over_draws(tmp_path, capsys):
    figures = demos.run_demo("fit", out=tmp_path, neurons=16, samples=60, epochs=4, seeds=3)
    assert figures["data_seeds"] == [4, 0, 1] and len(figures["test_mses"]) == 3
    assert figures["test_mse"] == figures["test_mses"][0]
    assert 0 <= figures["follow_wiggles"] <= 3 and figures["parabola_mse"] > 0
    printed = capsys.readouterr().out
    assert "over 3 data draws" in printed and "not in the tutorial's table" in printed
    assert "NOT COMPARABLE" in printed
    summary = check_outputs(tmp_path, pictures=3)
    assert "0.0021" not in summary  # no figure from another run


def test_fit_learns(tmp_path):
    figures = demos.run_demo("fit", out=tmp_path, neurons=16, samples=100, epochs=6)
    assert figures["steps"] == 600
    assert figures["epoch_loss"][-1] < figures["epoch_loss"][0]
    assert 0 < figures["test_mse"] < 0.05  # the curve's variance is about 0.04: better than a constant
    assert figures["seconds"] > 0


def test_fit_row_for_the_sweep(tmp_path):
    fit = demos.load("fit")
    row = {"neurons": 8, "samples": 30, "epochs": 2, "lr": 0.1, "tutorial_score": 5}
    row["out"] = str(tmp_path / "r")
    answer = fit.run_row(row)
    assert set(answer["results"]) == {"test_mse", "final_loss"}
    assert (tmp_path / "r" / answer["picture"]).is_file() and answer["out"] == str(tmp_path / "r")
    with pytest.raises(ValueError, match="unknown setting"):
        fit.run_row({"neuron": 8, "out": str(tmp_path / "bad")})


def test_mnist_two_layer_net(tmp_path, image_dataset, capsys):
    figures = demos.run_demo(
        "mnist",
        out=tmp_path,
        dataset=image_dataset,
        iterations=150,
        hidden=4,
        lr=0.5,
        train_size=2000,
        gradcheck_samples=2,
    )
    for name, (mean, worst) in figures["gradcheck"].items():  # the book: 1e-10 … 1e-13
        assert worst < 1e-8, name
        assert mean <= worst
    assert set(figures["gradcheck"]) == {"W1", "b1", "W2", "b2"}
    assert figures["evaluated_at"][0] == 0 and figures["evaluated_at"][-1] == 150
    assert figures["test_accuracy"] > 0.3  # far above chance (0.1) after 150 steps
    assert len(figures["losses"]) == 150
    printed = capsys.readouterr().out
    assert "test accuracy" in printed and "≈ 0.97" in printed
    check_outputs(tmp_path, pictures=4)


def test_optimizers_match_the_book_rules(tmp_path, image_dataset):
    figures = demos.run_demo(
        "optimizers", out=tmp_path, dataset=image_dataset, mnist_iterations=15, mnist_hidden=(16, 16), seeds=2
    )
    settings = demos.settings("optimizers")
    for name, path in figures["paths"].items():
        assert path.shape == (31, 2)
        np.testing.assert_array_equal(path[0], [-7.0, 2.0])
        book = demos.load("optimizers").book_rules(name, settings)
        np.testing.assert_allclose(path, book, atol=1e-5 if name == "Adam" else 1e-12)
    # the book's picture: all four end near the minimum, SGD still short of it along x
    for name, end in figures["ends"].items():
        assert abs(end[1]) < 0.5, name
    assert figures["ends"]["SGD"][0] < -0.3
    assert set(figures["mnist_losses"]) == {"SGD", "Momentum", "AdaGrad", "Adam"}
    assert all(len(v) == 15 for v in figures["mnist_losses"].values())
    summary = check_outputs(tmp_path, pictures=2)
    assert "seeds 0–1: SGD's loss the highest of the four" in summary


def test_init_relu_scales(tmp_path, capsys):
    figures = demos.run_demo("init", out=tmp_path, activations=("relu",), samples=200, layers=3)
    stds = figures["stds"]
    he, xavier, small = stds["relu/He √(2/n)"], stds["relu/Xavier 1/√n"], stds["relu/std 0.01"]
    assert len(he) == 3
    assert 0.5 < he[-1] / he[0] < 2  # He keeps the spread
    assert xavier[-1] < 0.7 * xavier[0]  # Xavier's shrinks with depth under ReLU
    assert small[-1] < small[0] / 100  # std 0.01 collapses, layer after layer
    assert "standard deviation of each layer's activations" in capsys.readouterr().out
    check_outputs(tmp_path, pictures=5)


def test_batchnorm_compares_with_and_without(tmp_path, image_dataset):
    # 36 steps (lr 0.05, batch 25) instead of the book's 200 (lr 0.01, batch 100)
    figures = demos.run_demo(
        "batchnorm",
        out=tmp_path,
        dataset=image_dataset,
        scales=(0.1, 0.01),
        epochs=3,
        train_size=300,
        batch_size=25,
        lr=0.05,
        hidden=(32, 32, 32),
        seeds=2,
    )
    assert set(figures["curves"]) == {0.1, 0.01}
    for curves in figures["curves"].values():
        assert set(curves) == {"BatchNorm", "no BatchNorm"}
        for curve in curves.values():
            assert len(curve) == 4  # before training and after each epoch
            assert all(0 <= a <= 1 for a in curve if not math.isnan(a))
    # with small weights a plain deep ReLU net barely moves; BatchNorm rescales every layer and learns
    for scale, curves in figures["curves"].items():
        assert curves["BatchNorm"][-1] > curves["no BatchNorm"][-1] + 0.2, scale
    assert figures["batchnorm_better"] == 2
    summary = check_outputs(tmp_path, pictures=1)
    assert "seeds 0–1: scales where BatchNorm ends higher" in summary
    assert "ε is 1e-06 here (the book's 10e-7)" in summary


def test_overfitting_three_runs(tmp_path, image_dataset, capsys):
    figures = demos.run_demo(
        "overfitting",
        out=tmp_path,
        dataset=image_dataset,
        epochs=4,
        dropout_epochs=6,
        train_size=100,
        test_size=300,
        hidden=(32, 32),
        seeds=2,
    )
    assert len(figures["curves"]) == 3
    for name, curves in figures["curves"].items():
        assert len(curves["train"]) == len(curves["test"]) == (7 if name.startswith("dropout") else 5)
    assert "dropout p = 0.15" in figures["curves"] and "weight decay λ = 0.1" in figures["curves"]
    printed = capsys.readouterr().out
    assert "inverted dropout" in printed
    summary = check_outputs(tmp_path, pictures=1)
    assert "test accuracy − no regularisation's" in summary and "seeds 0–1, dropout p = 0.15" in summary
    assert ("does not improve" in summary) or ("improves by" in summary)


def test_dropout_and_weight_decay_are_wired_as_the_book_says():
    overfitting = demos.load("overfitting")
    settings = demos.settings("overfitting", hidden=(8, 8))
    model = overfitting.make_model(settings, 20, dropout=0.15)
    dropouts = [m for m in model if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 2 and all(d.p == 0.15 for d in dropouts)
    optimizer = overfitting.make_optimizer(settings, model, weight_decay=0.1)
    decayed, plain = optimizer.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0
    assert all(p.ndim == 2 for p in decayed["params"]) and all(p.ndim == 1 for p in plain["params"])


@pytest.mark.parametrize("name", demos.names())
def test_quick_settings_exist(name):
    settings = demos.settings(name, quick=True)
    assert type(settings).__name__ == "Settings"
