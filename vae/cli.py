"""Command-line entry points of the training side: `train`, `make_dataset`.

Each `*_main(argv)` parses argv (None: sys.argv[1:]) and returns the exit status; they are the
console scripts of pyproject.toml (`jaxsynth-train`, `jaxsynth-make-dataset`) and what
`scripts/train.py` and `scripts/make_dataset.py` run. The demo trains and evaluates: `eval.demo`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from common.bounds import SettingError
from vae import data, flags, run_files, settings, train
from common.help import (EXIT_BAD_INPUT, EXIT_NON_FINITE, HelpFormatter, Parser, check_writable_dir, os_error_message,
                         report_error, resource_problem)


def train_main(argv: list[str] | None = None) -> int:
    """Trains a run (`vae.settings` resolves the flags, `vae.train` trains); see `--help`.

    A new run is checked whole before anything is written or deleted (`_start`): a rejected start
    leaves the file system as it was. Bad input exits 2 with one line naming the flag or file.
    """
    p = flags.parser()
    args = vars(p.parse_args(argv))
    quiet = args.get("quiet", False)
    devices = args.get("devices")
    if args.get("data_parallel") and devices is None:
        import jax

        devices = jax.local_device_count()
    out = None
    try:
        if args.get("resume"):
            if "out" not in args:
                p.error("--resume needs --out RUN_DIR")
            extra = sorted(set(args) - {"resume", "out", "quiet", "devices", "data_parallel", "tensorboard"})
            if extra:
                p.error("--resume continues with the run's saved config.json; drop "
                        + ", ".join(map(flags.flag, extra)))
            out = Path(args["out"])
            config = run_files.load_config(out)
            print(f"resuming {out} (case {config.case}, scale {config.scale})")
            with _epoch_writer(args) as on_epoch:
                result = train.train(config, out, data.load(config.dataset_path, progress=not quiet), resume=True,
                                     show_progress=not quiet, devices=devices, on_epoch=on_epoch)
        else:
            out, config, dataset = _start(p, args, devices, quiet)
            made = not out.exists()
            try:
                with _epoch_writer(args) as on_epoch:
                    result = train.train(config, out, dataset, show_progress=not quiet, devices=devices,
                                         on_epoch=on_epoch, checked=True)
            except Exception as e:
                if resource_problem(e) and _discard_unstarted(out, made):
                    print(f"error: {resource_problem(e)} before the first checkpoint; the run's files were removed: "
                          "free memory or space (or lower --batch-size / the model's size) and start again",
                          file=sys.stderr)
                    return EXIT_BAD_INPUT
                raise
    except Exception as e:
        return training_error(e, out)
    print("\n".join(done_lines(result)))
    return 0


def train_or_resume(out: Path, resolved: settings.Resolved | None, progress: bool = False,
                    overwrite: bool = False) -> int:
    """Trains `resolved` settings into a new run at `out` (with `overwrite`, replacing a run there once they are
    checked), or (None) resumes the run there, printing what the CLI prints; the exit status (`training_error`).
    For scripts that train runs in Python."""
    try:
        if resolved is None:
            config = run_files.load_config(out)
            print(f"resuming {out} (case {config.case}, scale {config.scale})")
            dataset = data.load(config.dataset_path, progress=progress)
        else:
            print("\n".join(flags.expansions(resolved)))
            dataset, config = settings.dataset_and_config(resolved, progress=progress)
            if overwrite and out.is_dir() and any(out.iterdir()):
                run_files.clear_run(out)
            print(start_line(out, config, dataset))
        result = train.train(config, out, dataset, resume=resolved is None, show_progress=progress)
    except Exception as e:
        return training_error(e, out)
    print("\n".join(done_lines(result)))
    return 0


def start_line(out: Path, config, dataset: data.Dataset) -> str:
    """What a new run prints before training: its folder, model, loss, splits, audio and phases."""
    return (f"run {out}: {config.model}, loss {config.loss.spectral}/{config.loss.feature}, "
            f"{len(dataset.train)}/{len(dataset.val)}/{len(dataset.test)} patches, "
            f"{config.synth.sample_rate} Hz x {config.synth.buffer_size_seconds} s, "
            f"phases {[(ph.name, ph.max_epochs) for ph in config.phases]}")


def done_lines(result: train.TrainResult) -> list[str]:
    """What a finished training prints: steps, the best validation objective and where the run's files are."""
    paths = run_files.RunPaths(result.run_dir)
    best = "n/a (no epoch finished)" if result.best_val is None else f"{result.best_val:.6g}"
    return [f"done: {result.step} steps, best val objective {best}"] + [
        f"  {label:12s} {path}" for label, path in (("config", paths.config), ("checkpoints", paths.checkpoints),
                                                     ("metrics", paths.metrics), ("loss curve", paths.curve))]


def training_error(e: Exception, out: Path | None) -> int:
    """One line on stderr for a failed start, resume or training, with what to do; the exit status (3 for a
    non-finite loss, 2 for bad input; re-raises the unexpected). Out of memory and a full disk
    (`resource_problem`, also when orbax or XLA wrap them) say to --resume."""
    if isinstance(e, train.NonFiniteLossError):
        print(f"error: {e}", file=sys.stderr)
        return EXIT_NON_FINITE
    resume = (f"finished epochs are kept: fix it and continue with --resume --out {out}"
              if out is not None and run_files.RunPaths(out).config.exists() else "choose another --out")
    first = str(e).splitlines()[0][:160] if str(e) else ""
    return report_error(e, resource=lambda problem: f"{problem} ({type(e).__name__}: {first}); free memory or disk "
                                                    f"space; {resume}",
                        os_hint=resume, told=(ValueError, FileNotFoundError, FileExistsError),
                        describe=lambda err: flags.describe(err) if isinstance(err, SettingError) else str(err))


def _discard_unstarted(out: Path, made: bool) -> bool:
    """Deletes a new run that failed before its first checkpoint: its own files (`run_files.clear_run`), and the
    folder when this start made it. False (nothing deleted) once a checkpoint exists or the folder is not a run's."""
    latest = run_files.RunPaths(out).checkpoints / "latest"
    if latest.is_dir() and any(p.name.isdigit() for p in latest.iterdir()):
        return False
    try:
        run_files.clear_run(out)
        if made:
            out.rmdir()
    except (run_files.RunFileError, OSError):
        return False
    return True


@contextlib.contextmanager
def _epoch_writer(args: dict):
    """The TensorBoard writer of --tensorboard DIR (closed at the end), or None without the flag."""
    if not args.get("tensorboard"):
        yield None
        return
    from vae.tensorboard import EpochWriter

    writer = EpochWriter(args["tensorboard"])
    try:
        yield writer
    finally:
        writer.close()


def _start(p: argparse.ArgumentParser, args: dict, devices, quiet: bool):
    """(run directory, RunConfig, Dataset) of a new run, after every check (`vae.settings.check` before the dataset,
    `train.check_start` with it); only then a generated dataset is saved and an --overwrite'n run deleted.
    Errors are SettingError, ValueError or FileNotFoundError naming the flag."""
    resolved = settings.resolve(flags.explicit(args))
    for line in flags.expansions(resolved):
        print(line)
    settings.check(resolved)
    out = Path(args["out"]) if "out" in args else settings.default_run_dir(resolved)
    check_writable_dir(out, "--out")
    overwrite = out.exists() and any(out.iterdir())
    if overwrite:
        if not args.get("overwrite"):
            p.error(f"{out} is not empty: pass --resume to continue it or --overwrite to start over")
        run_files.check_overwritable(out)
    path = settings.dataset_path(resolved.settings)
    generate = not path.exists()
    if generate and resolved.settings["data"]:
        raise FileNotFoundError(f"--data {path} does not exist: check the path, make the dataset with "
                                "scripts/make_dataset.py --out, or leave out --data to use the default one")
    if generate:
        check_writable_dir(path.parent, "the dataset folder")
        dataset = data.generate(settings.data_config(resolved.settings))
    else:
        dataset = data.load(path, progress=not quiet)
    config = settings.build_config(resolved, dataset, path)
    train.check_start(config, dataset, devices)
    if generate:
        npz, js = data.save(dataset, path, progress=not quiet)
        print(f"generated {len(dataset.train) + len(dataset.val) + len(dataset.test)} patches ({dataset.size} "
              f"parameters, seed {dataset.seed}) -> {npz}, {js}")
    if overwrite:
        run_files.clear_run(out)
    print(start_line(out, config, dataset))
    if devices is not None:
        print(f"data parallel over {devices} devices")
    return out, config, dataset


MAKE_DATASET_EXAMPLES = """examples:
  %(prog)s                                          # 140,000 patches, 63 parameters, seed 0
  %(prog)s --all-params --out data/voice78
  %(prog)s --n-patches 2000 --split 1600 200 200 --out data/quick
  %(prog)s --check data/voice63.json                # validate an existing file
"""


def make_dataset_parser() -> argparse.ArgumentParser:
    p = Parser(
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
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing dataset of that name (runs trained on it then refuse to resume or "
                        "evaluate: they record its fingerprint)")
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
        out = args.out or data.default_path(config)
        existing = [str(f) for f in data.paths(out) if f.exists()]
        if existing and not args.overwrite:
            print(f"error: {', '.join(existing)} already exist(s); runs trained on a dataset need it unchanged: "
                  "choose another --out, or pass --overwrite to replace it", file=sys.stderr)
            return EXIT_BAD_INPUT
        check_writable_dir(data.paths(out)[0].parent, "--out")
        dataset = data.generate(config)
        npz, js = data.save(dataset, out, progress=not args.quiet)
    except ValueError as e:
        print(f"error: {flags.describe(e) if isinstance(e, SettingError) else e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"error: {os_error_message(e, 'choose another --out')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{config.n_patches} patches ({dataset.size} free parameters; counts {dataset.counts}; seed {config.seed})")
    print(f"  training file  {npz}\n  JSON (physical values) {js}")
    return 0
