# A custom autograd Function (a smooth step 3x² − 2x³ with its own backward) inside a small fit.
import torch


class SmoothStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 3 * x**2 - 2 * x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (6 * x - 6 * x**2)


x = torch.linspace(0, 1, 50, dtype=torch.float64)
target = x.clone() ** 1.5
scale = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
shift = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
losses = []
for _ in range(100):
    pred = SmoothStep.apply(x * scale + shift)
    loss = (pred - target).abs().sum()
    loss.backward()
    with torch.no_grad():
        scale -= 0.002 * scale.grad
        shift -= 0.002 * shift.grad
    scale.grad = None
    shift.grad = None
    losses.append(loss.item())

RESULT = {"losses": losses[::10], "scale": scale.item(), "shift": shift.item()}
