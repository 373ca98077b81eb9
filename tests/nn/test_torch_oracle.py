"""PyTorch as the oracle: the same weights and inputs in float64 must give the same outputs and the same
gradients (input and parameters) to rtol 1e-7; BatchNorm's running statistics must track PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("float64")

RTOL, ATOL = 1e-7, 1e-12
WORST: dict[str, float] = {}  # worst relative error per comparison, reported at the end of the run


def close(ours, theirs, what: str) -> None:
    ours = np.asarray(ours.data if isinstance(ours, numnet.Tensor) else ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)
    # Relative error where it means something: elements above the atol floor (an exact-zero gradient, e.g. of
    # a bias feeding BatchNorm, comes out as ±1e-17 rounding noise in both libraries).
    significant = np.abs(theirs) > ATOL
    rel = np.abs(ours - theirs)[significant] / np.abs(theirs)[significant]
    WORST[what] = max(WORST.get(what, 0.0), float(rel.max()) if rel.size else 0.0)


def torch64(array, requires_grad=False):
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=requires_grad)


def copy_weights(ours: nn.Module, theirs) -> None:
    """Ours → theirs, by state-dict name (parameters and buffers)."""
    state = {k: torch.from_numpy(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def compare(ours: nn.Module, theirs, x: np.ndarray, name: str, seed: int = 0) -> None:
    """Forward and backward of both on ``x``, with the same random upstream gradient."""
    theirs = theirs.double()
    copy_weights(ours, theirs)
    ours.train(theirs.training)
    x_ours, x_theirs = numnet.Tensor(x.copy(), requires_grad=True), torch64(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    close(y_ours, y_theirs, f"{name} output")
    grad = np.random.default_rng(seed).standard_normal(y_ours.shape)
    y_ours.backward(grad)
    y_theirs.backward(torch.from_numpy(grad))
    close(x_ours.grad, x_theirs.grad, f"{name} d(input)")
    theirs_params = dict(theirs.named_parameters())
    for param_name, param in ours.named_parameters():
        close(param.grad, theirs_params[param_name].grad, f"{name} d({param_name})")
    assert set(theirs_params) == {n for n, _ in ours.named_parameters()}


@pytest.fixture(scope="module", autouse=True)
def _report_worst_errors(nn_torch_errors):
    yield
    nn_torch_errors.update(WORST)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny tensors: torch's thread pool only adds overhead (restored for other test modules)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def rng():
    return np.random.default_rng(2024)


# --- layers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 5), (3, 4, 5)])
def test_linear(rng, bias, shape):
    x = rng.standard_normal(shape)
    compare(nn.Linear(5, 3, bias=bias), torch.nn.Linear(5, 3, bias=bias), x, "Linear")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(), torch.nn.LeakyReLU()),
        (nn.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3)),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
        (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
        (nn.LogSoftmax(dim=0), torch.nn.LogSoftmax(dim=0)),
        (nn.Identity(), torch.nn.Identity()),
    ],
    ids=lambda m: repr(m),
)
def test_activations(rng, ours, theirs):
    compare(ours, theirs, rng.standard_normal((6, 4)) * 3, type(ours).__name__)


def test_flatten(rng):
    compare(nn.Flatten(), torch.nn.Flatten(), rng.standard_normal((2, 3, 4)), "Flatten")
    compare(nn.Flatten(0, 1), torch.nn.Flatten(0, 1), rng.standard_normal((2, 3, 4)), "Flatten")


def test_step_matches_heaviside(rng):
    x = rng.standard_normal((5, 5))
    close(nn.Step()(numnet.Tensor(x)), torch.heaviside(torch64(x), torch64(0.0)), "Step output")


def test_mlp(rng):
    def build(lib):
        return lib.Sequential(
            lib.Linear(4, 8),
            lib.BatchNorm1d(8),
            lib.ReLU(),
            lib.Linear(8, 6),
            lib.Tanh(),
            lib.Linear(6, 3),
            lib.LogSoftmax(dim=1),
        )

    compare(build(nn), build(torch.nn), rng.standard_normal((10, 4)), "MLP")


# --- BatchNorm1d -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(8, 4), (5, 4, 3)])
@pytest.mark.parametrize(
    "options",
    [{}, {"affine": False}, {"momentum": 0.3}, {"momentum": None}, {"eps": 1e-3}, {"bias": False}],
    ids=str,
)
def test_batchnorm_training_steps_and_running_stats(rng, shape, options):
    ours, theirs = nn.BatchNorm1d(4, **options), torch.nn.BatchNorm1d(4, **options).double()
    if ours.weight is not None:
        ours.weight.data[...] = rng.uniform(0.5, 2, 4)
    if ours.bias is not None:
        ours.bias.data[...] = rng.standard_normal(4)
    copy_weights(ours, theirs)
    for step in range(4):  # several steps: the running averages must agree after each
        x = rng.standard_normal(shape) * 3 + 2
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
        compare_step = f"BatchNorm1d{options} step {step}"
        x_ours, x_theirs = numnet.Tensor(x, requires_grad=True), torch64(x, requires_grad=True)
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        close(y_ours, y_theirs, f"{compare_step} output")
        grad = rng.standard_normal(shape)
        y_ours.backward(grad)
        y_theirs.backward(torch.from_numpy(grad))
        close(x_ours.grad, x_theirs.grad, f"{compare_step} d(input)")
        for name, param in ours.named_parameters():
            close(param.grad, dict(theirs.named_parameters())[name].grad, f"{compare_step} d({name})")
        close(ours.running_mean, theirs.running_mean, "BatchNorm1d running_mean")
        close(ours.running_var, theirs.running_var, "BatchNorm1d running_var")
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == step + 1
    ours.eval()
    theirs.eval()
    compare(ours, theirs, rng.standard_normal(shape), f"BatchNorm1d{options} eval")


def test_batchnorm_without_running_stats(rng):
    for mode in (True, False):
        ours = nn.BatchNorm1d(3, track_running_stats=False)
        theirs = torch.nn.BatchNorm1d(3, track_running_stats=False)
        theirs.train(mode)
        compare(ours, theirs, rng.standard_normal((6, 3)), f"BatchNorm1d untracked training={mode}")
        assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]


def test_batchnorm_state_dict_names_match_pytorch():
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.state_dict()["num_batches_tracked"].dtype == np.int64


# --- Dropout (the generators differ: compare statistics) --------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    n = 200_000
    x = numnet.Tensor(np.ones(n), requires_grad=True)
    layer = nn.Dropout(p)
    y = layer(x)
    y_torch = torch.nn.Dropout(p)(torch.ones(n, dtype=torch.float64))
    dropped, dropped_torch = float((y.data == 0).mean()), float((y_torch == 0).double().mean())
    tolerance = 5 * np.sqrt(p * (1 - p) / n)  # five standard errors of a binomial fraction
    assert abs(dropped - p) < tolerance and abs(dropped_torch - p) < tolerance
    survivors = y.data[y.data != 0]
    np.testing.assert_allclose(survivors, 1 / (1 - p), rtol=1e-12)  # inverted scaling, as PyTorch
    np.testing.assert_allclose(y_torch[y_torch != 0].numpy(), 1 / (1 - p), rtol=1e-12)
    assert abs(y.data.mean() - 1) < 5 * np.sqrt(p / (1 - p) / n)  # the expected activation is unchanged
    y.backward(np.ones(n))
    np.testing.assert_array_equal(x.grad, y.data)  # dx = g·mask, the same mask as the forward


def test_dropout_is_identity_in_eval_and_for_p_zero():
    x = numnet.randn(4, 5)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    theirs = torch.nn.Dropout(0.5).eval()
    xt = torch.ones(3)
    assert theirs(xt) is xt  # the behaviour being mirrored
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, np.zeros((4, 5)))


# --- losses ------------------------------------------------------------------------------------------------


def compare_loss(ours, theirs, prediction, target, name, target_grad=False):
    pred_ours, pred_theirs = numnet.Tensor(prediction.copy(), requires_grad=True), torch64(prediction, True)
    if target.dtype.kind in "iu":
        tgt_ours, tgt_theirs = target, torch.from_numpy(target)
    else:
        tgt_ours = numnet.Tensor(target.copy(), requires_grad=target_grad)
        tgt_theirs = torch64(target, requires_grad=target_grad)
    out_ours, out_theirs = ours(pred_ours, tgt_ours), theirs(pred_theirs, tgt_theirs)
    close(out_ours, out_theirs, f"{name} value")
    grad = np.random.default_rng(5).standard_normal(out_ours.shape)
    out_ours.backward(grad)
    out_theirs.backward(torch.from_numpy(grad))
    close(pred_ours.grad, pred_theirs.grad, f"{name} d(prediction)")
    if target_grad:
        close(tgt_ours.grad, tgt_theirs.grad, f"{name} d(target)")


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(rng, reduction):
    compare_loss(
        nn.MSELoss(reduction=reduction),
        torch.nn.MSELoss(reduction=reduction),
        rng.standard_normal((6, 3)),
        rng.standard_normal((6, 3)),
        f"MSELoss {reduction}",
        target_grad=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
def test_cross_entropy_labels(rng, reduction, label_smoothing):
    compare_loss(
        nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
        torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
        rng.standard_normal((7, 4)) * 2,
        rng.integers(0, 4, 7),
        f"CrossEntropyLoss labels {reduction}",
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
def test_cross_entropy_probabilities(rng, reduction, label_smoothing):
    compare_loss(
        nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
        torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
        rng.standard_normal((7, 4)) * 2,
        rng.dirichlet(np.ones(4), 7),
        f"CrossEntropyLoss probs {reduction}",
        target_grad=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(rng, reduction):
    log_p = np.log(rng.dirichlet(np.ones(5), 6))
    compare_loss(
        nn.NLLLoss(reduction=reduction),
        torch.nn.NLLLoss(reduction=reduction),
        log_p,
        rng.integers(0, 5, 6),
        f"NLLLoss {reduction}",
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_loss(rng, reduction):
    compare_loss(
        nn.BCELoss(reduction=reduction),
        torch.nn.BCELoss(reduction=reduction),
        rng.uniform(0.01, 0.99, (6, 2)),
        rng.uniform(0, 1, (6, 2)),
        f"BCELoss {reduction}",
        target_grad=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_loss(rng, reduction):
    compare_loss(
        nn.BCEWithLogitsLoss(reduction=reduction),
        torch.nn.BCEWithLogitsLoss(reduction=reduction),
        rng.standard_normal((6, 2)) * 4,
        rng.uniform(0, 1, (6, 2)),
        f"BCEWithLogitsLoss {reduction}",
        target_grad=True,
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_loss_pos_weight(rng, reduction):
    pos_weight = np.array([3.0, 0.5])
    ours = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=pos_weight)
    theirs = torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch64(pos_weight))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["pos_weight"]
    compare_loss(
        ours,
        theirs,
        rng.standard_normal((6, 2)) * 4,
        rng.uniform(0, 1, (6, 2)),
        f"BCEWithLogitsLoss pos_weight {reduction}",
        target_grad=True,
    )


def test_losses_at_extreme_logits_match_pytorch():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 0.0, -1e4]])
    labels = np.array([1, 0, 2])  # the worst possible labels: the true class has logit −1e4 or so
    compare_loss(nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, labels, "CrossEntropyLoss ±1e4")
    compare_loss(nn.NLLLoss(), torch.nn.NLLLoss(), logits - 1e4, labels, "NLLLoss extreme")
    x = np.array([[1e4], [-1e4], [30.0], [-30.0]])
    t = np.array([[0.0], [1.0], [1.0], [0.0]])
    compare_loss(nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), x, t, "BCEWithLogitsLoss ±1e4")
    p = np.array([[0.0], [1.0], [1e-30], [1 - 1e-16]])
    compare_loss(nn.BCELoss(reduction="sum"), torch.nn.BCELoss(reduction="sum"), p, t, "BCELoss clamped")
