"""Element-wise math: exp, log, sqrt, abs, trigonometric and hyperbolic functions, clip/clamp, maximum,
minimum, where."""

from __future__ import annotations

import numpy as np

from numnet.tensor import Function, promote


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


class Sin(Function):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        # d sin x/dx = cos x
        return grad * np.cos(self.x)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, grad):
        # d cos x/dx = −sin x
        return -grad * np.sin(self.x)


class Tan(Function):
    def forward(self, x):
        self.out = np.tan(x)
        return self.out

    def backward(self, grad):
        # d tan x/dx = 1 + tan²x
        return grad * (1 + self.out * self.out)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return np.sinh(x)

    def backward(self, grad):
        # d sinh x/dx = cosh x
        return grad * np.cosh(self.x)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return np.cosh(x)

    def backward(self, grad):
        # d cosh x/dx = sinh x
        return grad * np.sinh(self.x)


class Square(Function):
    def forward(self, x):
        self.x = x
        return np.square(x)

    def backward(self, grad):
        # d x²/dx = 2x
        return grad * (2 * self.x)


class Sign(Function):
    def forward(self, x):
        return np.sign(x)

    def backward(self, grad):
        # sign is piecewise constant: its gradient is 0 (as PyTorch, also at 0)
        return np.zeros_like(grad)


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return np.log1p(x)

    def backward(self, grad):
        # d ln(1 + x)/dx = 1 / (1 + x)
        return grad / (1 + self.x)


class Expm1(Function):
    def forward(self, x):
        self.out = np.expm1(x)
        return self.out

    def backward(self, grad):
        # d (eˣ − 1)/dx = eˣ = out + 1
        return grad * (self.out + 1)


class Rsqrt(Function):
    def forward(self, x):
        self.out = 1 / np.sqrt(x)
        return self.out

    def backward(self, grad):
        # d x^(−1/2)/dx = −½·x^(−3/2) = −½·out³
        return grad * (-0.5 * self.out * self.out * self.out)


class Reciprocal(Function):
    def forward(self, x):
        if x.dtype.kind not in "fc":
            x = x.astype(np.result_type(x.dtype, np.float32))
        self.out = 1 / x
        return self.out

    def backward(self, grad):
        # d (1/x)/dx = −1/x² = −out²
        return -grad * self.out * self.out


class _Pick(Function):
    """maximum / minimum of two tensors. Where they are equal each gets half the gradient (as PyTorch)."""

    pick = staticmethod(np.maximum)

    def forward(self, a, b):
        a, b = promote(a, b)
        out = self.pick(a, b)
        self.from_a = np.where(a == b, 0.5, (out == a)).astype(out.dtype, copy=False)
        return out

    def backward(self, grad):
        # z = max(a, b)  →  da = g·[a wins], db = g·[b wins]; ties: g/2 each
        da = grad * self.from_a if self.needs_input_grad[0] else None
        db = grad * (1 - self.from_a) if self.needs_input_grad[1] else None
        return da, db


class Maximum(_Pick):
    pick = staticmethod(np.maximum)


class Minimum(_Pick):
    pick = staticmethod(np.minimum)


class ClampTensor(Function):
    """clamp(x, min, max) with tensor bounds (either may be None); the bounds get gradients too."""

    def forward(self, x, low, high):
        if low is None and high is None:
            raise ValueError("clamp: give min, max or both")
        out = x
        self.below = self.above = None
        if low is not None:
            self.below = x < low
            out = np.maximum(out, low)
        if high is not None:
            self.above = out > high
            out = np.minimum(out, high)
            if self.below is not None:
                self.below = self.below & ~self.above
        return out

    def backward(self, grad):
        # z = min(max(x, lo), hi)  →  dx = g where lo ≤ x ≤ hi, dlo = g where x < lo (and lo ≤ hi),
        # dhi = g where the value exceeded hi
        held = np.zeros(grad.shape, dtype=bool)
        for mask in (self.below, self.above):
            if mask is not None:
                held = held | mask
        dx = np.where(held, 0, grad)
        dlow = np.where(self.below, grad, 0) if self.needs_input_grad[1] else None
        dhigh = np.where(self.above, grad, 0) if self.needs_input_grad[2] else None
        return dx, dlow, dhigh
