"""The command line on convolutional nets: ``numnet train --model simple-cnn`` and the commands on its file.

One SimpleConvNet is trained for one epoch on the 8×8 digits (1,257 training images, shaped (1, 8, 8));
summary, evaluate, predict and graph then run on its model.npz.
MLP-only flags and flat-feature datasets are refused.
"""

import json

import numpy as np
import pytest

import numnet
from numnet import models
from numnet.cli import main
from numnet.data import load_digits
from numnet.io import ModelFileError, check_model_metadata
from numnet.recipe import DEFAULTS, MODELS, check_settings, load_dataset

pytest.importorskip("sklearn", reason="the 8×8 digits ship with scikit-learn")

CNN = ["train", "--model", "simple-cnn", "--dataset", "digits", "--epochs", "1", "--quiet", "--no-progress"]
ADAM = ["--optimizer", "adam", "--lr", "0.01"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    """The folder of one epoch of simple-cnn on digits."""
    out = tmp_path_factory.mktemp("cnn") / "run"
    assert main([*CNN, *ADAM, "--out", str(out)]) == 0
    return out


def test_the_cnns_are_models_the_recipe_knows_and_mlp_stays_the_default():
    assert MODELS == ("mlp", "simple-cnn", "deep-cnn")
    assert DEFAULTS["model"] == "mlp"
    assert check_settings({})["model"] == "mlp"


def test_train_simple_cnn_saves_the_image_shape_and_learns(cnn_run):
    model, meta = numnet.io.load_with_metadata(cnn_run / "model.npz")
    assert meta["input_shape"] == [1, 8, 8] and meta["in_features"] == 64
    assert meta["settings"]["model"] == "simple-cnn"
    assert isinstance(model[0], numnet.nn.Conv2d) and model[0].weight.shape == (30, 1, 5, 5)
    summary = json.loads((cnn_run / "summary.json").read_text())
    # ten classes: chance is about 0.1; one epoch of Adam lr 0.01 on 13 batches gets well above it
    assert summary["results"]["test"]["accuracy"] > 0.25
    assert summary["parameters"] == model.num_parameters()


def test_summary_shows_the_conv_and_pool_output_shapes_and_parameter_counts(cnn_run, capsys):
    code, out, _ = run(capsys, "summary", cnn_run / "model.npz")
    assert code == 0
    rows = {line.split()[1]: line for line in out.splitlines() if line[:1].isdigit()}
    # 8×8 through a 5×5 conv (no padding) is 4×4, then 2×2 max-pool: 30·2·2 = 120 features
    assert "(N, 30, 4, 4)" in rows["Conv2d"] and rows["Conv2d"].split()[-1] == f"{30 * 25 + 30:,}"
    assert "(N, 30, 2, 2)" in rows["MaxPool2d"] and rows["MaxPool2d"].split()[-1] == "0"
    assert "(N, 120)" in rows["Flatten"]
    assert "input (N, 1, 8, 8)" in out and f"{780 + 120 * 100 + 100 + 100 * 10 + 10:,} parameters" in out


def test_evaluate_gives_the_accuracy_train_reported(cnn_run, capsys):
    code, out, _ = run(capsys, "evaluate", cnn_run / "model.npz")
    assert code == 0
    accuracy = json.loads((cnn_run / "summary.json").read_text())["results"]["test"]["accuracy"]
    assert f"accuracy {accuracy:.4f}" in out and "digits test (" in out


def test_predict_reshapes_flat_rows_and_takes_images(cnn_run, tmp_path, capsys):
    x = load_dataset("digits").test[0][:7]  # flat (7, 64) rows
    model = numnet.load(cnn_run / "model.npz")
    with numnet.no_grad():
        expected = model(numnet.Tensor(x.reshape(-1, 1, 8, 8))).data.argmax(axis=1)
    np.save(tmp_path / "flat.npy", x)
    np.save(tmp_path / "images.npy", x.reshape(-1, 1, 8, 8))
    header = ",".join(f"p{i}" for i in range(64))
    np.savetxt(tmp_path / "flat.csv", x, delimiter=",", header=header, comments="")
    for name in ("flat.npy", "images.npy", "flat.csv"):
        code, out, _ = run(capsys, "predict", cnn_run / "model.npz", tmp_path / name)
        assert code == 0, name
        assert [int(v) for v in out.split()] == expected.tolist(), name


def test_predict_refuses_rows_of_another_width_in_one_line(cnn_run, tmp_path, capsys):
    np.save(tmp_path / "narrow.npy", np.zeros((3, 10), dtype=np.float32))
    code, _, err = run(capsys, "predict", cnn_run / "model.npz", tmp_path / "narrow.npy")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "rows have 10 values" in err and "64 values per sample (images 1×8×8)" in err


def test_graph_runs_the_cnn_on_one_image(cnn_run, tmp_path, capsys):
    out = tmp_path / "cnn.dot"
    code, _, _ = run(capsys, "graph", cnn_run / "model.npz", "--out", out, "--grads")
    assert code == 0
    text = out.read_text()
    assert "input (1, 1, 8, 8)" in text
    for node in ("<B>Conv2d</B>", "<B>MaxPool2d</B>", "(1, 30, 4, 4)", "(1, 30, 2, 2)", "(30, 1, 5, 5)"):
        assert node in text, node


def test_deep_cnn_trains_on_digits(tmp_path, capsys):
    out = tmp_path / "deep"
    code, _, err = run(capsys, *CNN[:2], "deep-cnn", *CNN[3:], "--out", out)
    assert code == 0, err
    model, meta = numnet.io.load_with_metadata(out / "model.npz")
    assert meta["input_shape"] == [1, 8, 8]
    assert sum(isinstance(m, numnet.nn.Conv2d) for m in model.modules()) == 6


def test_an_npz_of_images_trains_a_cnn(tmp_path, capsys):
    x, y = load_digits()
    np.savez(tmp_path / "images.npz", X=x[:300].reshape(-1, 8, 8), y=y[:300])  # (N, H, W): one channel
    code, _, err = run(capsys, *CNN[:4], tmp_path / "images.npz", *CNN[5:], "--out", tmp_path / "r")
    assert code == 0, err
    assert numnet.io.load_with_metadata(tmp_path / "r" / "model.npz")[1]["input_shape"] == [1, 8, 8]


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--hidden", "100"], "--hidden 100"),
        (["--batchnorm"], "--batchnorm"),
        (["--dropout", "0.5", "--activation", "tanh"], "--activation tanh, --dropout 0.5"),
    ],
)
def test_mlp_only_flags_with_a_cnn_are_refused_in_one_line(tmp_path, capsys, flags, named):
    code, _, err = run(capsys, *CNN, *flags, "--out", tmp_path / "r")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert named in err and "--model mlp" in err
    assert not (tmp_path / "r").exists()


def test_flat_feature_datasets_with_a_cnn_are_refused_in_one_line(tmp_path, capsys):
    csv = tmp_path / "flat.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    for dataset in ("moons", csv):
        code, _, err = run(capsys, *CNN[:4], dataset, *CNN[5:], "--out", tmp_path / "r")
        assert code == 2 and len(err.strip().splitlines()) == 1, dataset
        assert "flat features, not images" in err and "--model mlp" in err and "mnist" in err


def test_an_mlp_run_saves_its_flat_input_shape(tmp_path, capsys):
    argv = ["train", "--dataset", "xor", "--hidden", "3", "--epochs", "1", "--quiet", "--no-progress"]
    code, _, _ = run(capsys, *argv, "--out", tmp_path / "r")
    assert code == 0
    meta = numnet.io.load_with_metadata(tmp_path / "r" / "model.npz")[1]
    assert meta["input_shape"] == [2] and meta["in_features"] == 2


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({"input_shape": "1,8,8"}, "list of 1 to 3 integers"),
        ({"input_shape": []}, "list of 1 to 3 integers"),
        ({"input_shape": [1, 1, 8, 8]}, "list of 1 to 3 integers"),
        ({"input_shape": [1, 0, 8]}, "list of 1 to 3 integers"),
        ({"input_shape": [1, True, 8]}, "list of 1 to 3 integers"),
        ({"input_shape": [1, 8.0, 8]}, "list of 1 to 3 integers"),
        ({"input_shape": [10_000, 10_000, 10]}, "1,000,000,000 values per sample"),
        ({"input_shape": [1, 8, 8], "in_features": 784}, "does not match in_features 784"),
    ],
)
def test_check_model_metadata_refuses_a_bad_input_shape(metadata, message):
    with pytest.raises(ModelFileError, match=message):
        check_model_metadata(metadata, None)


def test_check_model_metadata_accepts_an_input_shape():
    metadata = {"input_shape": [1, 8, 8], "in_features": 64}
    assert check_model_metadata(metadata, None)["input_shape"] == [1, 8, 8]
    assert check_model_metadata({"input_shape": [784]}, None)["input_shape"] == [784]


def test_a_model_file_with_a_bad_input_shape_is_refused_by_the_commands(tmp_path, capsys):
    model = models.build("simple-cnn", (1, 8, 8), 10)
    numnet.save(model, tmp_path / "bad.npz", metadata={"input_shape": [1, -8, 8]})
    numnet.save(model, tmp_path / "bare.npz")  # no metadata: a convolution does not fix the image size
    for name, message in (("bad.npz", "input_shape must be a list"), ("bare.npz", "metadata={'input_shape'")):
        code, _, err = run(capsys, "summary", tmp_path / name)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, name
