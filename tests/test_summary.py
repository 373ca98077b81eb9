"""numnet.summary: the layer table (output shapes, parameter counts) and its escaping of names."""

from collections import OrderedDict

import numpy as np

import numnet
from numnet import nn
from numnet.summary import layer_rows, printable, summary_table


def test_rows_give_each_layers_output_shape_and_parameter_count():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    rows = layer_rows(model, (4,))
    assert rows == [
        ("0", "Linear", (-1, 8), 4 * 8 + 8),
        ("1", "ReLU", (-1, 8), 0),
        ("2", "Linear", (-1, 3), 27),
    ]


def test_the_table_totals_parameters_and_memory():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    text = summary_table(model, (4,))
    assert "(N, 8)" in text and "(N, 3)" in text
    assert "input (N, 4); 67 parameters (0.3 KiB)" in text  # 67 float32 = 268 bytes


def test_the_summary_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    before = [p.data.copy() for p in model.parameters()]
    summary_table(model, (2,))
    assert model.training
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters(), strict=True))


def test_control_characters_in_layer_names_are_escaped():
    assert printable("ok") == "ok"
    assert printable("a\x1b[2J\nb\u200b") == "a\\x1b[2J\\nb\\u200b"
    model = nn.Sequential(OrderedDict([("evil\x1b[31m\rname", nn.Linear(2, 2))]))
    text = summary_table(model, (2,))
    assert "\x1b" not in text and "\r" not in text
    assert "evil\\x1b[31m\\rname" in text


def test_summary_command_escapes_names_from_a_model_file(tmp_path, capsys):
    from numnet.cli import main

    model = nn.Sequential(OrderedDict([("hidden\x07\x1b]0;title\x07", nn.Linear(3, 2))]))
    numnet.save(model, tmp_path / "m.npz", metadata={"in_features": 3})
    assert main(["summary", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "\x07" not in out and "\x1b" not in out and "hidden\\x07\\x1b]0;title\\x07" in out
