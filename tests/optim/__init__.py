"""Tests of numnet.optim."""
