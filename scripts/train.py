"""Train a SynthParam-VAE; presets and flags in `vae.presets`, training in `vae.train`.

  python scripts/train.py --loss sclp --feature mfcc                    # thesis defaults
  python scripts/train.py --case Exp2-LMSL-ts                           # a thesis case
  python scripts/train.py --scale quick --loss sclp --feature mfcc --out runs/quick
  python scripts/train.py --resume --out runs/quick                     # continue a stopped run
  python scripts/train.py --scale quick --data-parallel --out runs/dp     # batch split over all devices
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from vae import data, presets, run, train


def main(argv: list[str] | None = None) -> int:
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
            config = run.load_config(out)
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
                if not run.RunPaths(out).config.exists():
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
        return 3
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    paths = run.RunPaths(result.run_dir)
    print(f"done: {result.step} steps, best val loss {result.best_val:.6g}")
    for label, path in (("config", paths.config), ("checkpoints", paths.checkpoints), ("metrics", paths.metrics),
                        ("loss curve", paths.curve)):
        print(f"  {label:12s} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
