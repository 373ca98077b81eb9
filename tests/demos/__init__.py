"""Tests of numnet.demos."""
