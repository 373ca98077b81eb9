"""PyTorch-style scripts that use nn, optim and data, run with their imports renamed."""
