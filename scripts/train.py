"""Train a SynthParam-VAE: `vae.cli.train_main` (console script `jaxsynth-train`); see --help."""

import sys

from vae.cli import train_main as main

if __name__ == "__main__":
    sys.exit(main())
