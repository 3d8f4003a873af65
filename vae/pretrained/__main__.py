"""`python -m vae.pretrained RUN_DIR DEST`: export a run (see `vae.pretrained`)."""

import sys

from vae.pretrained import main

sys.exit(main())
