"""The files of a run directory: paths, config.json, orbax checkpoints, metrics and the loss curve.

RUN_DIR/
  config.json        `vae.config.RunConfig` as JSON, written once at the start: model, synth config,
                     parameter subset (free names and frozen values), feature config, loss names,
                     phases with their beta as given (null: calibrated at the phase start, then
                     logged in metrics; older runs hold the calibrated value), seeds, dataset path.
                     `load_config` rebuilds it.
  checkpoints/best/STEP/, checkpoints/latest/STEP/
                     orbax checkpoints, each with items `params` (Flax variables),
                     `opt_state` (optax) and `progress` (JSON: step, phase, epoch, batch, RNG,
                     early-stopping state, beta, partial-epoch sums).
  metrics.jsonl      one JSON object per epoch (every loss term for train and val, beta, lr,
                     time), appended at each epoch's end; metrics.csv holds the same table.
  loss_curve.png     train/val curves of every term, phases marked.
  failure.json       only if a loss went non-finite: step and the bad terms.

Every file here is written atomically (`common.atomic`), so a kill at any moment leaves each one
whole, except that training appends each epoch's line to metrics.jsonl and metrics.csv: a kill then
leaves at most a torn last line, which a resume cuts off. A file damaged otherwise is reported by
name (`RunFileError`) with what to do.
`--overwrite` deletes only these entries (`clear_run`), and only from a folder that holds
nothing else.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from common import atomic
from vae.config import RunConfig, from_json, to_json


class RunFileError(ValueError):
    """A run directory's file is missing, damaged or inconsistent; the message names it and what to do."""


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """The files of a run directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def metrics_csv(self) -> Path:
        return self.root / "metrics.csv"

    @property
    def curve(self) -> Path:
        return self.root / "loss_curve.png"

    @property
    def failure(self) -> Path:
        return self.root / "failure.json"


# What a run writes in its directory (`clear_run` deletes nothing else); eval/ is scripts/evaluate.py's.
RUN_ENTRIES = ("config.json", "checkpoints", "metrics.jsonl", "metrics.csv", "loss_curve.png", "failure.json",
               "eval")
# A directory is a run when it holds config.json and at least one of these besides.
_RUN_EVIDENCE = ("checkpoints", "metrics.jsonl")


def write_config(run_dir: str | Path, config: RunConfig) -> None:
    atomic.write_text(RunPaths(Path(run_dir)).config, to_json(config) + "\n")


def load_config(run_dir: str | Path) -> RunConfig:
    """The run's `RunConfig`; `RunFileError` naming config.json if it is missing or damaged."""
    path = RunPaths(Path(run_dir)).config
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {run_dir} is not a run directory")
    try:
        return from_json(path.read_text())
    except (ValueError, TypeError, KeyError) as e:
        raise RunFileError(f"{path} is damaged or not a run config ({type(e).__name__}: {e}); restore it from a "
                           f"copy, or start the run over with --overwrite") from None


def foreign_entries(run_dir: str | Path) -> list[str]:
    """Names in run_dir that a run did not write (an atomic write's leftover temporary files count as the
    run's); empty for a run directory."""
    names = (p.name for p in Path(run_dir).iterdir())
    return sorted(n for n in names if n not in RUN_ENTRIES and not atomic.is_temporary(n))


def check_overwritable(run_dir: str | Path) -> None:
    """Raises `RunFileError` unless run_dir is a previous run that --overwrite may delete: config.json
    plus checkpoints or metrics, and nothing a run does not write."""
    root = Path(run_dir)
    present = {p.name for p in root.iterdir()}
    foreign = foreign_entries(root)
    if "config.json" not in present or not present & set(_RUN_EVIDENCE) or foreign:
        why = (f"it also holds {foreign[:10]}{' ...' if len(foreign) > 10 else ''}, which a run does not write"
               if foreign else "it lacks config.json with checkpoints/ or metrics.jsonl")
        raise RunFileError(f"refusing to --overwrite {root}: it is not a run directory ({why}); "
                           "choose another --out, or move those files away first")


def remove_temporaries(run_dir: str | Path) -> None:
    """Deletes what atomic writes killed mid-way left in run_dir (their targets are whole; see `common.atomic`)."""
    for path in Path(run_dir).iterdir():
        if atomic.is_temporary(path.name) and path.is_file():
            path.unlink()


def clear_run(run_dir: str | Path) -> None:
    """Deletes a previous run's files from run_dir (for --overwrite) after `check_overwritable`."""
    import shutil

    root = Path(run_dir)
    check_overwritable(root)
    for name in sorted(p.name for p in root.iterdir()):
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


# ---------------------------------------------------------------- checkpoints

CHECKPOINT_KINDS = ("best", "latest")


class _ReadOnlyNotices(logging.Filter):
    """Drops orbax's absl warnings that a read-only manager is read-only (two per checkpoint load: they are
    how loading is meant to work, not a problem)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("read_only=True" in message or "directory is read only" in message)


logging.getLogger("absl").addFilter(_ReadOnlyNotices())


def checkpoint_manager(run_dir: str | Path, which: str, read_only: bool = False) -> ocp.CheckpointManager:
    """Synchronous orbax manager of RUN_DIR/checkpoints/{best,latest} (keeps the last 2).

    read_only: for loading; creates no folder, and a missing one is a `FileNotFoundError` naming it.
    Close the manager (`manager.close()`) on every path, errors included: an open one makes orbax
    fail at interpreter exit.
    """
    if which not in CHECKPOINT_KINDS:
        raise ValueError(f"unknown checkpoint {which!r}; valid: {list(CHECKPOINT_KINDS)}")
    directory = (RunPaths(Path(run_dir)).checkpoints / which).absolute()
    if read_only:
        if not directory.is_dir():
            raise FileNotFoundError(f"{run_dir} has no {which!r} checkpoint ({directory} does not exist); "
                                    "train it (or --resume it) with scripts/train.py first")
        options = ocp.CheckpointManagerOptions(enable_async_checkpointing=False, create=False, read_only=True)
    else:
        options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=False,
                                               cleanup_tmp_directories=True)
    return ocp.CheckpointManager(directory, options=options, item_names=("params", "opt_state", "progress"))


def save_checkpoint(manager: ocp.CheckpointManager, step: int, params, opt_state, progress: dict) -> None:
    """Saves model params, optimizer state and the JSON progress record at `step`."""
    if step in manager.all_steps():
        manager.delete(step)
    manager.save(step, args=ocp.args.Composite(
        params=ocp.args.StandardSave(params),
        opt_state=ocp.args.StandardSave(opt_state),
        progress=ocp.args.JsonSave(progress),
    ))


def restore_checkpoint(manager: ocp.CheckpointManager, step: int | None = None, params_like=None, opt_state_like=None):
    """(params, opt_state, progress) at `step` (default newest); states typed like the `*_like` trees.

    Without `params_like` params come back as saved (nested dicts); without `opt_state_like`
    the optimizer state is not read (None).
    """
    step = manager.latest_step() if step is None else step
    if step is None:
        raise FileNotFoundError(f"no checkpoint in {manager.directory}")
    items = {"params": ocp.args.StandardRestore(_abstract(params_like)), "progress": ocp.args.JsonRestore()}
    if opt_state_like is not None:
        items["opt_state"] = ocp.args.StandardRestore(_abstract(opt_state_like))
    try:
        out = manager.restore(step, args=ocp.args.Composite(**items))
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - orbax / TensorStore raise many kinds for a damaged or mismatched file.
        raise RunFileError(f"checkpoint {Path(manager.directory) / str(step)} could not be read ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200] if str(e) else ''}): it is damaged, or config.json was "
                           "changed since it was saved; restore both from a copy, or start the run over with "
                           "--overwrite") from None
    params = out["params"] if params_like is None else _like(params_like, out["params"])
    opt_state = None if opt_state_like is None else _like(opt_state_like, out["opt_state"])
    return params, opt_state, out["progress"]


def _abstract(tree):
    return None if tree is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)


def _like(reference, restored):
    """Restored leaves in the reference's tree structure (orbax returns plain tuples for namedtuples).

    Leaves go through host memory so they come back uncommitted, like freshly created arrays:
    orbax's device-committed arrays would make the jitted steps compile a second time.
    """
    leaves = [jnp.asarray(np.asarray(x)) for x in jax.tree.leaves(restored)]
    return jax.tree.unflatten(jax.tree.structure(reference), leaves)


# -------------------------------------------------------------------- metrics


def read_metrics(run_dir: str | Path, *, torn_end_ok: bool = False) -> list[dict]:
    """The records of metrics.jsonl ([] without the file); `RunFileError` naming a damaged line.

    torn_end_ok: leave out a last line that lacks its newline and does not parse (what a kill in the middle of
    `append_metrics` leaves) instead of raising.
    """
    path = RunPaths(Path(run_dir)).metrics
    if not path.exists():
        return []
    text = path.read_text()
    records = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = None if isinstance(record, dict) and {"phase", "epoch", "step"} <= set(record) else \
                "not an epoch record"
        except ValueError as e:
            problem = str(e)
        if problem and torn_end_ok and number == len(lines) and not text.endswith("\n"):
            break
        if problem:
            raise RunFileError(f"{path} line {number} is damaged ({problem}); restore the file from a copy "
                               "(metrics.csv holds the same table), or start the run over with --overwrite")
        records.append(record)
    return records


def write_metrics(run_dir: str | Path, records: list[dict]) -> None:
    """Rewrites metrics.jsonl and metrics.csv with `records` (one per epoch), each atomically."""
    paths = RunPaths(Path(run_dir))
    atomic.write_text(paths.metrics, "".join(_jsonl_line(r) for r in records))
    with atomic.atomic_path(paths.metrics_csv) as tmp, open(tmp, "w", newline="") as f:
        if records:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)


def append_metrics(run_dir: str | Path, record: dict) -> None:
    """Appends one epoch's record to metrics.jsonl and metrics.csv (after the header when the CSV is empty), each
    flushed to disk: the files end as `write_metrics` of all records would write them. A kill mid-append leaves
    at most a torn last line, which a resume cuts off (`read_metrics(torn_end_ok=True)`, then `write_metrics`)."""
    paths = RunPaths(Path(run_dir))
    _append(paths.metrics, _jsonl_line(record))
    header = _csv_header(paths.metrics_csv)
    rows = io.StringIO(newline="")
    writer = csv.DictWriter(rows, fieldnames=header or list(record))
    if not header:
        writer.writeheader()
    writer.writerow(record)
    _append(paths.metrics_csv, rows.getvalue())


def _jsonl_line(record: dict) -> str:
    return json.dumps(record) + "\n"


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file ([] when it is missing or empty)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return next(csv.reader(f), [])


def _append(path: Path, text: str) -> None:
    """Appends `text` to `path` and flushes it to disk."""
    with open(path, "a", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def plot_metrics(records: list[dict], path: str | Path) -> None:
    """Loss-curve PNG: one panel per loss term (train and val against epoch), then the diagnostics
    (`vae.diagnostics`): validation parameter error beside the mean-patch and linear-code references,
    active latent units, and the KL of each latent dimension; phases marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def logged(key):
        return any(r.get(key) is not None for r in records)

    terms = [k[len("train/"):] for k in (records[0] if records else {})
             if k.startswith("train/") and (logged(k) or logged("val/" + k[len("train/"):]))]
    has_diagnostics = bool(records) and "val/param_error" in records[0]
    panels = len(terms) + (3 if has_diagnostics else 0)
    cols = 3
    rows = max(1, math.ceil(panels / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    x = np.arange(1, len(records) + 1)
    starts = [i + 1 for i, r in enumerate(records) if r["epoch"] == 1 and i > 0]

    def series(key):
        return np.array([np.nan if r.get(key) is None else r[key] for r in records], float)

    def draw(ax, lines, title, log=True):
        for label, y in lines:
            ax.plot(x, y, label=label)
        values = np.concatenate([y[np.isfinite(y)] for _, y in lines])
        if log and values.size and np.all(values > 0):
            ax.set_yscale("log")
        for s in starts:
            ax.axvline(s - 0.5, color="gray", linestyle=":", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel("epoch (all phases)")
        ax.legend(fontsize=8)

    flat = list(axes.flat)
    for ax, term in zip(flat, terms):
        lines = [(split, series(f"{split}/{term}")) for split in ("train", "val")]
        if term == "total" and logged("val/objective"):  # What early stopping watches (vae.objective.monitored).
            lines.append(("val objective (early stopping)", series("val/objective")))
        draw(ax, lines, term)
    if has_diagnostics:
        ax_err, ax_au, ax_kl = flat[len(terms):len(terms) + 3]
        draw(ax_err, [("model (from mu)", series("val/param_error")), ("mean patch", series("val/mean_patch_error")),
                      ("linear code", series("val/linear_code_error"))], "val parameter error", log=False)
        draw(ax_au, [("active units", series("val/active_units"))], "active latent units", log=False)
        kl = np.array([r["val/kl_per_dim"] for r in records], float).T
        image = ax_kl.imshow(kl, aspect="auto", origin="lower", extent=(0.5, len(records) + 0.5, -0.5, len(kl) - 0.5))
        fig.colorbar(image, ax=ax_kl, label="nats")
        ax_kl.set_title("val KL per latent dimension")
        ax_kl.set_xlabel("epoch (all phases)")
        ax_kl.set_ylabel("dimension")
    for ax in flat[panels:]:
        ax.axis("off")
    fig.tight_layout()
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


MAP_FOLDER = Path("eval") / "latent"  # Where scripts/evaluate.py writes the latent map that the explorer reuses.
# The map's files in MAP_FOLDER: its training patches (indices into the split), their mu, 2-D positions, labels.
MAP_FILES = ("train_indices.npy", "mu.npy", "umap_embedding.npy", "labels.npy")
WEIGHTS_FILE = "weights.npz"  # An exported run's model weights (`save_weights`), in place of checkpoints/.


def save_weights(run_dir: str | Path, params, step: int) -> Path:
    """Writes RUN_DIR/weights.npz: the Flax params as float32 arrays keyed by their '/'-joined path, and the
    training step. An exported run (`vae.pretrained.export`) ships this instead of its orbax checkpoints."""
    flat = {"/".join(str(getattr(k, "key", k)) for k in path): np.asarray(leaf, np.float32)
            for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]}
    target = Path(run_dir) / WEIGHTS_FILE
    with atomic.atomic_path(target) as tmp, open(tmp, "wb") as f:
        np.savez(f, __step__=np.array(step, np.int64), **flat)
    return target


def load_weights(run_dir: str | Path, params_like) -> tuple[dict, int]:
    """(params shaped like `params_like`, step) from RUN_DIR/weights.npz; RunFileError naming the file when it
    is damaged or does not fit the run's model."""
    path = Path(run_dir) / WEIGHTS_FILE
    try:
        with np.load(path) as f:
            stored = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError) as e:
        raise RunFileError(f"{path} could not be read ({e}); restore it from a copy") from None
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params_like)
    out = []
    for path_keys, like in leaves:
        key = "/".join(str(getattr(k, "key", k)) for k in path_keys)
        if key not in stored or stored[key].shape != np.shape(like):
            raise RunFileError(f"{path} does not fit the model of {Path(run_dir) / 'config.json'} (weight {key!r} "
                               f"{'missing' if key not in stored else stored[key].shape}, expected {np.shape(like)})")
        out.append(stored[key])
    return jax.tree_util.tree_unflatten(treedef, out), int(stored.get("__step__", 0))
