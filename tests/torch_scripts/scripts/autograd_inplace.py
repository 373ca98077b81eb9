# The same kind of fit with autograd: parameters updated in place under no_grad, grads zeroed in place.
import torch

x = torch.linspace(-2, 2, 100)
y = torch.tanh(x) + 0.1 * x

w = torch.tensor([0.5, -0.25, 0.1], requires_grad=True)
powers = torch.tensor([1, 2, 3])
features = x.unsqueeze(-1).pow(powers)  # (100, 3), float32 despite the int exponents
lr = 1e-3
history = []
for step in range(200):
    loss = ((features @ w - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad * 10
        w.grad.zero_()
    if step % 40 == 0:
        history.append(float(loss))

with torch.no_grad():
    w.clamp_(-1.0, 1.0)
RESULT = {"history": history, "w": w.tolist(), "dtype": str(features.dtype).split(".")[-1]}
