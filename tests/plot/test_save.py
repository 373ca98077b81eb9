"""numnet.plot.save_figure, and matplotlib as an optional extra (lazy import, no pyplot)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib.image

from numnet import plot
from numnet.train.history import History


def small_figure():
    history = History()
    for e in range(4):
        history.record_epoch({"loss": 1.0 / (e + 1), "val_loss": 1.2 / (e + 1)})
    return plot.training_curves(history)


def test_save_png_reads_back(tmp_path):
    path = plot.save_figure(small_figure(), tmp_path / "nested" / "deeper" / "loss.png")
    assert path == tmp_path / "nested" / "deeper" / "loss.png"
    assert path.stat().st_size > 1000
    image = matplotlib.image.imread(path)
    # 6.4 × 4.8 inches at the default 120 dpi
    assert image.shape[:2] == (576, 768)
    assert image.std() > 0.01  # not a blank picture


def test_save_svg_pdf_dpi_and_default_suffix(tmp_path):
    fig = small_figure()
    svg = plot.save_figure(fig, tmp_path / "loss.svg")
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert plot.save_figure(fig, tmp_path / "loss.pdf").read_bytes().startswith(b"%PDF")
    small = plot.save_figure(fig, tmp_path / "small.png", dpi=50)
    assert matplotlib.image.imread(small).shape[:2] == (240, 320)
    bare = plot.save_figure(fig, tmp_path / "noext")
    assert bare.suffix == ".png" and bare.exists()
    with pytest.raises(ValueError, match="png"):
        plot.save_figure(fig, tmp_path / "loss.txt")


def test_every_picture_saves(tmp_path):
    rng = np.random.default_rng(0)
    figures = {
        "fit": plot.fit_1d(np.arange(5), np.arange(5), np.arange(5) + 0.1),
        "boundary": plot.decision_boundary(
            lambda p: p[:, 0] > 0, rng.normal(size=(10, 2)), np.arange(10) % 2, resolution=20
        ),
        "confusion": plot.confusion_matrix(np.array([[3, 1], [2, 4]])),
        "images": plot.image_grid(rng.random((4, 16)), [0, 1, 2, 3], [0, 1, 2, 0], shape=(4, 4)),
        "histograms": plot.histograms({"a": rng.normal(size=100), "b": rng.normal(size=100)}),
        "paths": plot.optimizer_paths(
            lambda x, y: x**2 + y**2, {"gd": np.array([[1.0, 1.0], [0.5, 0.5]])}, bounds=(-1, 1, -1, 1)
        ),
    }
    for name, fig in figures.items():
        image = matplotlib.image.imread(plot.save_figure(fig, tmp_path / f"{name}.png"))
        assert image.ndim == 3 and image.std() > 0.01, name


def test_import_without_matplotlib_and_no_pyplot():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"  # makes `import matplotlib` fail
        "import numnet.plot\n"
        "assert not numnet.plot.is_available()\n"
        "try:\n"
        "    numnet.plot.training_curves({'loss': [1.0, 0.5]})\n"
        "except ImportError as exc:\n"
        "    assert 'pip install numnet[plot]' in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    # drawing never touches pyplot (no global figure state, no GUI backend)
    code = (
        "import sys\n"
        "from numnet import plot\n"
        "plot.training_curves({'loss': [1.0, 0.5]})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figures_show_in_notebooks_and_pickle():
    import pickle

    fig = small_figure()
    assert plot.is_available()
    png = fig._repr_png_()  # what IPython displays when pyplot's inline backend is not loaded
    assert png.startswith(b"\x89PNG")
    again = pickle.loads(pickle.dumps(fig))
    assert type(again).__name__ == "NumnetFigure" and again.axes[0].get_title() == "Loss"
