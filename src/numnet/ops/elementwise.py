"""Element-wise math: exp, log, sqrt, abs, clip, where."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function


class Exp(Function):
    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, grad):
        # d eˣ/dx = eˣ (the saved output)
        return grad * self.out


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, grad):
        # d ln x/dx = 1/x
        return grad / self.x


class Sqrt(Function):
    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, grad):
        # d √x/dx = 1 / (2√x)
        return grad / (2 * self.out)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad):
        # d|x|/dx = sign(x) (0 at 0, as PyTorch)
        return grad * np.sign(self.x)


class Clip(Function):
    def forward(self, x, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip: give min, max or both")
        self.inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return np.clip(x, low, high)

    def backward(self, grad):
        # gradient passes where x was within [min, max], is cut where clipping held it constant
        return grad * self.inside


class Where(Function):
    def forward(self, condition, a, b):
        self.condition = np.asarray(condition, dtype=bool)
        return np.where(self.condition, a, b)

    def backward(self, grad):
        # z = a where c else b  →  da = g·c, db = g·(1 − c); the condition gets none
        da = np.where(self.condition, grad, 0) if self.needs_input_grad[1] else None
        db = np.where(self.condition, 0, grad) if self.needs_input_grad[2] else None
        return None, da, db
