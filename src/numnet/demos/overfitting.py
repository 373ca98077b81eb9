"""overfitting — a big network on 300 images, and two cures, "Deep Learning from Scratch" §6.4.

Give a deep network (6 hidden layers of 100 ReLU units) only 300 MNIST training images and 200 epochs of SGD
(learning rate 0.01, batch 100), and it memorises them: training accuracy reaches 100% while test accuracy
stalls far below. That gap is overfitting. Two remedies:

- **Weight decay** adds ½·λ·Σw² to the loss (λ = 0.1 in the book), i.e. λ·w to every weight's gradient, which
  pulls the weights towards 0 and keeps the function simple. The biases are not decayed.
- **Dropout** zeroes each hidden unit at random during training (with probability 0.15 here, as in the
  book's experiment), so the network cannot rely on any single unit; at test time every unit is used.

numnet's Dropout is *inverted* dropout: in training the surviving units are scaled by 1/(1 − p), so the
expected activation is the same in training and testing, and the test-time pass needs no scaling. The book's
Dropout instead multiplies by (1 − p) at test time; the two give the same network in expectation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import numnet
from numnet import data, nn, optim, train
from numnet.demos.common import Report, image_data, output_folder, setting
from numnet.models import mlp
from numnet.plot import new_figure

NAME = "overfitting"
TITLE = "300 MNIST images: overfitting, weight decay and dropout"


@dataclass
class Settings:
    train_size: int = setting(300, "training images")
    test_size: int = setting(10_000, "test images the accuracy is measured on")
    epochs: int = setting(200, "epochs of the runs without and with weight decay (the book's 200)")
    dropout_epochs: int = setting(
        300,
        "epochs of the dropout run (the book's dropout experiment trains 300: dropout learns more slowly)",
    )
    batch_size: int = setting(100, "images per SGD step")
    lr: float = setting(0.01, "SGD learning rate")
    hidden: tuple[int, ...] = setting((100,) * 6, "hidden ReLU layers")
    weight_decay: float = setting(0.1, "λ of the weight-decay run")
    dropout: float = setting(0.15, "dropout probability of the dropout run")
    seed: int = setting(0, "seed of the weights, batch order and dropout masks")
    seeds: int = setting(
        3,
        "also train every run from seeds 0 … N−1 (final accuracies only) and report "
        "the ranges (0 or 1: only the one run)",
        cosmetic=True,
    )
    dataset: str = setting("mnist", "mnist, or digits (scikit-learn's 8×8 digits) where MNIST is missing")


QUICK: dict[str, Any] = {"epochs": 50, "dropout_epochs": 75, "test_size": 2000, "seeds": 2}


def make_model(s: Settings, inputs: int, dropout: float = 0.0) -> nn.Sequential:
    """(Linear → ReLU [→ Dropout]) per hidden layer, then Linear(…, 10); He-normal weights, zero biases."""
    numnet.manual_seed(s.seed)
    return mlp(inputs, s.hidden, 10, "relu", dropout=dropout, init="he")


def make_optimizer(s: Settings, model: nn.Module, weight_decay: float) -> optim.SGD:
    """SGD; weight decay (λ·w added to the gradient) on the weights only, as the book's ½·λ·Σw²."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return optim.SGD([{"params": weights, "weight_decay": weight_decay}, {"params": biases}], lr=s.lr)


def train_run(
    s: Settings, model: nn.Module, optimizer: optim.SGD, splits: tuple, epochs: int, every_epoch: bool = True
) -> dict[str, list[float]]:
    """Train with ``numnet.train.fit``; the train and test accuracy (evaluation mode) before and after each
    epoch (``every_epoch``), or only at the end."""
    (X, y), (X_test, y_test) = splits
    loader = data.DataLoader(data.TensorDataset(X, y), batch_size=s.batch_size, shuffle=True, seed=s.seed)
    train_all = data.DataLoader(data.TensorDataset(X, y), batch_size=1000)
    test_all = data.DataLoader(data.TensorDataset(X_test, y_test), batch_size=2000)
    curves: dict[str, list[float]] = {"train": [], "test": []}

    def measure(*_: Any) -> None:  # evaluate() switches to eval mode: no dropout
        curves["train"].append(train.evaluate(model, train_all, metrics=["accuracy"])["accuracy"])
        curves["test"].append(train.evaluate(model, test_all, metrics=["accuracy"])["accuracy"])

    callbacks = []
    if every_epoch:
        measure()
        callbacks.append(train.LambdaCallback(on_epoch_end=measure))
    train.fit(
        model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, callbacks=callbacks, progress=False
    )
    if not every_epoch:
        measure()
    return curves


def run(settings: Settings | None = None, out: str | Path | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    out = output_folder(NAME, out)
    report = Report(NAME, TITLE, out, settings, intro=__doc__.split("\n\n", 1)[1])
    (X, y), (X_test, y_test) = image_data(settings.dataset)
    splits = (
        (X[: settings.train_size], y[: settings.train_size]),
        (X_test[: settings.test_size], y_test[: settings.test_size]),
    )
    inputs = X.shape[1]

    runs = {  # label: (weight decay, dropout, epochs, what the book shows for train accuracy, for the gap)
        "no regularisation": (0.0, 0.0, settings.epochs, "→ 1.0", "large"),
        f"weight decay λ = {settings.weight_decay:g}": (
            settings.weight_decay,
            0.0,
            settings.epochs,
            "below 1.0",
            "smaller",
        ),
        f"dropout p = {settings.dropout:g}": (
            0.0,
            settings.dropout,
            settings.dropout_epochs,
            "below 1.0",
            "smaller",
        ),
    }
    results: dict[str, dict[str, list[float]]] = {}
    for name, (weight_decay, dropout, epochs, _, _) in runs.items():
        model = make_model(settings, inputs, dropout)
        with report.timer(name):
            results[name] = train_run(
                settings, model, make_optimizer(settings, model, weight_decay), splits, epochs
            )
        curve = results[name]
        report.say(
            f"{name:<22} {epochs} epochs: train {curve['train'][-1]:.3f}  test {curve['test'][-1]:.3f}"
            f"  gap {curve['train'][-1] - curve['test'][-1]:.3f}"
        )

    spread: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    if settings.seeds > 1:
        report.say(f"the three runs again from seeds 0 … {settings.seeds - 1} (final accuracies only) …")
        with report.timer(f"{settings.seeds} seeds"):
            for seed in range(settings.seeds):
                seeded = dataclasses.replace(settings, seed=seed)
                for name, (weight_decay, dropout, epochs, _, _) in runs.items():
                    if seed == settings.seed:
                        curve = results[name]
                    else:
                        model = make_model(seeded, inputs, dropout)
                        curve = train_run(
                            seeded,
                            model,
                            make_optimizer(seeded, model, weight_decay),
                            splits,
                            epochs,
                            every_epoch=False,
                        )
                    spread[name].append((curve["train"][-1], curve["test"][-1]))

    plain_test = results["no regularisation"]["test"][-1]
    for name, curve in results.items():
        train_note, gap_note = runs[name][3:]
        report.compare(f"{name}: train accuracy", curve["train"][-1], train_note)
        report.compare(f"{name}: test accuracy", curve["test"][-1], "")
        report.compare(f"{name}: train − test", curve["train"][-1] - curve["test"][-1], gap_note)
        if name != "no regularisation":
            report.compare(f"{name}: test accuracy − no regularisation's", curve["test"][-1] - plain_test, "")
    if spread["no regularisation"]:
        n = settings.seeds
        for name, values in spread.items():
            tests = np.array([t for _, t in values])
            gaps = np.array([a - t for a, t in values])
            report.compare(
                f"seeds 0–{n - 1}, {name}: test accuracy min / max",
                f"{tests.min():.3f} / {tests.max():.3f}",
                "",
            )
            report.compare(
                f"seeds 0–{n - 1}, {name}: train − test min / max",
                f"{gaps.min():.3f} / {gaps.max():.3f}",
                runs[name][4],
            )

    def verdict(name: str) -> str:
        gain = results[name]["test"][-1] - plain_test
        gap_plain = results["no regularisation"]["train"][-1] - plain_test
        gap = results[name]["train"][-1] - results[name]["test"][-1]
        seeds_text = ""
        if spread[name]:
            gains = [t - p for (_, t), (_, p) in zip(spread[name], spread["no regularisation"], strict=True)]
            better = sum(g > 0 for g in gains)
            seeds_text = f" (over seeds 0–{settings.seeds - 1}: higher in {better} of {len(gains)})"
        return (
            f"{name} shrinks the train − test gap from {gap_plain:.3f} to {gap:.3f}, and its test accuracy "
            + (f"improves by {gain:.3f}" if gain > 0 else f"does not improve ({gain:+.3f})")
            + seeds_text
        )

    names = list(runs)[1:]
    plain_train = results["no regularisation"]["train"][-1]
    by_train = [name for name in names if results[name]["train"][-1] < plain_train]
    lowered = (
        f" {' and '.join(by_train)} close{'s' if len(by_train) == 1 else ''} the gap partly by lowering the "
        "training accuracy: with 300 images a cure for overfitting is not a cure for too little data."
        if by_train
        else ""
    )
    dropout_name = names[-1]
    dropout_test = results[dropout_name]["test"]
    early = ""
    if settings.dropout_epochs > settings.epochs and len(dropout_test) > settings.epochs:
        early = (
            f" The dropout run trains {settings.dropout_epochs} epochs, the others {settings.epochs}: at "
            f"epoch {settings.epochs} its test accuracy was {dropout_test[settings.epochs]:.3f}, at epoch "
            f"{settings.dropout_epochs} {dropout_test[-1]:.3f}."
        )
    report.section(
        "What this run shows",
        "; ".join(verdict(name) for name in names) + "." + lowered + early,
    )
    report.differs(
        "Dropout: numnet uses inverted dropout (survivors scaled by 1/(1 − p) during training), so "
        "evaluation needs no scaling; the book scales by (1 − p) at test time. Same network in expectation."
    )
    report.differs(
        "Weight decay: SGD's weight_decay adds λ·w to the gradient of each weight (biases in a group "
        "without decay), which is the gradient of the book's ½·λ·Σw²; the printed loss does not include "
        "the penalty."
    )
    report.differs(
        "Batches come from a DataLoader that shuffles each epoch; the book samples with replacement."
    )
    report.differs(
        f"Settings that change the outcome: dropout p = {settings.dropout:g} (the book's figure of this "
        "experiment; the Dropout layer in the tutorial notes defaults to 0.5), "
        f"{settings.dropout_epochs} epochs for the dropout run and {settings.epochs} for the others, because "
        "dropout learns more slowly (see 'What this run shows' for its accuracy at both epoch counts)."
    )
    report.figure(_figure(results), "overfitting.png", "train and test accuracy per epoch for the three runs")
    report.finish()
    plain = results["no regularisation"]
    return {
        "curves": results,
        "final": {name: (c["train"][-1], c["test"][-1]) for name, c in results.items()},
        "headline": f"no regularisation: train {plain['train'][-1]:.3f}, test {plain['test'][-1]:.3f}; "
        + "; ".join(
            f"{name}: gap {c['train'][-1] - c['test'][-1]:.3f}" for name, c in list(results.items())[1:]
        ),
    }


def _figure(results: dict[str, dict[str, list[float]]]) -> Any:
    fig, axes = new_figure(1, len(results), figsize=(4.2 * len(results), 3.9), sharey=True)
    axes = axes[0]
    for ax, (name, curve) in zip(axes, results.items(), strict=True):
        epochs = np.arange(len(curve["train"]))
        ax.plot(epochs, curve["train"], label="train")
        ax.plot(epochs, curve["test"], linestyle="--", label="test")
        ax.fill_between(epochs, curve["test"], curve["train"], color="grey", alpha=0.15, label="gap")
        ax.set(
            title=name,
            xlabel="epoch",
            ylim=(0, 1.02),
            xlim=(0, max(len(c["train"]) for c in results.values()) - 1),
        )
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    fig.suptitle("Overfitting on 300 images: train vs test accuracy")
    return fig
