"""Tests of numnet.cli."""
