"""gender — Victor Zhou's "neural network from scratch", rebuilt from numnet's layers.

A neuron takes a weighted sum of its inputs, adds a bias and squashes the result with the sigmoid
σ(z) = 1 / (1 + e⁻ᶻ). The tutorial first evaluates one neuron (w = [0, 1], b = 4 on x = [2, 3]), then a 2-2-1
network of such neurons, then the mean squared error of a network that always answers 0. Finally it trains
the network, by per-sample stochastic gradient descent, to tell women (1) from men (0) by weight and height
(shifted by 135 lb and 66 in), and asks it about two new people, Emily and Frank.

The first three results involve no randomness, so numnet must reproduce them to the last digit (float64).
The trained network's answers depend on the random initial weights; any good run puts Emily near 1 and
Frank near 0.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, nn, optim
from numnet.demos.common import Report, output_folder, setting
from numnet.plot import new_figure

NAME = "gender"
TITLE = "Victor Zhou's neuron and 2-2-1 sigmoid network"

# The tutorial's published results.
NEURON_OUTPUT = 0.9990889488055994
NETWORK_OUTPUT = 0.7216325609518421
MSE_OF_ZEROS = 0.5
EMILY, FRANK = (-7.0, -3.0), (20.0, 2.0)  # (weight − 135 lb, height − 66 in)
EMILY_PUBLISHED, FRANK_PUBLISHED = 0.951, 0.039


@dataclass
class Settings:
    seed: int = setting(0, "seed of the N(0, 1) initial weights and biases")
    lr: float = setting(0.1, "learning rate of per-sample SGD")
    epochs: int = setting(1000, "passes over the four people")
    print_every: int = setting(10, "record (and print) the loss every this many epochs", cosmetic=True)
    seeds: int = setting(
        10,
        "also train from seeds 0 … N−1 and report the range of Emily's and Frank's "
        "answers (0: only the one run)",
        cosmetic=True,
    )


QUICK: dict[str, Any] = {"epochs": 300, "seeds": 3}


def neuron_output() -> float:
    """One sigmoid neuron, w = [0, 1], b = 4, on x = [2, 3]: σ(0·2 + 1·3 + 4) = σ(7)."""
    neuron = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    neuron.load_state_dict({"0.weight": [[0.0, 1.0]], "0.bias": [4.0]})
    return neuron(numnet.tensor([[2.0, 3.0]])).item()


def network() -> nn.Sequential:
    """The 2-2-1 sigmoid network: two hidden neurons h1, h2 and an output neuron o1."""
    return nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())


def network_output() -> float:
    """The 2-2-1 network whose every neuron has w = [0, 1], b = 0, on x = [2, 3]:
    h1 = h2 = σ(3) = 0.9526, o1 = σ(0·h1 + 1·h2) = σ(0.9526)."""
    net = network()
    net.load_state_dict(
        {
            "0.weight": [[0.0, 1.0], [0.0, 1.0]],
            "0.bias": [0.0, 0.0],
            "2.weight": [[0.0, 1.0]],
            "2.bias": [0.0],
        }
    )
    return net(numnet.tensor([[2.0, 3.0]])).item()


def mse_of_zeros() -> float:
    """MSE of y_true = [1, 0, 0, 1] against a network that always answers 0: (1 + 0 + 0 + 1) / 4."""
    return nn.MSELoss()(numnet.tensor([0.0, 0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0])).item()


def train(settings: Settings, report: Report | None) -> tuple[nn.Sequential, list[tuple[int, float]]]:
    """Train the 2-2-1 network on Alice, Bob, Charlie and Diana, one person per step, as the tutorial does."""
    people = data.load_gender()
    X = people.data.astype(np.float64)
    y = people.target.astype(np.float64).reshape(-1, 1)

    numnet.manual_seed(settings.seed)
    net = network()
    for param in net.parameters():  # the tutorial draws every weight and bias from N(0, 1)
        nn.init.normal_(param, 0.0, 1.0)
    loss_fn = nn.MSELoss()  # on one person: (y − ŷ)², so dL/dŷ = −2(y − ŷ) as in the tutorial
    optimizer = optim.SGD(net.parameters(), lr=settings.lr)

    curve: list[tuple[int, float]] = []
    line: list[str] = []
    for epoch in range(settings.epochs):
        for x_i, y_i in zip(X, y, strict=True):
            loss = loss_fn(net(numnet.tensor(x_i[None, :])), y_i[None, :])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % settings.print_every == 0:
            with numnet.no_grad():
                total = loss_fn(net(numnet.tensor(X)), y).item()
            curve.append((epoch, total))
            line.append(f"epoch {epoch:4d}: {total:.3f}")
            if len(line) == 5 and report is not None:
                report.say("   ".join(line))
                line = []
    if line and report is not None:
        report.say("   ".join(line))
    return net, curve


def over_seeds(settings: Settings) -> list[tuple[float, float, float]]:
    """(final MSE, Emily's answer, Frank's answer) for seeds 0 … ``settings.seeds`` − 1."""
    results = []
    with numnet.default_dtype(np.float64):
        for seed in range(settings.seeds):
            net, curve = train(dataclasses.replace(settings, seed=seed), None)
            with numnet.no_grad():
                emily, frank = net(numnet.tensor([EMILY, FRANK])).data[:, 0]
            results.append((curve[-1][1], float(emily), float(frank)))
    return results


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])

    with numnet.default_dtype(np.float64):  # the tutorial computes in float64; so do we, to the last digit
        neuron, net_out, mse = neuron_output(), network_output(), mse_of_zeros()
        report.compare("neuron σ(w·x + b), w=[0,1], b=4, x=[2,3]", neuron, NEURON_OUTPUT, exact=True)
        report.compare("2-2-1 network, all w=[0,1], b=0, x=[2,3]", net_out, NETWORK_OUTPUT, exact=True)
        report.compare("MSE([1,0,0,1], [0,0,0,0])", mse, MSE_OF_ZEROS, exact=True)

        report.say(
            f"training on Alice, Bob, Charlie, Diana: per-sample SGD, lr {settings.lr}, "
            f"{settings.epochs} epochs (MSE over the four people)"
        )
        with report.timer("training"):
            net, curve = train(settings, report)
        with numnet.no_grad():
            emily, frank = net(numnet.tensor([EMILY, FRANK])).data[:, 0]

    report.compare("loss after training (MSE)", curve[-1][1], "falls towards 0")
    report.compare("Emily (−7, −3): P(female)", float(emily), f"{EMILY_PUBLISHED} (F)")
    report.compare("Frank (20, 2): P(female)", float(frank), f"{FRANK_PUBLISHED} (M)")
    report.compare("Emily → F, Frank → M", bool(emily > 0.5 and frank < 0.5), True)
    seed_results = []
    if settings.seeds > 0:
        with report.timer(f"{settings.seeds} seeds"):
            seed_results = over_seeds(settings)
        n = len(seed_results)
        losses, emilys, franks = (np.array(column) for column in zip(*seed_results, strict=True))
        right = int(np.sum((emilys > 0.5) & (franks < 0.5)))
        report.compare(
            f"seeds 0–{n - 1}: Emily's P(female) min / median / max",
            f"{emilys.min():.3f} / {np.median(emilys):.3f} / {emilys.max():.3f}",
            EMILY_PUBLISHED,
        )
        report.compare(
            f"seeds 0–{n - 1}: Frank's P(female) min / median / max",
            f"{franks.min():.3f} / {np.median(franks):.3f} / {franks.max():.3f}",
            FRANK_PUBLISHED,
        )
        report.compare(
            f"seeds 0–{n - 1}: final MSE min / median / max",
            f"{losses.min():.3g} / {np.median(losses):.3g} / {losses.max():.3g}",
            "",
        )
        report.compare(f"seeds 0–{n - 1}: Emily → F and Frank → M", f"{right} of {n}", "yes (one run)")
        report.section(
            "Over seeds",
            f"From {n} random starts (seeds 0–{n - 1}) the trained network calls Emily female and Frank male "
            f"{right} times; Emily's answer ranges {emilys.min():.3f}–{emilys.max():.3f} and Frank's "
            f"{franks.min():.3f}–{franks.max():.3f}. The tutorial's 0.951 and 0.039 are one such start.",
        )
    report.differs(
        "The trained network's outputs depend on its random N(0, 1) start: numnet draws from its own "
        f"seeded generator (seed {settings.seed}), not NumPy's global one, so Emily's and Frank's values "
        "are close to, not equal to, the tutorial's."
    )
    report.section(
        "Why 0.9990889488055994",
        "w·x + b = 0·2 + 1·3 + 4 = 7 and σ(7) = 1 / (1 + e⁻⁷). In the 2-2-1 network both hidden neurons "
        "compute σ(3) = 0.9526 and the output neuron σ(0·0.9526 + 1·0.9526) = σ(0.9526) = 0.7216. numnet's "
        "Linear + Sigmoid layers in float64 give both numbers bit for bit.",
    )

    report.figure(_loss_figure(curve), "loss.png", "training loss (MSE over the four people)")
    report.figure(
        _people_figure(net, float(emily), float(frank)),
        "people.png",
        "the trained network's P(female) over (weight − 135, height − 66)",
    )
    report.finish()
    return {
        "neuron": neuron,
        "network": net_out,
        "mse": mse,
        "loss_curve": curve,
        "final_loss": curve[-1][1],
        "emily": float(emily),
        "frank": float(frank),
        "seed_results": seed_results,
        "headline": f"σ(7) = {neuron!r}; network {net_out!r}; Emily {emily:.3f}, Frank {frank:.3f}",
    }


# ---------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------


def _loss_figure(curve: list[tuple[int, float]]) -> Any:
    fig, axes = new_figure(figsize=(6.4, 4.0))
    ax = axes[0, 0]
    epochs, losses = zip(*curve, strict=True)
    ax.plot(epochs, losses, marker=".", markersize=3)
    ax.set(xlabel="epoch", ylabel="MSE loss (4 people)", title="gender: training loss")
    ax.grid(alpha=0.3)
    return fig


def _people_figure(net: nn.Module, emily: float, frank: float) -> Any:
    people = data.load_gender()
    fig, axes = new_figure(figsize=(6.4, 5.0))
    ax = axes[0, 0]
    xs, ys = np.meshgrid(np.linspace(-25, 30, 221), np.linspace(-10, 10, 161))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
    with numnet.no_grad():
        p = net(numnet.tensor(grid.astype(np.float32))).data.reshape(xs.shape)
    image = ax.contourf(xs, ys, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax.contour(xs, ys, p, levels=[0.5], colors="k", linewidths=1.2)
    fig.colorbar(image, ax=ax, label="P(female)")
    for (wx, hx), name, label in zip(people.data, people.names, people.target, strict=True):
        ax.scatter(wx, hx, c="crimson" if label else "navy", edgecolors="white", s=70, zorder=3)
        ax.annotate(name, (wx, hx), xytext=(5, 5), textcoords="offset points")
    for (wx, hx), name, value in ((EMILY, "Emily", emily), (FRANK, "Frank", frank)):
        ax.scatter(wx, hx, marker="*", c="gold", edgecolors="black", s=180, zorder=3)
        ax.annotate(f"{name} {value:.3f}", (wx, hx), xytext=(6, -12), textcoords="offset points")
    ax.set(
        xlabel="weight − 135 (lb)",
        ylabel="height − 66 (in)",
        title="gender: P(female) of the trained 2-2-1 net (black line: 0.5)",
    )
    return fig
