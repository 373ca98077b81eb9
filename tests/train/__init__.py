"""Tests of numnet.train."""
