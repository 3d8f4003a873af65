"""The timbre explorer, a local web page of a trained run's latent space: `explorer.cli.main` (console script
`jaxsynth-explore`); see --help."""

import sys

from explorer.cli import main

if __name__ == "__main__":
    sys.exit(main())
