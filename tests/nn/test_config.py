"""nn.config: architectures as JSON (no pickle), rebuilt exactly, plus the registration hook."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.nn import config


def every_layer_model() -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(6, 8),
        nn.BatchNorm1d(8, eps=1e-3, momentum=None),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Sequential(OrderedDict([("fc", nn.Linear(8, 5, bias=False)), ("act", nn.Tanh())])),
        nn.Linear(5, 4),
        nn.Sigmoid(),
        nn.ReLU(),
        nn.Identity(),
        nn.Step(),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1),
    )


def test_config_is_plain_json_with_pytorch_argument_names():
    cfg = config.to_config(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False)))
    assert cfg == {
        "type": "Sequential",
        "children": [
            {"type": "Linear", "args": {"in_features": 2, "out_features": 3, "bias": True}},
            {"type": "ReLU", "args": {}},
            {"type": "Linear", "args": {"in_features": 3, "out_features": 1, "bias": False}},
        ],
        "dtype": "float32",
    }
    assert json.loads(json.dumps(cfg)) == cfg


def test_round_trip_gives_identical_outputs():
    model = every_layer_model()
    model(numnet.randn(8, 2, 3))  # one training step so that the running statistics are not the defaults
    model.eval()
    cfg = json.loads(json.dumps(config.to_config(model)))
    rebuilt = config.from_config(cfg)
    assert repr(rebuilt) == repr(model)
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.eval()
    x = numnet.randn(4, 2, 3)
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
    assert list(rebuilt.state_dict()) == list(model.state_dict())


def test_module_list_and_losses_round_trip_and_dtype_is_kept():
    with numnet.default_dtype(np.float64):
        holder = nn.ModuleList(
            [
                nn.Linear(2, 2),
                nn.CrossEntropyLoss(label_smoothing=0.1),
                nn.MSELoss("sum"),
                nn.BCEWithLogitsLoss(pos_weight=[2.0, 0.5]),
            ]
        )
    cfg = config.to_config(holder)
    assert cfg["dtype"] == "float64"
    rebuilt = config.from_config(json.loads(json.dumps(cfg)))
    assert isinstance(rebuilt, nn.ModuleList) and rebuilt[0].weight.dtype == np.float64
    assert rebuilt[1].label_smoothing == 0.1 and rebuilt[2].reduction == "sum"
    np.testing.assert_array_equal(rebuilt[3].pos_weight, [2.0, 0.5])
    assert rebuilt[3].pos_weight.dtype == np.float64


class Custom(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return self.fc(x) + x


def test_unknown_module_is_a_clear_type_error():
    with pytest.raises(TypeError) as info:
        config.to_config(nn.Sequential(nn.Linear(2, 2), Custom(2)))
    message = str(info.value)
    assert "Custom" in message and "only built-in layers and containers" in message
    assert "state_dict()" in message and "register" in message


def test_register_hook():
    config.register(Custom, lambda m: {"width": m.width})
    try:
        model = nn.Sequential(Custom(3), nn.ReLU())
        rebuilt = config.from_config(json.loads(json.dumps(config.to_config(model))))
        rebuilt.load_state_dict(model.state_dict())
        x = numnet.randn(2, 3)
        np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
        with pytest.raises(ValueError, match=r"already taken"):
            config.register(type("Custom", (nn.Module,), {}), lambda m: {})
    finally:
        config._LAYERS.pop("Custom", None)


def test_bad_configs_are_clear_value_errors():
    with pytest.raises(ValueError, match=r"unknown layer type 'Conv3d'.*known types are"):
        config.from_config({"type": "Sequential", "children": [{"type": "Conv3d", "args": {}}]})
    with pytest.raises(ValueError, match=r"cannot build Linear at config.children\[0\]"):
        config.from_config({"type": "Sequential", "children": [{"type": "Linear", "args": {"width": 3}}]})
    with pytest.raises(ValueError, match=r"must be a dict with a 'type'"):
        config.from_config({"children": []})
