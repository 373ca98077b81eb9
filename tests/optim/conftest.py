"""Tests compare with PyTorch on tiny tensors: one torch thread is fastest and avoids contention."""

import torch

torch.set_num_threads(1)
