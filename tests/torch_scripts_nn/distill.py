"""Knowledge distillation, written for PyTorch: a fixed teacher's softened class probabilities train a
student through KLDivLoss(batchmean) mixed with a weighted NLL loss on the labels; Adamax under
ChainedScheduler(ConstantLR warm-up, MultiplicativeLR decay), a RandomSampler-free fixed-order sampler,
and a multi-label head trained with BCEWithLogitsLoss(weight=...)."""

import json

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, Subset, TensorDataset

CLASSES, T = 3, 2.0
rng = np.random.default_rng(2)
x = rng.normal(0, 1, (60, 5)).astype(np.float32)
labels = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8).astype(np.int64)
flags = np.stack([x[:, 3] > 0, x[:, 4] > 0.5], axis=1).astype(np.float32)


def init(model):
    state = {
        k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(state)
    return model


teacher = init(nn.Sequential(nn.Linear(5, 32), nn.GELU(), nn.Linear(32, CLASSES)))
student = init(nn.Sequential(nn.Linear(5, 8), nn.SiLU(), nn.Linear(8, CLASSES + 2)))

data = TensorDataset(torch.from_numpy(x), torch.from_numpy(labels), torch.from_numpy(flags))
train = Subset(data, list(range(0, 60, 2)) + list(range(1, 60, 2)))
order = [int(i) for i in np.random.default_rng(3).permutation(len(train))]
loader = DataLoader(train, batch_size=10, sampler=order)

kl = nn.KLDivLoss(reduction="batchmean")
nll = nn.NLLLoss(weight=torch.tensor([1.0, 0.5, 2.0]))
bce = nn.BCEWithLogitsLoss(weight=torch.tensor([1.0, 3.0]))
opt = optim.Adamax(student.parameters(), lr=0.05, betas=(0.8, 0.99))
sched = optim.lr_scheduler.ChainedScheduler(
    [
        optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2),
        optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.9),
    ]
)

log = []
for _ in range(8):
    for xb, yb, fb in loader:
        with torch.no_grad():
            soft = F.softmax(teacher(xb) / T, dim=1)
        out = student(xb)
        logits, flag_logits = out[:, :CLASSES], out[:, CLASSES:]
        log_p = F.log_softmax(logits / T, dim=1)
        loss = kl(log_p, soft) * T * T + nll(F.log_softmax(logits, dim=1), yb) + bce(flag_logits, fb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.append(loss.item())
    sched.step()

with torch.no_grad():
    out = student(torch.from_numpy(x))
    agree = (out[:, :CLASSES].argmax(1) == teacher(torch.from_numpy(x)).argmax(1)).float().mean().item()
    kl_sum = F.kl_div(
        F.log_softmax(out[:, :CLASSES], dim=1),
        F.softmax(teacher(torch.from_numpy(x)), dim=1),
        reduction="sum",
    ).item()

print(json.dumps({"losses": log, "agree": agree, "kl_sum": kl_sum, "lr": sched.get_last_lr()[0]}))
