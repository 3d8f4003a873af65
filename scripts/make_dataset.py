"""Generate a dataset of random Voice patches (thesis section 4.1) as NAME.json + NAME.npz.

  python scripts/make_dataset.py                          # 140,000 patches, 63 parameters, seed 0
  python scripts/make_dataset.py --all-params --out data/voice78
  python scripts/make_dataset.py --n-patches 2000 --split 1600 200 200 --out data/quick
  python scripts/make_dataset.py --check data/voice63.json  # validate an existing file
"""

from __future__ import annotations

import argparse
import sys

from vae import data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    defaults = data.DataConfig()
    p.add_argument("--n-patches", type=int, default=defaults.n_patches)
    p.add_argument("--split", type=int, nargs=3, default=list(defaults.split), metavar=("TRAIN", "VAL", "TEST"))
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the draw and of the split")
    p.add_argument("--all-params", action="store_true", help="all 78 parameters instead of the thesis's 63")
    p.add_argument("--out", help="output path without suffix (default data/voice<k>_<split>_seed<s>)")
    p.add_argument("--check", metavar="FILE", help="only load and validate FILE (.npz or .json)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    try:
        if args.check:
            dataset = data.load(args.check, progress=not args.quiet)
            print(f"{args.check}: ok, {dataset.size} parameters, counts {dataset.counts}, seed {dataset.seed}")
            return 0
        config = data.DataConfig(args.n_patches, tuple(args.split), args.seed, args.all_params)
        dataset = data.generate(config)
        out = args.out or data.default_path(config)
        npz, js = data.save(dataset, out, progress=not args.quiet)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{config.n_patches} patches ({dataset.size} free parameters; counts {dataset.counts}; seed {config.seed})")
    print(f"  training file  {npz}\n  JSON (physical values) {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
