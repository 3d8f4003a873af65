"""Compare evaluated runs: `eval.cli.compare_main` (console script `jaxsynth-compare`); see --help."""

import sys

from eval.cli import compare_main as main

if __name__ == "__main__":
    sys.exit(main())
