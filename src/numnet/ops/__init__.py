"""Layer 3: every differentiable operation, one ``Function`` class each, grouped by family."""

from numnet.ops.activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh
from numnet.ops.arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from numnet.ops.conv import Conv2d
from numnet.ops.elementwise import Abs, Clip, Exp, Log, Sqrt, Where
from numnet.ops.linear import Linear
from numnet.ops.loss import BCE, MSE, NLL, BCEWithLogits, CrossEntropy
from numnet.ops.normalization import BatchNorm
from numnet.ops.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from numnet.ops.reduce import Max, Mean, Min, Sum
from numnet.ops.regularization import Dropout
from numnet.ops.shape import Cast, Concatenate, GetItem, Reshape, Stack, Transpose

__all__ = [
    "BCE", "MSE", "NLL", "Abs", "AdaptiveAvgPool2d", "Add", "AvgPool2d", "BCEWithLogits", "BatchNorm", "Cast",
    "Clip", "Concatenate", "Conv2d", "CrossEntropy", "Div", "Dropout", "Exp", "GetItem", "LeakyReLU",
    "Linear", "Log", "LogSoftmax", "MatMul", "Max", "MaxPool2d", "Mean", "Min", "Mul", "Neg", "Pow", "ReLU",
    "Reshape", "Sigmoid", "Softmax", "Sqrt", "Stack", "Step", "Sub", "Sum", "Tanh", "Transpose", "Where",
]
