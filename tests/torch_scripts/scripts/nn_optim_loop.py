# nn.Sequential + MSELoss + SGD with momentum; weights set deterministically with copy_ under no_grad.
import torch
from torch import nn

x = torch.linspace(-1, 1, 64).reshape(32, 2)
y = (x[:, :1] * 2 - x[:, 1:] * 0.5).sin()

model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1) / 2)

loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for _ in range(60):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    out = model(x)
values, indices = out.squeeze(1).max(0)
RESULT = {
    "losses": losses[::6],
    "final": losses[-1],
    "max": values.item(),
    "argmax": int(indices),
    "first_weight": model[0].weight[0].tolist(),
}
