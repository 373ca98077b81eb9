"""A tiny token tagger, written for PyTorch: Embedding → LayerNorm → GELU MLP over every position, trained
with a class-weighted, label-smoothed cross-entropy on (N, C, L) logits whose padding positions carry the
ignore_index; NAdam with OneCycleLR stepped per batch and gradient-norm clipping."""

import json

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

VOCAB, TAGS, LENGTH, PAD = 12, 4, 6, -100


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=0)
        self.norm = nn.LayerNorm(8)
        self.hidden = nn.Linear(8, 16)
        self.act = nn.GELU(approximate="tanh")
        self.out = nn.Linear(16, TAGS)

    def forward(self, tokens):
        h = self.norm(self.embed(tokens))
        return self.out(self.act(self.hidden(h))).permute(0, 2, 1)  # (N, C, L) as cross_entropy wants


rng = np.random.default_rng(0)
tokens = rng.integers(1, VOCAB, (48, LENGTH))
tokens[:, 4:][rng.random((48, 2)) < 0.5] = 0  # padding at the ends
tags = tokens % TAGS
tags[tokens == 0] = PAD

model = Tagger().to("cpu")
state = {
    k: torch.from_numpy(rng.uniform(-0.6, 0.6, tuple(v.shape)).astype(np.float32))
    for k, v in model.state_dict().items()
}
model.load_state_dict(state)

loader = DataLoader(
    TensorDataset(torch.from_numpy(tokens), torch.from_numpy(tags)),
    batch_size=8,
    num_workers=2,
    pin_memory=True,
)
loss_fn = nn.CrossEntropyLoss(
    weight=torch.tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=PAD, label_smoothing=0.05
)
opt = optim.NAdam(model.parameters(), lr=0.01, weight_decay=1e-4)
epochs = 4
sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, epochs=epochs, steps_per_epoch=len(loader))

losses, norms, rates = [], [], []
for _ in range(epochs):
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
        opt.step()
        sched.step()
        losses.append(loss.item())
        rates.append(sched.get_last_lr()[0])

model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(tokens))
    unweighted = F.cross_entropy(logits, torch.from_numpy(tags), ignore_index=PAD, reduction="sum").item()
    pred = logits.argmax(1)
    mask = torch.from_numpy(tags != PAD)
    correct = ((pred == torch.from_numpy(tags)).float() * mask.float()).sum().item()

print(
    json.dumps(
        {"losses": losses, "norms": norms, "rates": rates, "unweighted": unweighted, "correct": correct}
    )
)
