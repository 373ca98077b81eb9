"""Module and Parameter behaviour: registration, traversal, state dicts, modes, dtype, repr."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import numnet
from numnet import nn


class Block(nn.Module):
    """A custom module with a parameter, a buffer, a child and a ModuleList."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3, dtype=np.float32))
        self.fc = nn.Linear(2, 3)
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.layers = nn.ModuleList([nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1)])
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        h = self.bn(self.fc(x) * self.scale)
        for layer in self.layers:
            h = layer(h)
        return h


# --- Parameter -------------------------------------------------------------------------------------------


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, numnet.Tensor)
    assert p.requires_grad and p.is_leaf
    assert p.dtype == np.float32  # Python floats → default dtype


def test_parameter_dtype_rules(float64):
    assert nn.Parameter(3).dtype == np.float64  # number → default dtype (float64 here)
    assert nn.Parameter(np.arange(3)).dtype == np.float64  # integer array → floating
    a32 = np.ones(2, dtype=np.float32)
    p = nn.Parameter(a32)
    assert p.dtype == np.float32 and p.data is a32  # a float array keeps its dtype and is shared
    assert not nn.Parameter(a32, requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter("abc")


def test_parameter_works_in_ops_and_gets_grads():
    p = nn.Parameter(np.array([1.0, -2.0], dtype=np.float32))
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad, [2.0, -4.0])
    assert "Parameter containing" in repr(p)


# --- registration and traversal ----------------------------------------------------------------------------


def test_registration_order_and_names():
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == [
        "scale",
        "fc.weight",
        "fc.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "bn.weight",
        "bn.bias",
    ]
    assert [name for name, _ in block.named_children()] == ["fc", "layers", "bn"]
    assert list(block.children()) == [block.fc, block.layers, block.bn]
    assert [name for name, _ in block.named_modules()] == [
        "",
        "fc",
        "layers",
        "layers.0",
        "layers.1",
        "layers.2",
        "bn",
    ]
    assert len(list(block.modules())) == 7
    assert [n for n, _ in block.named_buffers()] == [
        "steps",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert [id(p) for p in block.parameters()] == [id(p) for _, p in block.named_parameters()]
    assert [n for n, _ in block.named_parameters(recurse=False)] == ["scale"]


def test_num_parameters_counts_shared_once_and_trainable_only():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert net.num_parameters() == 2 * 3 + 3 + 3 + 1
    shared = nn.Linear(3, 3)
    tied = nn.Sequential(shared, shared)
    assert tied.num_parameters() == 12
    assert len(list(tied.parameters())) == 2
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]  # as PyTorch
    net[0].requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 4


def test_reassigning_keeps_order_and_kind_changes_unregister():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.bias = None  # allowed: a declared, absent parameter
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match=r"as parameter 'weight'.*Parameter or None"):
        layer.weight = numnet.zeros(2, 2)  # a plain tensor would silently stop being trained
    m = nn.Module()
    m.thing = nn.Parameter([1.0])
    m.thing = nn.ReLU()  # now a module, no longer a parameter
    assert list(m.parameters()) == [] and list(m.children()) == [m.thing]
    del m.thing
    assert list(m.children()) == []


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_buffers():
    m = nn.Module()
    m.register_buffer("count", np.zeros(2))
    m.register_buffer("cache", np.ones(2), persistent=False)
    assert list(m.state_dict()) == ["count"]
    m.count = np.full(2, 5.0)
    assert m._buffers["count"] is m.count
    with pytest.raises(TypeError, match="buffer 'count'"):
        m.count = [1, 2]
    with pytest.raises(TypeError, match=r"numpy.ndarray or None"):
        m.register_buffer("bad", [1.0])
    with pytest.raises(KeyError, match=r"without '\.'"):
        m.register_buffer("a.b", np.zeros(1))


def test_base_forward_and_module_list_forward_raise():
    with pytest.raises(NotImplementedError, match="define forward"):
        nn.Module()(1)
    with pytest.raises(NotImplementedError, match="iterate over it"):
        nn.ModuleList([nn.ReLU()])(1)


def test_apply_visits_children_first():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


# --- containers --------------------------------------------------------------------------------------------


def test_sequential_indexing_slicing_and_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    net = nn.Sequential(a, b)
    net.append(c)
    assert len(net) == 3 and net[0] is a and net[-1] is c and list(net) == [a, b, c]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    x = numnet.randn(4, 2)
    np.testing.assert_array_equal(net(x).data, c(b(a(x))).data)
    with pytest.raises(IndexError, match="out of range for 3"):
        net[3]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.Linear(2, 2), numnet.relu)


def test_sequential_from_ordered_dict_names_its_children():
    net = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert list(net.state_dict()) == ["fc.weight", "fc.bias"]
    assert net.fc is net[0]


def test_module_list_operations():
    layers = nn.ModuleList([nn.Linear(1, 1)])
    layers.append(nn.ReLU()).extend([nn.Tanh()])
    layers.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Sigmoid", "Linear", "ReLU", "Tanh"]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    layers[2] = nn.Identity()
    assert isinstance(layers[2], nn.Identity)
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    del layers[0]
    assert [type(m).__name__ for m in layers] == ["Linear", "Identity", "Tanh"]
    assert list(layers.state_dict()) == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="not a Module"):
        layers.append(3)


# --- modes and gradients -----------------------------------------------------------------------------------


def test_train_eval_propagates_to_every_descendant():
    block = Block()
    assert all(m.training for m in block.modules())
    assert block.eval() is block
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())
    block.layers.train(False)
    assert block.training and not block.layers[0].training
    with pytest.raises(TypeError, match="bool"):
        block.train("no")


def test_zero_grad():
    net = nn.Sequential(nn.Linear(2, 2))
    net(numnet.randn(3, 2)).sum().backward()
    grad = net[0].weight.grad
    net.zero_grad(set_to_none=False)
    assert net[0].weight.grad is grad and not grad.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# --- state dict --------------------------------------------------------------------------------------------


def test_state_dict_names_copies_and_round_trip():
    block = Block()
    sd = block.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == [
        "scale",
        "steps",
        "fc.weight",
        "fc.bias",
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert sd["bn.num_batches_tracked"].dtype == np.int64
    sd["fc.weight"][...] = 7  # a copy: the model is untouched
    assert not (block.fc.weight.data == 7).any()

    other = Block()
    weight_array = other.fc.weight.data
    result = other.load_state_dict(block.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert other.fc.weight.data is weight_array  # copied in place
    for (name, a), (_, b) in zip(block.state_dict().items(), other.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = numnet.randn(5, 2)
    np.testing.assert_array_equal(block(x).data, other(x).data)


def test_load_state_dict_casts_to_parameter_dtype_and_accepts_tensors():
    layer = nn.Linear(2, 2)
    sd = {"weight": numnet.tensor(np.ones((2, 2))), "bias": [1, 2]}  # float64 tensor and an int list
    layer.load_state_dict(sd)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, [1, 2])


def test_load_state_dict_missing_and_unexpected_keys():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = net.state_dict()
    del sd["1.running_var"]
    sd["2.weight"] = np.zeros(1)
    with pytest.raises(KeyError) as info:
        net.load_state_dict(sd)
    message = str(info.value)
    assert "missing keys" in message and "1.running_var" in message
    assert "unexpected keys" in message and "2.weight" in message
    assert "strict=False" in message
    result = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)).load_state_dict(sd, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["2.weight"]


def test_load_state_dict_shape_mismatch_names_key_and_both_shapes_and_loads_nothing():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    before = net.state_dict()
    bad = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)).state_dict()
    with pytest.raises(ValueError) as info:
        net.load_state_dict(bad)
    message = str(info.value)
    assert "2.weight: expected shape (1, 3), got (2, 3)" in message
    assert "2.bias: expected shape (1,), got (2,)" in message
    # No half-load: the keys before the bad ones (0.weight, 0.bias) were not written either.
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
    with pytest.raises(ValueError, match="shape mismatch"):
        net.load_state_dict(bad, strict=False)  # a shape mismatch is an error either way


def test_load_state_dict_rejects_non_numbers_and_non_dicts():
    layer = nn.Linear(1, 1)
    with pytest.raises(TypeError, match=r"'bias'.*not numbers"):
        layer.load_state_dict({"weight": np.ones((1, 1)), "bias": np.array(["x"])})
    with pytest.raises(TypeError, match="dict"):
        layer.load_state_dict([np.ones((1, 1))])


# --- dtype -------------------------------------------------------------------------------------------------


def test_to_double_and_float_cast_parameters_grads_and_float_buffers():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight = net[0].weight
    net(numnet.randn(4, 2)).sum().backward()
    assert net.double() is net
    assert net[0].weight is weight  # same Parameter objects (an optimizer keeps working)
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == np.float64 and net[1]._buffers["running_var"].dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64
    assert net(numnet.randn(4, 2, dtype=np.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(ValueError, match="floating point"):
        net.to(np.int32)
    with pytest.raises(TypeError, match="not a dtype"):
        net.to("banana")


def test_layers_follow_the_default_dtype(float64):
    assert nn.Linear(2, 2).weight.dtype == np.float64
    assert nn.BatchNorm1d(2).running_var.dtype == np.float64
    assert nn.Linear(2, 2, dtype=np.float32).weight.dtype == np.float32


# --- repr --------------------------------------------------------------------------------------------------


def test_repr_matches_pytorch_layout():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        nn.Linear(2, 3),
        nn.ReLU(),
        nn.BatchNorm1d(3),
        nn.LeakyReLU(0.2),
        nn.Sequential(nn.Linear(3, 1, bias=False)),
        nn.Sigmoid(),
        nn.Softmax(dim=1),
        nn.LogSoftmax(dim=-1),
        nn.Flatten(),
        nn.Identity(),
        nn.Tanh(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.BatchNorm1d(3),
        torch.nn.LeakyReLU(0.2),
        torch.nn.Sequential(torch.nn.Linear(3, 1, bias=False)),
        torch.nn.Sigmoid(),
        torch.nn.Softmax(dim=1),
        torch.nn.LogSoftmax(dim=-1),
        torch.nn.Flatten(),
        torch.nn.Identity(),
        torch.nn.Tanh(),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1)) == (
        "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)"
    )


def test_deepcopy_gives_an_independent_model_with_the_same_structure():
    import copy

    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    clone = copy.deepcopy(net)
    assert isinstance(clone[0].weight, nn.Parameter) and clone[0].weight is not net[0].weight
    assert clone[0]._parameters["weight"] is clone[0].weight  # registries and attributes stay in step
    clone[0].weight.data[...] = 5
    clone[1].running_mean[...] = 5
    assert not (net[0].weight.data == 5).any() and not (net[1].running_mean == 5).any()
    assert list(clone.state_dict()) == list(net.state_dict())
