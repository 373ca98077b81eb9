"""Attacks on every way data enters numnet."""
