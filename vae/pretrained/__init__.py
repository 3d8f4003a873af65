"""The shipped timbre space, and how a trained run becomes one.

`DEFAULT_RUN` is an exported run (16 kHz x 1 s, the timbre objective; its training and measures are in
results/timbre.md) that `scripts/explore.py` opens when given no run and that `vae.run.load_run` loads like
any other: config.json, weights.npz (the best checkpoint's weights, no optimizer state), dataset.npz and the
evaluation's map (eval/latent/*.npy, so the explorer opens without computing UMAP).

    python -m vae.pretrained RUN_DIR DEST   # export RUN_DIR's best checkpoint to DEST (a new folder)
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

DEFAULT_RUN = Path(__file__).resolve().parent / "timbre-16k"
DATASET_FILE = "dataset.npz"


def export(run_dir: str | Path, dest: str | Path) -> Path:
    """Writes the best checkpoint of RUN_DIR as an exported run in DEST (which must not exist): config.json with
    the dataset beside it (relative path), weights.npz, a copy of the dataset's .npz and RUN_DIR/eval/latent's
    map files when the run was evaluated (`scripts/evaluate.py`; the explorer checks they fit the weights)."""
    from vae import data, run_files
    from vae import run as run_lib

    dest = Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest} exists; export to a new folder")
    run = run_lib.load_run(run_dir)
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shutil.copyfile(data.paths(run.config.dataset_path)[0], tmp / DATASET_FILE)
    run_files.save_weights(tmp, run.params["params"], run.step)
    config = dataclasses.replace(run.config, dataset_path=DATASET_FILE, dataset_sha256=data.fingerprint(run.dataset))
    run_files.write_config(tmp, config)
    evaluated = Path(run_dir) / run_files.MAP_FOLDER
    if evaluated.is_dir():
        (tmp / run_files.MAP_FOLDER).mkdir(parents=True)
        for f in sorted(evaluated.glob("*.npy")):
            shutil.copyfile(f, tmp / run_files.MAP_FOLDER / f.name)
    tmp.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    """`python -m vae.pretrained RUN_DIR DEST`."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m vae.pretrained RUN_DIR DEST", file=sys.stderr)
        return 2
    try:
        print(f"exported {argv[0]} to {export(*argv)}")
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
