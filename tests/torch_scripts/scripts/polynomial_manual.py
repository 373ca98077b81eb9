# Fit a cubic to exp(x)/3 on [-1, 1] with hand-written gradients and in-place updates (no autograd).
import torch

dtype = torch.float
x = torch.linspace(-1, 1, 200, dtype=dtype)
y = torch.exp(x) / 3

a, b, c, d = (torch.full((), v, dtype=dtype) for v in (0.1, -0.2, 0.3, 0.05))
lr = 1e-3
losses = []
for t in range(300):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 50 == 49:
        losses.append(loss)
    grad_y_pred = 2.0 * (y_pred - y)
    a -= lr * grad_y_pred.sum()
    b -= lr * (grad_y_pred * x).sum()
    c -= lr * (grad_y_pred * x**2).sum()
    d -= lr * (grad_y_pred * x**3).sum()

RESULT = {"losses": losses, "coefficients": [a.item(), b.item(), c.item(), d.item()]}
