"""The main job (`make demo`): `vae.cli.demo_main` (console script `jaxsynth-demo`), a quick-scale run
trained into runs/demo and reloaded to report its test reconstruction error."""

import sys

from vae.cli import demo_main as main

if __name__ == "__main__":
    sys.exit(main())
