"""Layer 5: optimizers and learning-rate schedulers, with PyTorch's API and update rules.

::

    from numnet import optim

    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()

Every optimizer updates ``p.data`` in place from ``p.grad`` (which it never modifies), keeps its per-parameter
buffers in ``opt.state``, and saves/restores them with ``state_dict()``/``load_state_dict()`` in PyTorch's
layout (parameter indices, plain numbers and ndarrays: JSON + npz, no pickle).
"""

from numnet.optim import lr_scheduler
from numnet.optim.adadelta import Adadelta
from numnet.optim.adagrad import Adagrad
from numnet.optim.adam import Adam, AdamW
from numnet.optim.adamax import Adamax
from numnet.optim.factory import OPTIMIZERS, create_optimizer
from numnet.optim.nadam import NAdam
from numnet.optim.optimizer import Optimizer
from numnet.optim.radam import RAdam
from numnet.optim.rmsprop import RMSprop
from numnet.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "create_optimizer",
    "lr_scheduler",
]
