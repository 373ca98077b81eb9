"""Tests of numnet.plot."""
