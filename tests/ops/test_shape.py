"""reshape, transpose / .T, indexing (slices, integer arrays with repeats, boolean masks), concatenate,
stack and dtype casts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import numnet
from numnet import Tensor

from ._oracle import check

FAMILY = "shape"


@pytest.mark.parametrize(
    ("shape", "new_shape"),
    [
        ((2, 3, 4), (6, 4)),
        ((2, 3, 4), (-1,)),
        ((2, 3, 4), (4, -1)),
        ((2, 3, 4), (2, 1, 12)),
        ((), (1, 1)),
        ((1, 1), ()),
        ((6,), (3, 2)),
    ],
    ids=str,
)
def test_reshape(rng, shape, new_shape):
    x = rng.standard_normal(shape)
    check(FAMILY, "reshape", lambda t: t.reshape(new_shape), lambda t: t.reshape(new_shape), x)
    check(FAMILY, "reshape", lambda t: t.reshape(*new_shape), lambda t: t.reshape(new_shape), x)


def test_view_and_flatten(rng):
    x = rng.standard_normal((2, 3, 4))
    check(FAMILY, "view", lambda t: t.view(3, 8), lambda t: t.view(3, 8), x)
    check(FAMILY, "flatten", lambda t: t.flatten(), lambda t: t.flatten(), x)
    check(FAMILY, "flatten", lambda t: t.flatten(1), lambda t: t.flatten(1), x)


def test_reshape_to_an_impossible_shape_says_both_shapes():
    with pytest.raises(
        ValueError, match=r"cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, -1\)"
    ):
        Tensor(np.ones((2, 3))).reshape(4, -1)


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (0, 2, 1), (0, -1, 1), (-1, -3, -2)], ids=str)
def test_transpose(rng, axes):
    x = rng.standard_normal((2, 3, 4))
    perm = tuple(range(3))[::-1] if axes is None else axes
    check(
        FAMILY,
        "transpose",
        lambda t: t.transpose(axes) if axes else t.transpose(),
        lambda t: t.permute(*perm),
        x,
    )
    if axes:
        check(FAMILY, "transpose", lambda t: t.transpose(*axes), lambda t: t.permute(*perm), x)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4)], ids=str)
def test_T(rng, shape):
    x = rng.standard_normal(shape)
    check(FAMILY, ".T", lambda t: t.T, lambda t: t.permute(*reversed(range(t.ndim))), x)


def test_transpose_of_two_dims_swaps_them_as_pytorch(rng):
    x = rng.standard_normal((2, 3, 4))
    check(FAMILY, "transpose", lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2), x)
    check(FAMILY, "transpose", lambda t: t.transpose(-1, 1), lambda t: t.transpose(-1, 1), x)
    check(FAMILY, "transpose", lambda t: t.permute(1, 2, 0), lambda t: t.permute(1, 2, 0), x)
    m = rng.standard_normal((2, 3))
    check(FAMILY, "transpose", lambda t: t.transpose(0, 1), lambda t: t.transpose(0, 1), m)


def test_transpose_invalid_axes_is_an_error():
    with pytest.raises((ValueError, IndexError)):
        Tensor(np.ones((2, 3))).transpose(0, 2)


def _torch_index(index):
    """The same index for PyTorch: arrays become tensors."""

    def one(i):
        return torch.from_numpy(i) if isinstance(i, np.ndarray) else i

    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


BASIC = {
    "[1]": 1,
    "[-1]": -1,
    "[:, 1:3]": (slice(None), slice(1, 3)),
    "[..., ::2]": (Ellipsis, slice(None, None, 2)),
    "[None, 0]": (None, 0),
    "[1, :, 2]": (1, slice(None), 2),
    "[0:1, -2:]": (slice(0, 1), slice(-2, None)),
}


@pytest.mark.parametrize("name", list(BASIC))
def test_basic_indexing(rng, name):
    x = rng.standard_normal((3, 4, 5))
    index = BASIC[name]
    check(FAMILY, "getitem" + name, lambda t: t[index], lambda t: t[index], x)


def test_negative_step_slices_match_numpy(rng):
    # PyTorch does not take negative steps; check against the NumPy result and gradcheck
    data = rng.standard_normal((3, 4))
    x = Tensor(data, requires_grad=True)
    out = x[::-1, 1::-1]
    np.testing.assert_array_equal(out.data, data[::-1, 1::-1])
    assert numnet.gradcheck(lambda t: t[::-1, 1::-1], [Tensor(data.copy(), requires_grad=True)])


ADVANCED = {
    "repeated rows": np.array([0, 2, 0, 0]),
    "repeated list": [1, 1, 2],
    "columns": (slice(None), np.array([3, 3, 0])),
    "pairs": (np.array([0, 1, 1, 0]), np.array([2, 2, 2, 0])),
    "2-d index": np.array([[0, 1], [1, 1]]),
    "mixed": (np.array([2, 2]), slice(1, 3)),
}


@pytest.mark.parametrize("name", list(ADVANCED))
def test_integer_array_indexing_sums_repeats(rng, name):
    x = rng.standard_normal((3, 4))
    index = ADVANCED[name]
    tindex = _torch_index(index) if not isinstance(index, list) else index
    check(FAMILY, "getitem int array", lambda t: t[index], lambda t: t[tindex], x)


def test_repeated_index_accumulates_exactly():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])


def test_boolean_mask_indexing(rng):
    data = rng.standard_normal((3, 4))
    mask = data > 0.2
    check(FAMILY, "getitem bool mask", lambda t: t[mask], lambda t: t[torch.from_numpy(mask)], data)
    rows = np.array([True, False, True])
    check(FAMILY, "getitem bool rows", lambda t: t[rows], lambda t: t[torch.from_numpy(rows)], data)
    check(
        FAMILY,
        "getitem bool cols",
        lambda t: t[:, [True, False, False, True]],
        lambda t: t[:, torch.tensor([True, False, False, True])],
        data,
    )


def test_tensor_mask_from_a_comparison(rng):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, (x.data > 0).astype(np.float64))


def test_integer_tensor_as_index():
    x = Tensor(np.arange(5.0), requires_grad=True)
    idx = Tensor(np.array([4, 4, 0]))
    out = x[idx]
    np.testing.assert_array_equal(out.data, [4.0, 4.0, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 0, 0, 2])


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(rng, axis):
    # three (2, 3)-like inputs whose lengths along the joined axis differ: 1, 2 and 3
    shapes = [(k, 3) if axis == 0 else (2, k) for k in (1, 2, 3)]
    arrays = [rng.standard_normal(s) for s in shapes]
    check(
        FAMILY,
        "concatenate",
        lambda *ts: numnet.concatenate(ts, axis=axis),
        lambda *ts: torch.cat(ts, dim=axis),
        *arrays,
    )
    check(
        FAMILY,
        "cat",
        lambda *ts: numnet.cat(list(ts), axis=axis),
        lambda *ts: torch.cat(ts, dim=axis),
        *arrays,
    )


def test_concatenate_with_a_constant_array(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))
    check(
        FAMILY,
        "concatenate",
        lambda t: numnet.concatenate([t, b]),
        lambda t: torch.cat([t, torch.from_numpy(b)]),
        a,
    )


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(rng, axis):
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    check(
        FAMILY,
        "stack",
        lambda *ts: numnet.stack(ts, axis=axis),
        lambda *ts: torch.stack(ts, dim=axis),
        *arrays,
    )


def test_stack_of_0d_tensors(rng):
    arrays = [np.array(v) for v in rng.standard_normal(3)]
    check(FAMILY, "stack", lambda *ts: numnet.stack(ts), lambda *ts: torch.stack(ts), *arrays)


def test_concatenate_and_stack_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"concatenate along axis 0: shapes \[\(2, 3\), \(2, 4\)\]"):
        numnet.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    with pytest.raises(ValueError, match=r"stack along axis 0: shapes \[\(2, 3\), \(3, 2\)\]"):
        numnet.stack([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError, match=r"concatenate along axis 3"):
        numnet.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3)))], axis=3)
    with pytest.raises(TypeError, match=r"non-empty list or tuple"):
        numnet.stack([])
    with pytest.raises(TypeError, match=r"non-empty list or tuple"):
        numnet.concatenate(Tensor(np.ones(3)))


def test_cast_gradient_comes_back_in_the_input_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * 2.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2, 2, 2])
    assert x.double().float().dtype == np.float32
    assert x.astype(np.float64).dtype == np.float64


# --- PyTorch's shape methods (issue 12) ---------------------------------------------------------------------
SHAPE_OPS = {
    "unsqueeze0": (lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
    "unsqueeze-1": (lambda t: numnet.unsqueeze(t, -1), lambda t: torch.unsqueeze(t, -1)),
    "squeeze": (lambda t: t.unsqueeze(1).squeeze(), lambda t: t.unsqueeze(1).squeeze()),
    "squeeze_dim": (lambda t: t.unsqueeze(1).squeeze(1), lambda t: t.unsqueeze(1).squeeze(1)),
    "squeeze_kept": (lambda t: t.squeeze(0), lambda t: t.squeeze(0)),  # length 3: left as it is
    "expand": (lambda t: t[:, :1].expand(2, 3, 4), lambda t: t[:, :1].expand(2, 3, 4)),
    "expand_-1": (lambda t: t[:1].expand(5, -1, -1), lambda t: t[:1].expand(5, -1, -1)),
    "repeat": (lambda t: t.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
    "repeat_new_dims": (lambda t: t.repeat(2, 1, 1, 2), lambda t: t.repeat(2, 1, 1, 2)),
    "flatten": (lambda t: t.flatten(), lambda t: t.flatten()),
    "flatten_1": (lambda t: t.flatten(1), lambda t: t.flatten(1)),
    "flatten_0_1": (lambda t: numnet.flatten(t, 0, 1), lambda t: torch.flatten(t, 0, 1)),
    "mT": (lambda t: t.mT, lambda t: t.mT),
    "t": (lambda t: t[0].t(), lambda t: t[0].t()),
    "T2d": (lambda t: t[0].T, lambda t: t[0].T),
    "split": (lambda t: t.split(2, dim=2)[1], lambda t: t.split(2, dim=2)[1]),
    "split_sizes": (lambda t: t.split([1, 3], dim=-1)[1], lambda t: t.split([1, 3], dim=-1)[1]),
    "chunk": (lambda t: numnet.chunk(t, 2, 1)[1], lambda t: torch.chunk(t, 2, 1)[1]),
    "clone": (lambda t: t.clone() * 2, lambda t: t.clone() * 2),
}


@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_methods_match_torch(rng, name):
    ours, theirs = SHAPE_OPS[name]
    check(
        FAMILY,
        name,
        ours,
        theirs,
        rng.standard_normal((3, 3, 4))
        if name == "t"
        else rng.standard_normal((1, 3, 4))
        if name.startswith("expand_")
        else rng.standard_normal((2, 3, 4)),
    )


def test_split_and_chunk_pieces_match_torch():
    x = np.arange(14.0).reshape(7, 2)
    for ours, theirs in (
        (Tensor(x).split(3), torch.tensor(x).split(3)),
        (Tensor(x).chunk(3), torch.tensor(x).chunk(3)),
    ):
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
        for p, q in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(p.data, q.numpy())


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_torch_with_repeated_indices(rng, dim):
    x = rng.standard_normal((3, 4))
    index = rng.integers(0, x.shape[dim], size=(3, 4) if dim == 0 else (3, 5))
    index = index[:, :4] if dim == 0 else index
    check(
        FAMILY,
        "gather",
        lambda t: t.gather(dim, Tensor(index)),
        lambda t: t.gather(dim, torch.tensor(index)),
        x,
    )


def test_masked_fill_matches_torch(rng):
    x = rng.standard_normal((3, 4))
    mask = rng.random((1, 4)) < 0.5
    check(
        FAMILY,
        "masked_fill",
        lambda t: t.masked_fill(Tensor(mask), -1.5),
        lambda t: t.masked_fill(torch.tensor(mask), -1.5),
        x,
    )
    with pytest.raises(TypeError, match=r"bool"):
        Tensor(x).masked_fill(Tensor(mask.astype(np.int64)), 0.0)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 3), (3, 0)], ids=str)
@pytest.mark.parametrize("dims", [(0, -1), (1, -1), (0, 1)], ids=str)
def test_flatten_of_empty_tensors_matches_torch(shape, dims):
    """Fuzzer: flatten of empty tensors failed (reshape(…, -1) is ambiguous when a length is 0)."""
    ref = torch.zeros(shape)
    try:
        expected = tuple(ref.flatten(*dims).shape)
    except (RuntimeError, IndexError):
        with pytest.raises(ValueError):
            Tensor(np.zeros(shape)).flatten(*dims)
        return
    assert Tensor(np.zeros(shape)).flatten(*dims).shape == expected


def test_flatten_of_0d_gives_one_element_as_torch():
    assert Tensor(np.float64(2.0)).flatten().shape == tuple(torch.tensor(2.0).flatten().shape) == (1,)


def test_size_is_a_tuple_with_numel():
    s = Tensor(np.zeros((2, 3, 4))).size()
    assert isinstance(s, tuple) and isinstance(s, numnet.Size) and s == (2, 3, 4)
    assert s.numel() == 24 and s[1:] == (3, 4) and isinstance(s[1:], numnet.Size)
    assert repr(s) == repr(torch.zeros(2, 3, 4).size()).replace("torch", "numnet")


def test_shape_errors_are_clear():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cannot be expanded"):
        x.expand(4, 3, 2)
    with pytest.raises(ValueError, match=r"unsqueeze: dim 3 out of range"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match=r"at most 2 dimensions"):
        Tensor(np.zeros((2, 3, 4))).t()
    with pytest.raises(ValueError, match=r"do not add up"):
        x.split([1, 1], dim=1)
