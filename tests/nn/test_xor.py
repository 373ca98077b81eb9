"""XOR with the tutorial's 2-3-1 ReLU network, trained by plain full-batch gradient descent."""

from __future__ import annotations

import numpy as np

import numnet
from numnet import nn

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
T = np.array([[0], [1], [1], [0]], dtype=np.float32)


def test_xor_is_learned():
    # Seed 13: with only three ReLU units some seeds start with units that never fire on any of the four
    # inputs (or settle in the 0.5-everywhere minimum); this one learns XOR in about 1,100 iterations.
    numnet.manual_seed(13)
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    for p in net.parameters():
        nn.init.normal_(p, 0.0, 0.1)  # weights and biases ~ N(0, 0.1²)
    loss_fn = nn.MSELoss(reduction="sum")
    x, lr = numnet.Tensor(X), 0.01
    for _ in range(10_000):
        loss = loss_fn(net(x), T) * 0.5  # ½·Σ(y − t)²
        net.zero_grad()
        loss.backward()
        with numnet.no_grad():
            for p in net.parameters():
                p.data -= lr * p.grad
        if loss.item() < 0.01:  # converged: stop early to keep the test fast
            break
    assert loss.item() < 0.01, f"did not converge in 10,000 iterations: loss {loss.item():.4f}"
    predictions = net(x).data
    np.testing.assert_array_equal(predictions > 0.5, T > 0.5)
    np.testing.assert_allclose(predictions, T, atol=0.15)
