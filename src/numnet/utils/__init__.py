"""PyTorch's ``torch.utils`` namespace: ``numnet.utils.data`` (datasets, samplers and the ``DataLoader``)."""

from numnet.utils import data

__all__ = ["data"]
