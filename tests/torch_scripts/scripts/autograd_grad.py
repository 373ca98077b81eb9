# torch.autograd.grad for a Newton-style solve of tanh(z) = 0.5, and a gradient w.r.t. an intermediate.
import torch

z = torch.tensor([0.0, 0.3, -0.4], dtype=torch.float64, requires_grad=True)
steps = []
for _ in range(8):
    f = torch.tanh(z) - 0.5
    (df,) = torch.autograd.grad(f.sum(), z)
    with torch.no_grad():
        z -= f / df
    steps.append(z.tolist())

a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
b = a * a
c = (b.log() * a).sum()
ga, gb = torch.autograd.grad(c, [a, b])
RESULT = {
    "newton": steps[-1],
    "residual": (torch.tanh(z) - 0.5).abs().max().item(),
    "ga": ga.tolist(),
    "gb": gb.tolist(),
    "a_grad_untouched": a.grad is None,
}
