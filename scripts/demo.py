"""The main job (`make demo`): `eval.demo.main` (console script `jaxsynth-demo`): trains a quick-scale VAE
that learns into runs/demo, evaluates it and prints it against its baselines."""

import sys

from eval.demo import main

if __name__ == "__main__":
    sys.exit(main())
