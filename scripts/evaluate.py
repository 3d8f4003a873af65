"""Evaluate a trained run: `eval.cli.evaluate_main` (console script `jaxsynth-evaluate`); see --help."""

import sys

from eval.cli import evaluate_main as main

if __name__ == "__main__":
    sys.exit(main())
