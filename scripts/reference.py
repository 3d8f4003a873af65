"""Train, evaluate and compare thesis cases at one scale: `eval.reference.main` (console script
`jaxsynth-reference`); see --help."""

import sys

from eval.reference import main

if __name__ == "__main__":
    sys.exit(main())
