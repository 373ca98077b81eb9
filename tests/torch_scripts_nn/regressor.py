"""A small regression network, written for PyTorch: SiLU / ELU / Softplus layers fitted with the Huber
loss by RAdam under a warm-up-then-restarts schedule (SequentialLR), batches from a BatchSampler; L1 and
smooth-L1 errors reported, and a second model fitted by Adadelta with value clipping."""

import json

import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import BatchSampler, DataLoader, SequentialSampler, TensorDataset

rng = np.random.default_rng(1)
x = rng.uniform(-2, 2, (64, 3)).astype(np.float32)
y = (np.sin(x[:, :1] * 1.5) + 0.3 * x[:, 1:2] ** 2 - 0.5 * x[:, 2:]).astype(np.float32)
dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def build(activation):
    model = nn.Sequential(
        nn.Linear(3, 24), activation, nn.Linear(24, 12), nn.Softplus(beta=2.0), nn.Linear(12, 1)
    )
    state = {
        k: torch.from_numpy(rng.normal(0, 0.4, tuple(v.shape)).astype(np.float32))
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(state)
    return model


model = build(nn.SiLU())
loader = DataLoader(
    dataset, batch_sampler=BatchSampler(SequentialSampler(dataset), batch_size=16, drop_last=False)
)
loss_fn = nn.HuberLoss(delta=0.5)
opt = optim.RAdam(model.parameters(), lr=0.02, weight_decay=0.01)
warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=3)
restarts = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.001)
sched = optim.lr_scheduler.SequentialLR(opt, [warmup, restarts], milestones=[3])

history = []
for _ in range(15):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    sched.step()
    history.append([total / len(dataset), sched.get_last_lr()[0]])

second = build(nn.ELU(alpha=0.7))
opt2 = optim.Adadelta(second.parameters(), lr=0.5, rho=0.85)
second_losses = []
for _ in range(25):
    opt2.zero_grad()
    loss = nn.SmoothL1Loss(beta=0.3)(second(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    nn.utils.clip_grad_value_(second.parameters(), clip_value=0.2)
    opt2.step()
    second_losses.append(loss.item())

with torch.no_grad():
    inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
    report = {
        "l1": nn.L1Loss()(model(inputs), targets).item(),
        "smooth_l1": nn.SmoothL1Loss(beta=0.25, reduction="sum")(model(inputs), targets).item(),
        "second_l1": nn.L1Loss()(second(inputs), targets).item(),
    }

print(json.dumps({"history": history, "second": second_losses, **report}))
