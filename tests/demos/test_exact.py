"""The deterministic demos: their figures must equal the tutorials' to the last digit (or to formulas derived
here by hand, independently of numnet)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numnet import demos, graph
from numnet.cli import main

from .demo_helpers import check_outputs


def test_gender_reproduces_the_published_numbers_exactly(tmp_path, capsys):
    out = tmp_path / "gender"
    assert (
        main(["demo", "gender", "--out", str(out), "--epochs", "300", "--seeds", "2", "--threads", "0"]) == 0
    )
    printed = capsys.readouterr().out
    # the three deterministic results, printed in full next to the tutorial's
    assert printed.count("0.9990889488055994") == 2
    assert printed.count("0.7216325609518421") == 2
    assert "MSE([1,0,0,1], [0,0,0,0])" in printed
    assert "epoch  290:" in printed  # the loss, every 10 epochs
    check_outputs(out, pictures=2)


def test_gender_values_and_training(tmp_path):
    figures = demos.run_demo("gender", out=tmp_path, epochs=300, seeds=3)
    assert figures["neuron"] == 0.9990889488055994
    assert figures["network"] == 0.7216325609518421
    assert figures["mse"] == 0.5
    losses = [loss for _, loss in figures["loss_curve"]]
    assert [epoch for epoch, _ in figures["loss_curve"]] == list(range(0, 300, 10))
    assert losses[-1] < losses[0] / 5
    assert figures["emily"] > 0.5 > figures["frank"]  # Emily female, Frank male
    assert len(figures["seed_results"]) == 3
    final_loss, emily, frank = figures["seed_results"][0]  # seed 0 is this run's seed
    assert (final_loss, emily, frank) == (figures["final_loss"], figures["emily"], figures["frank"])
    assert all(e > 0.5 > f for _, e, f in figures["seed_results"])


def test_apples_forward_220_and_gradients(tmp_path, capsys):
    figures = demos.run_demo("apples", out=tmp_path)
    apples, fruit = figures["apples"], figures["fruit"]
    f32 = lambda v: float(np.float32(v))  # noqa: E731 - numnet computes in float32 by default
    assert apples == {"price": 220.0, "d apple": f32(2.2), "d apple_num": 110.0, "d tax": 200.0}
    assert fruit["price"] == 715.0
    assert fruit["d apple_num"] == 110.0 and fruit["d apple"] == f32(2.2)
    assert fruit["d orange"] == pytest.approx(3.3, rel=1e-6) and fruit["d orange_num"] == 165.0
    assert fruit["d tax"] == 650.0
    assert figures["graph"].suffix == ".png" and figures["graph"].is_file()
    printed = capsys.readouterr().out
    assert "apples: price" in printed and "220" in printed
    check_outputs(tmp_path, pictures=2)  # both graphs, with or without Graphviz


def test_apples_without_graphviz_draws_both_graphs(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    figures = demos.run_demo("apples", out=tmp_path)
    assert figures["graph"] == tmp_path / "apples_graph.png"
    assert figures["fruit_graph"] == tmp_path / "fruit_graph.png"
    printed = capsys.readouterr().out
    assert printed.count("apt-get install graphviz") == 1 and "wrote 2 picture(s)" in printed
    summary = check_outputs(tmp_path, pictures=2)
    assert "Graphviz" in summary and ".dot" not in summary


def test_apples_in_float64_shows_the_rounding_of_1_1(tmp_path):
    figures = demos.run_demo("apples", out=tmp_path, float64=True)
    assert figures["apples"]["price"] == 100 * 2 * 1.1 == 220.00000000000003
    assert figures["apples"]["d apple"] == 2.2
    assert figures["apples"]["d tax"] == 200.0


def hand_derived_weights(epochs: int, lr: float) -> list[tuple[float, float, float, float]]:
    """linear221 by hand. With x = (1, 1) and every weight equal, the two hidden units stay equal, so the net
    has four numbers: a (each of w1..w4), b (b1 = b2), c (w5 = w6) and d (b3).
    h = 2a + b, ŷ = 2c·h + d, L = (1 − ŷ)², g = dL/dŷ = 2(ŷ − 1), and
    dL/da = g·c, dL/db = g·c, dL/dc = g·h, dL/dd = g."""
    a, b, c, d = 1.0, 0.0, 1.0, 0.0
    trail = []
    for _ in range(epochs):
        h = 2 * a + b
        g = 2 * (2 * c * h + d - 1)
        a, b, c, d = a - lr * g * c, b - lr * g * c, c - lr * g * h, d - lr * g
        trail.append((a, b, c, d))
    return trail


def test_linear221_weights_follow_the_hand_derived_formulas(tmp_path, capsys):
    figures = demos.run_demo("linear221", out=tmp_path)
    expected = hand_derived_weights(10, 0.1)
    assert len(figures["weights"]) == 10
    for got, (a, b, c, d) in zip(figures["weights"], expected, strict=True):
        for name in ("w1", "w2", "w3", "w4"):
            assert got[name] == pytest.approx(a, abs=1e-12)
        assert got["b1"] == pytest.approx(b, abs=1e-12) and got["b2"] == pytest.approx(b, abs=1e-12)
        assert got["w5"] == pytest.approx(c, abs=1e-12) and got["w6"] == pytest.approx(c, abs=1e-12)
        assert got["b3"] == pytest.approx(d, abs=1e-12)
    assert expected[0] == pytest.approx((0.4, -0.6, -0.2, -0.6))  # the first step, by hand
    assert figures["symmetric"] is True
    assert figures["loss_mean"][0] == 9.0  # (1 − 4)²
    assert figures["loss_min"] == figures["loss_mean"] == figures["loss_max"]  # one sample per epoch
    assert figures["max_difference_from_rules"] < 1e-12
    # the whole net is the linear map v·x + c
    a, b, c, d = expected[-1]
    assert figures["v"] == pytest.approx([2 * c * a, 2 * c * a])
    assert figures["c"] == pytest.approx(2 * c * b + d)
    printed = capsys.readouterr().out
    assert "hidden units identical every epoch" in printed
    check_outputs(tmp_path, pictures=2)
    # the weights picture starts at epoch 0 and shows each twin as its own, visible, line
    fig = demos.load("linear221")._weights_figure(
        [{k: 1.0 if k[0] == "w" else 0.0 for k in got}, *figures["weights"]]
    )
    first = fig.axes[0]
    unit1, unit2 = first.lines[:2]
    assert unit1.get_label() == "w1" and unit2.get_label() == "w3"
    assert unit1.get_xdata()[0] < 0 < unit2.get_xdata()[0] < 0.5  # epoch 0, drawn side by side
    np.testing.assert_array_equal(unit1.get_ydata(), unit2.get_ydata())


def test_activations_losses_match_the_book(tmp_path):
    figures = demos.run_demo("activations", out=tmp_path)
    assert figures["mse_right"] == pytest.approx(0.0975, abs=1e-15)
    assert figures["mse_wrong"] == pytest.approx(0.5975, abs=1e-15)
    assert figures["ce_right"] == -math.log(0.6 + 1e-7) == pytest.approx(0.510825457, abs=1e-9)
    assert figures["ce_wrong"] == pytest.approx(2.302584092, abs=1e-9)
    assert figures["ce_right_labels"] == figures["ce_right"]
    assert figures["ce_wrong_labels"] == figures["ce_wrong"]
    assert figures["ce_batch"] == pytest.approx((figures["ce_right"] + figures["ce_wrong"]) / 2)
    np.testing.assert_allclose(figures["softmax"], [0.01821127, 0.24519181, 0.73659691], atol=5e-9)
    assert np.isnan(figures["naive_softmax"]).all() and np.isfinite(figures["stable_softmax"]).all()
    check_outputs(tmp_path, pictures=3)


def test_numgrad_reproduces_the_book(tmp_path, capsys):
    figures = demos.run_demo("numgrad", out=tmp_path)
    assert figures["float32_1e-50"] == 0.0 and figures["forward_difference"] == 0.0
    assert figures["central"] == {5.0: 0.1999999999990898, 10.0: 0.2999999999986347}
    for point, grad in figures["gradients"].items():
        np.testing.assert_allclose(grad, 2 * np.array(point), atol=1e-9)
        np.testing.assert_array_equal(figures["autograd_gradients"][point], 2 * np.array(point))
    np.testing.assert_allclose(figures["descent"], [-6.11110793e-10, 8.14814391e-10], rtol=1e-8)
    np.testing.assert_allclose(figures["descent_autograd"], np.array([-3.0, 4.0]) * 0.8**100, rtol=1e-12)
    np.testing.assert_allclose(figures["descent_big_lr"], [-2.58983747e13, -1.29524862e12], rtol=1e-8)
    np.testing.assert_allclose(figures["descent_small_lr"], [-2.99999994, 3.99999992], atol=1e-8)
    assert "0.1999999999990898" in capsys.readouterr().out
    check_outputs(tmp_path, pictures=1)
