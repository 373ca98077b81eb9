"""Tests of numnet.nn."""
