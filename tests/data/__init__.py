"""Tests of numnet.data."""
