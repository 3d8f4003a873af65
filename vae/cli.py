"""Command-line entry points of the training side: `train`, `make_dataset`.

Each `*_main(argv)` parses argv (None: sys.argv[1:]) and returns the exit status; they are the
console scripts of pyproject.toml (`jaxsynth-train`, `jaxsynth-make-dataset`) and what
`scripts/train.py` and `scripts/make_dataset.py` run. The demo trains and evaluates: `eval.demo`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from vae import data, presets, run, run_files, train
from vae.help import HelpFormatter

# Exit statuses: 2 bad input (arguments, files), 3 a loss went non-finite.
EXIT_BAD_INPUT, EXIT_NON_FINITE = 2, 3


def train_main(argv: list[str] | None = None) -> int:
    """Trains a run (`vae.presets` resolves the flags, `vae.train` trains); see `--help`."""
    p = presets.parser()
    args = vars(p.parse_args(argv))
    quiet = args.get("quiet", False)
    devices = args.get("devices")
    if args.get("data_parallel") and devices is None:
        import jax

        devices = jax.local_device_count()
    try:
        if args.get("resume"):
            if "out" not in args:
                p.error("--resume needs --out RUN_DIR")
            extra = sorted(set(args) - {"resume", "out", "quiet", "devices", "data_parallel"})
            if extra:
                flags = ", ".join("--" + k.replace("_", "-") for k in extra)
                p.error(f"--resume continues with the run's saved config.json; drop {flags}")
            out = Path(args["out"])
            config = run_files.load_config(out)
            print(f"resuming {out} (case {config.case}, scale {config.scale})")
            result = train.train(config, out, data.load(config.dataset_path, progress=not quiet), resume=True,
                                 show_progress=not quiet, devices=devices)
        else:
            resolved = presets.resolve(args)
            for line in resolved.expansions:
                print(line)
            out = Path(args["out"]) if "out" in args else presets.default_run_dir(resolved)
            if out.exists() and any(out.iterdir()):
                if not args.get("overwrite"):
                    p.error(f"{out} is not empty: pass --resume to continue it or --overwrite to start over")
                if not run_files.RunPaths(out).config.exists():
                    p.error(f"refusing to --overwrite {out}: it is not a run directory (no config.json)")
                shutil.rmtree(out)
            path = presets.dataset_path(resolved.settings)
            dataset = data.load_or_generate(path, presets.data_config(resolved.settings), progress=not quiet)
            config = presets.build_config(resolved, dataset, path)
            print(f"run {out}: {config.model}, loss {config.loss.spectral}/{config.loss.feature}, "
                  f"{len(dataset.train)}/{len(dataset.val)}/{len(dataset.test)} patches, "
                  f"{config.synth.sample_rate} Hz x {config.synth.buffer_size_seconds} s, "
                  f"phases {[(ph.name, ph.max_epochs) for ph in config.phases]}")
            if devices is not None:
                print(f"data parallel over {devices} devices")
            result = train.train(config, out, dataset, show_progress=not quiet, devices=devices)
    except train.NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_NON_FINITE
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    paths = run_files.RunPaths(result.run_dir)
    print(f"done: {result.step} steps, best val loss {result.best_val:.6g}")
    for label, path in (("config", paths.config), ("checkpoints", paths.checkpoints), ("metrics", paths.metrics),
                        ("loss curve", paths.curve)):
        print(f"  {label:12s} {path}")
    return 0


MAKE_DATASET_EXAMPLES = """examples:
  %(prog)s                                          # 140,000 patches, 63 parameters, seed 0
  %(prog)s --all-params --out data/voice78
  %(prog)s --n-patches 2000 --split 1600 200 200 --out data/quick
  %(prog)s --check data/voice63.json                # validate an existing file
"""


def make_dataset_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Generate a dataset of random Voice patches (thesis section 4.1) as NAME.json + NAME.npz.",
        epilog=MAKE_DATASET_EXAMPLES, formatter_class=HelpFormatter)
    defaults = data.DataConfig()
    p.add_argument("--n-patches", type=int, default=defaults.n_patches, help="patches in all three splits")
    p.add_argument("--split", type=int, nargs=3, default=list(defaults.split), metavar=("TRAIN", "VAL", "TEST"),
                   help="patches per split (they sum to --n-patches)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the draw and of the split")
    p.add_argument("--all-params", action="store_true",
                   help=f"all {data.n_free(True)} parameters instead of the thesis's {data.n_free()}")
    p.add_argument("--out", help="output path without suffix (default data/voice<k>_<split>_seed<s>)")
    p.add_argument("--check", metavar="FILE", help="only load and validate FILE (.npz or .json)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def make_dataset_main(argv: list[str] | None = None) -> int:
    """Generates (or with --check validates) a dataset file; see `--help`."""
    args = make_dataset_parser().parse_args(argv)
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
        return EXIT_BAD_INPUT
    print(f"{config.n_patches} patches ({dataset.size} free parameters; counts {dataset.counts}; seed {config.seed})")
    print(f"  training file  {npz}\n  JSON (physical values) {js}")
    return 0
