"""Tests of numnet.ops, one file per family (a package, so the file names cannot clash with tests/nn)."""
