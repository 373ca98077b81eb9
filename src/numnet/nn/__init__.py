"""Layer 4: neural-network modules with PyTorch's names (``from numnet import nn``).

``Module`` and ``Parameter`` (module.py), containers (container.py), layers (linear.py, activation.py,
dropout.py, normalization.py, layer_norm.py, embedding.py, smooth_activation.py), losses (loss.py);
``nn.utils`` clips gradients; ``nn.functional`` holds the stateless forms, ``nn.init`` the initialisers and
``nn.config`` the JSON description of an architecture. Everything here is built on
``numnet.tensor``, ``numnet.ops`` and ``numnet.backend`` only.
"""

from numnet.nn import config, functional, init, utils
from numnet.nn.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from numnet.nn.container import ModuleList, Sequential, layer_fusion
from numnet.nn.conv import Conv2d
from numnet.nn.dropout import Dropout
from numnet.nn.embedding import Embedding
from numnet.nn.layer_norm import LayerNorm
from numnet.nn.linear import Flatten, Identity, Linear
from numnet.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from numnet.nn.module import IncompatibleKeys, Module, Parameter, StateDictKeyError
from numnet.nn.normalization import BatchNorm1d, BatchNorm2d
from numnet.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, Dropout2d, MaxPool2d
from numnet.nn.smooth_activation import ELU, GELU, SiLU, Softplus

__all__ = [
    "ELU",
    "GELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "StateDictKeyError",
    "Step",
    "Tanh",
    "config",
    "functional",
    "init",
    "layer_fusion",
    "utils",
]
