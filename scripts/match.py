"""Sound matching, the closest torchsynth Voice patch to a WAV: `matching.cli.main` (console script
`jaxsynth-match`); see --help."""

import sys

from matching.cli import main

if __name__ == "__main__":
    sys.exit(main())
