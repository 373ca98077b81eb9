"""Ready-made architectures built from ``numnet.nn`` layers (used by the CLI, sweeps and estimators).

``mlp(...)`` builds a perceptron from layer sizes; the convolutional nets of "Deep Learning from Scratch"
are built by name for an image shape (C, H, W)::

    model = numnet.models.build("simple-cnn", input_shape=(1, 28, 28), num_classes=10)

``names()`` lists the registered ones; the models take images (N, C, H, W), not flattened rows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from numnet import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "identity": nn.Identity,
}

INITS = ("default", "xavier", "he", "normal")


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    batchnorm: bool = False,
    init: str = "default",
) -> nn.Sequential:
    """A multilayer perceptron: ``in → [Linear → (BatchNorm) → activation → (Dropout)] × len(hidden) → out``.

    ``init``: ``"default"`` keeps ``Linear``'s own (PyTorch's) initialisation; ``"xavier"`` (Glorot, for
    sigmoid/tanh), ``"he"`` (Kaiming, for ReLU) or ``"normal"`` (the tutorials' 0.01·N(0, 1)) re-draw the
    weights and zero the biases.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    sizes = [int(in_features), *(int(h) for h in hidden), int(out_features)]
    if any(size < 1 for size in sizes):
        raise ValueError(f"layer sizes must be positive, got {sizes}")
    layers: list[nn.Module] = []
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(fan_in, fan_out)
        _initialise(linear, init, activation)
        layers.append(linear)
        if index < len(sizes) - 2:  # hidden layer
            if batchnorm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _initialise(linear: nn.Linear, init: str, activation: str) -> None:
    if init == "default":
        return
    if init == "xavier":
        nn.init.xavier_uniform_(linear.weight, gain=nn.init.calculate_gain(_gain_name(activation)))
    elif init == "he":
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
    else:
        nn.init.normal_(linear.weight, 0.0, 0.01)
    if linear.bias is not None:
        nn.init.zeros_(linear.bias)


def _gain_name(activation: str) -> str:
    return {"identity": "linear"}.get(activation, activation)


# ---------------------------------------------------------------------------------------------------------
# Convolutional nets of "Deep Learning from Scratch", built by name
# ---------------------------------------------------------------------------------------------------------


def _image_shape(name: str, input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"{name}: input_shape must be (channels, height, width) of the images, e.g. (1, 28, 28), got "
            f"{tuple(input_shape)}; reshape flat rows with X.reshape(-1, 1, 28, 28)"
        )
    return shape  # type: ignore[return-value]


def simple_cnn(
    input_shape: Sequence[int] = (1, 28, 28),
    num_classes: int = 10,
    filters: int = 30,
    kernel_size: int = 5,
    hidden: int = 100,
    weight_std: float = 0.01,
) -> nn.Sequential:
    """The book's SimpleConvNet (ch. 7): Conv(filters, k×k, stride 1, pad 0) → ReLU → 2×2 max-pool →
    Flatten → Affine(hidden) → ReLU → Affine(num_classes).

    Weights weight_std·N(0, 1), biases 0, as the book. For (1, 28, 28): conv → (30, 24, 24), pool →
    (30, 12, 12), 4,320 features into the first Affine layer.
    """
    channels, height, width = _image_shape("simple-cnn", input_shape)
    conv_h, conv_w = height - kernel_size + 1, width - kernel_size + 1
    if conv_h < 2 or conv_w < 2:
        raise ValueError(
            f"simple-cnn: images {input_shape} are too small for a {kernel_size}×{kernel_size} conv"
        )
    features = filters * (conv_h // 2) * (conv_w // 2)
    model = nn.Sequential(
        nn.Conv2d(channels, filters, kernel_size),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )
    for layer in (model[0], model[4], model[6]):
        nn.init.normal_(layer.weight, 0.0, weight_std)
        nn.init.zeros_(layer.bias)
    return model


def deep_cnn(
    input_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, hidden: int = 50, dropout: float = 0.5
) -> nn.Sequential:
    """The book's DeepConvNet (ch. 8): six 3×3 convolutions (16, 16, 32, 32, 64, 64 filters; padding 1,
    the fourth padding 2) with ReLU, a 2×2 max-pool after each pair, then Affine(hidden) → ReLU → Dropout →
    Affine(num_classes) → Dropout. He initialisation (std √(2/fan_in)), biases 0, as the book.
    """
    channels, height, width = _image_shape("deep-cnn", input_shape)
    layers: list[nn.Module] = []
    for index, (filters, padding) in enumerate([(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]):
        layers += [nn.Conv2d(channels, filters, 3, padding=padding), nn.ReLU()]
        channels = filters
        height, width = height + 2 * padding - 2, width + 2 * padding - 2
        if index % 2 == 1:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(f"deep-cnn: images {tuple(input_shape)} are too small for its six convolutions")
    layers += [
        nn.Flatten(),
        nn.Linear(channels * height * width, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
        nn.Dropout(dropout),
    ]
    model = nn.Sequential(*layers)
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            fan_in = math.prod(layer.weight.shape[1:])
            nn.init.normal_(layer.weight, 0.0, math.sqrt(2.0 / fan_in))
            nn.init.zeros_(layer.bias)
    return model


#: name → builder(input_shape, num_classes), for ``build`` and a command line's ``--model NAME``.
MODELS: dict[str, Callable[..., nn.Sequential]] = {"simple-cnn": simple_cnn, "deep-cnn": deep_cnn}


def names() -> list[str]:
    """The names ``build`` accepts."""
    return list(MODELS)


def input_shape(model: nn.Module, metadata: dict | None = None) -> tuple[int, ...]:
    """The shape of one input sample: ``metadata["input_shape"]`` when the saved file has it (a CNN's
    (C, H, W): save it with ``numnet.save(model, path, metadata={"input_shape": [1, 28, 28]})``), else
    ``(in_features,)`` of the first ``Linear`` of an MLP. Raises ValueError when neither tells."""
    shape = (metadata or {}).get("input_shape")
    if shape is not None:
        if not isinstance(shape, (list, tuple)) or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise ValueError(f"metadata input_shape must be a list of positive ints, got {shape!r}")
        return tuple(shape)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            break  # a convolution before any Linear: the image size is not in the weights
        if isinstance(module, nn.Linear):
            return (module.in_features,)
    raise ValueError(
        "cannot tell the input shape of this model: it starts with a convolution, whose weights do not fix "
        "the image size; save it with metadata={'input_shape': [C, H, W]}"
    )


def build(name: str, input_shape: Sequence[int], num_classes: int) -> nn.Sequential:
    """The registered model ``name`` for images of ``input_shape`` (C, H, W) and ``num_classes`` outputs."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"{name}: num_classes must be a positive integer, got {num_classes!r}")
    return MODELS[name](input_shape=input_shape, num_classes=num_classes)
