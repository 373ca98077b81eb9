"""numgrad — numerical differentiation and gradient descent, "Deep Learning from Scratch" chapter 4.

A derivative can be estimated from two function values. The forward difference (f(x + h) − f(x)) / h has
two problems. Its error shrinks only like h, and a very small h such as 1e-50 vanishes in floating point:
float32 cannot represent 1e-50 at all (it rounds to 0), and in float64 x + 1e-50 is exactly x, so the
difference is 0. The central difference (f(x + h) − f(x − h)) / 2h with h = 1e-4 errs like h² and is the
tutorial's choice; numnet's ``numerical_gradient`` is exactly that.

The gradient of f(x0, x1) = x0² + x1² points away from the minimum at (0, 0); stepping against it with
learning rate 0.1 multiplies the point by 0.8 each step, so 100 steps from (−3, 4) end at 0.8¹⁰⁰·(−3, 4) ≈
(−6.1e-10, 8.1e-10). A learning rate of 10 multiplies by −19 each step and diverges; 1e-10 barely moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import optim
from numnet.demos.common import Report, output_folder, setting
from numnet.plot import new_figure

NAME = "numgrad"
TITLE = "numerical differentiation and gradient descent on x0² + x1²"

# The book's printed results (chapter 4).
PUBLISHED = {
    "diff_at_5": 0.1999999999990898,
    "diff_at_10": 0.2999999999986347,
    "descent": (-6.11110793e-10, 8.14814391e-10),
    "descent_big_lr": (-2.58983747e13, -1.29524862e12),
    "descent_small_lr": (-2.99999994, 3.99999992),
}
POINTS = ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0))


@dataclass
class Settings:
    h: float = setting(1e-4, "step of the central difference")
    lr: float = setting(0.1, "learning rate of gradient descent")
    steps: int = setting(100, "gradient-descent steps")
    start: tuple[float, ...] = setting((-3.0, 4.0), "where gradient descent starts")
    big_lr: float = setting(10.0, "a learning rate that is too large")
    small_lr: float = setting(1e-10, "a learning rate that is too small")


QUICK: dict[str, Any] = {}


def function_1(x: Any) -> Any:
    """The book's one-variable example, f(x) = 0.01x² + 0.1x (f'(x) = 0.02x + 0.1)."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x: Any) -> Any:
    """f(x0, x1) = x0² + x1², for a NumPy array or a numnet tensor."""
    return x[0] ** 2 + x[1] ** 2


def forward_difference(f: Any, x: float, h: float) -> float:
    """(f(x + h) − f(x)) / h: the naive estimate."""
    return (f(x + h) - f(x)) / h


def gradient_descent(start: Any, lr: float, steps: int, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The book's loop: x ← x − lr·∇f(x), ∇f from central differences. Returns the end point and the path."""
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * numnet.numerical_gradient(function_2, x, h=h)
        path.append(x.copy())
    return x, np.array(path)


def gradient_descent_autograd(start: Any, lr: float, steps: int) -> np.ndarray:
    """The same descent with numnet's backward pass and ``optim.SGD`` instead of finite differences."""
    x = numnet.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    optimizer = optim.SGD([x], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        function_2(x).backward()
        optimizer.step()
    return x.data.copy()


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])

    # 1. Why not h = 1e-50
    tiny32 = float(np.float32(1e-50))
    forward_tiny = forward_difference(function_1, 5.0, 1e-50)
    central = {
        x: float(numnet.numerical_gradient(lambda a: function_1(a[0]), np.array([x]), h=settings.h)[0])
        for x in (5.0, 10.0)
    }
    report.compare("np.float32(1e-50)", tiny32, 0.0, exact=True)
    report.compare("forward difference, h = 1e-50, f'(5)", forward_tiny, 0.0, exact=True)
    report.compare(
        f"central difference, h = {settings.h:g}, f'(5)", central[5.0], PUBLISHED["diff_at_5"], exact=True
    )
    report.compare(
        f"central difference, h = {settings.h:g}, f'(10)", central[10.0], PUBLISHED["diff_at_10"], exact=True
    )

    # 2. Numerical gradients of x0² + x1², and numnet's exact ones
    gradients = {}
    for point in POINTS:
        numeric = numnet.numerical_gradient(function_2, np.array(point), h=settings.h)
        x = numnet.tensor(np.array(point), requires_grad=True)
        function_2(x).backward()
        gradients[point] = (numeric, x.grad.data.copy())
        report.compare(
            f"∇f{point}: numerical (numnet backward {x.grad.tolist()})", numeric, 2 * np.array(point)
        )

    # 3. Gradient descent, with three learning rates
    with report.timer("gradient descent"):
        end, path = gradient_descent(settings.start, settings.lr, settings.steps, settings.h)
        end_autograd = gradient_descent_autograd(settings.start, settings.lr, settings.steps)
        end_big, path_big = gradient_descent(settings.start, settings.big_lr, settings.steps, settings.h)
        end_small, _ = gradient_descent(settings.start, settings.small_lr, settings.steps, settings.h)
    book = settings.start == (-3.0, 4.0) and settings.steps == 100
    report.compare(
        f"descent, lr {settings.lr:g}, {settings.steps} steps",
        end,
        np.array(PUBLISHED["descent"]) if book and settings.lr == 0.1 else "",
    )
    report.compare(
        "  the same with backward() + optim.SGD",
        end_autograd,
        np.array(settings.start) * (1 - 2 * settings.lr) ** settings.steps,
    )
    report.compare(
        f"descent, lr {settings.big_lr:g} (too large)",
        end_big,
        np.array(PUBLISHED["descent_big_lr"]) if book and settings.big_lr == 10 else "diverges",
    )
    report.compare(
        f"descent, lr {settings.small_lr:g} (too small)",
        end_small,
        np.array(PUBLISHED["descent_small_lr"]) if book and settings.small_lr == 1e-10 else "stalls",
        digits=9,
    )
    report.section(
        "Why the learning rate matters",
        f"For f = x0² + x1² one step is x ← x − lr·2x = (1 − 2·lr)·x. With lr = {settings.lr:g} the factor "
        f"is {1 - 2 * settings.lr:g}, so x shrinks geometrically to 0. With lr = {settings.big_lr:g} it is "
        f"{1 - 2 * settings.big_lr:g}: |x| grows {abs(1 - 2 * settings.big_lr):g}-fold per step and flips "
        "sign (the finite differences of such huge numbers are then mostly rounding error, hence the odd "
        f"end point). With lr = {settings.small_lr:g} it is 1 − {2 * settings.small_lr:g}: 100 steps move "
        "x by less than a millionth.",
    )
    report.figure(
        _figure(path, path_big),
        "gradient.png",
        "the negative gradient field of x0² + x1² and the descent from (−3, 4)",
    )
    report.differs(
        "The tutorial's forward difference sets h = 10e-50, which is 1e-49, not the 1e-50 its text "
        "discusses; either vanishes the same way, so numnet uses the 1e-50 of the text."
    )
    report.finish()
    return {
        "float32_1e-50": tiny32,
        "forward_difference": forward_tiny,
        "central": central,
        "gradients": {p: g[0] for p, g in gradients.items()},
        "autograd_gradients": {p: g[1] for p, g in gradients.items()},
        "descent": end,
        "descent_autograd": end_autograd,
        "descent_big_lr": end_big,
        "descent_small_lr": end_small,
        "headline": f"∇f(3, 4) = {gradients[(3.0, 4.0)][0].round(6).tolist()}; descent ends at "
        f"({end[0]:.3g}, {end[1]:.3g})",
    }


def _figure(path: np.ndarray, path_big: np.ndarray) -> Any:
    fig, axes = new_figure(1, 2, figsize=(11.0, 4.8))
    field, descent = axes[0]
    grid = np.linspace(-2, 2.5, 18)
    X0, X1 = np.meshgrid(grid, grid)
    points = numnet.tensor(np.stack([X0.ravel(), X1.ravel()]), requires_grad=True)
    function_2(points).sum().backward()  # every point's gradient at once
    G0, G1 = (-points.grad.data).reshape(2, *X0.shape)
    field.quiver(X0, X1, G0, G1, np.hypot(G0, G1), angles="xy", cmap="viridis")
    field.set(title="−∇f(x0, x1): arrows point to the minimum", xlabel="x0", ylabel="x1", aspect="equal")

    grid = np.linspace(-4.5, 4.5, 200)
    X0, X1 = np.meshgrid(grid, grid)
    levels = descent.contour(
        X0, X1, X0**2 + X1**2, levels=[0.5, 2, 4.5, 8, 12.5, 18, 24.5], colors="grey", linewidths=0.8
    )
    descent.clabel(levels, fontsize=7)
    descent.plot(path[:, 0], path[:, 1], "o-", color="C0", markersize=3, label="lr 0.1: 100 steps → (0, 0)")
    descent.plot(
        path_big[:2, 0],
        path_big[:2, 1],
        "s--",
        color="C3",
        markersize=5,
        label=f"lr 10: first step to ({path_big[1, 0]:.0f}, {path_big[1, 1]:.0f}), off the chart",
    )
    descent.plot(*path[0], "k*", markersize=12, label="start (−3, 4)")
    descent.set(
        title="gradient descent on f = x0² + x1²",
        xlabel="x0",
        ylabel="x1",
        aspect="equal",
        xlim=(-4.5, 4.5),
        ylim=(-4.5, 4.5),
    )
    descent.legend(fontsize=8, loc="lower right")
    return fig
