"""Generate a dataset of random Voice patches: `vae.cli.make_dataset_main` (`jaxsynth-make-dataset`); see --help."""

import sys

from vae.cli import make_dataset_main as main

if __name__ == "__main__":
    sys.exit(main())
