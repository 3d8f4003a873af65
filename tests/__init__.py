"""The test suite: one folder per package, project/ for checks of the whole checkout (a package, so that test
modules of the same name in two folders stay apart and a folder never shadows the package it tests)."""
