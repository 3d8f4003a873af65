"""A training run on disk, its configuration, and the loading API the evaluation builds on.

RUN_DIR/
  config.json        `RunConfig` as JSON: model, synth config, parameter subset (free names and
                     frozen values), feature config, loss names, phases with their beta, seeds,
                     dataset path. `load_config` rebuilds it.
  checkpoints/best/STEP/, checkpoints/latest/STEP/
                     orbax checkpoints, each with items `params` (Flax variables),
                     `opt_state` (optax) and `progress` (JSON: step, phase, epoch, batch, RNG,
                     early-stopping state, beta, partial-epoch sums).
  metrics.jsonl      one JSON object per epoch (every loss term for train and val, beta, lr,
                     time); metrics.csv holds the same table.
  loss_curve.png     train/val curves of every term, phases marked.
  failure.json       only if a loss went non-finite: step and the bad terms.

    run = load_run("runs/demo")            # best checkpoint; which="latest" for the last one
    mu, logvar = encode(run, run.dataset.test)
    x_hat = reconstruct(run, run.dataset.test)  # decode(mu), clamped to [0, 1]
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import types
import typing
from pathlib import Path
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from jaxsynth import ParameterSubset, SynthConfig, Voice
from vae import data as data_lib
from vae import features, losses, models
from vae.data import DataConfig
from vae.features import FeatureConfig
from vae.models import ModelConfig

FORMAT = "jaxsynth-vae-run/1"


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule: 'constant', or 'step' (x factor at decay_start, then every decay_every epochs)."""

    kind: str = "constant"
    decay_start: int = 200
    decay_every: int = 100
    decay_factor: float = 0.5

    def __post_init__(self):
        if self.kind not in ("constant", "step"):
            raise ValueError(f"unknown lr schedule {self.kind!r}; valid: ['constant', 'step']")


@dataclasses.dataclass(frozen=True)
class PhaseConfig:
    """One training phase with its own optimizer, objective and early stopping.

    Attributes:
      name: label in metrics and logs ('main', 'pretrain', 'finetune').
      recon: include L_recon in the objective (eq. 4.4, 4.5; not 4.6).
      spectral: include beta * L_spectral (eq. 4.4, 4.6; not 4.5).
      beta: spectral weight; None = calibrate at the phase start so that
        beta * spectral : recon = LossConfig.ratio : 1 (section 4.3).
      max_epochs, patience: epoch limit and early-stopping patience (validation loss).
      batch_size, learning_rate, schedule: optimization (Adam).
    """

    name: str = "main"
    recon: bool = True
    spectral: bool = True
    beta: Optional[float] = None
    max_epochs: int = 500
    patience: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-4
    schedule: ScheduleConfig = ScheduleConfig()

    def __post_init__(self):
        if self.beta is None and not (self.recon and self.spectral):
            raise ValueError(f"phase {self.name!r}: beta can only be calibrated when both recon and spectral are on")
        if min(self.max_epochs, self.patience, self.batch_size) < 1 or not self.learning_rate > 0:
            raise ValueError(f"phase {self.name!r}: epochs, patience, batch size and learning rate must be positive")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Spectral loss `spectral` (vae.losses) on feature `feature` (vae.features), clamp weight alpha."""

    spectral: str = "sclp"
    feature: str = "stft"
    feature_config: FeatureConfig = FeatureConfig()
    alpha: float = 100.0
    ratio: float = 3.0

    def __post_init__(self):
        if self.spectral not in losses.SPECTRAL_LOSSES:
            raise ValueError(f"unknown spectral loss {self.spectral!r}; valid: {sorted(losses.SPECTRAL_LOSSES)}")
        if self.feature not in features.FEATURES:
            raise ValueError(f"unknown feature {self.feature!r}; valid: {sorted(features.FEATURES)}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (written to RUN_DIR/config.json).

    Attributes:
      model, synth, loss, phases: architecture, synth settings, loss terms, training phases.
      data: how the dataset was drawn; dataset_path: the .npz file trained on.
      free_names, fixed: the parameter subset (free names in column order; frozen
        (name, value in [0, 1]) pairs).
      seed: model init, per-step RNG and data order; noise_seed: the synth's noise rows.
      checkpoint_every: steps between mid-epoch saves of the latest checkpoint.
      case, scale: preset names, for the record.
    """

    model: ModelConfig
    synth: SynthConfig
    loss: LossConfig
    phases: tuple[PhaseConfig, ...]
    data: DataConfig
    dataset_path: str
    free_names: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    seed: int = 0
    noise_seed: int = 13
    checkpoint_every: int = 200
    case: Optional[str] = None
    scale: str = "thesis"

    def __post_init__(self):
        if self.model.n_params != len(self.free_names):
            raise ValueError(f"model has {self.model.n_params} inputs but {len(self.free_names)} free parameters")
        if not self.phases:
            raise ValueError("a run needs at least one phase")
        if self.checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1 step")

    def subset(self) -> ParameterSubset:
        return Voice(self.synth, self.noise_seed).subset(self.free_names, dict(self.fixed))


# ------------------------------------------------------------------------- JSON


def to_json(config: RunConfig) -> str:
    return json.dumps({"format": FORMAT, **dataclasses.asdict(config)}, indent=2)


def from_json(text: str) -> RunConfig:
    doc = json.loads(text)
    if doc.pop("format", None) != FORMAT:
        raise ValueError(f"not a run config of format {FORMAT!r}")
    return _build(RunConfig, doc)


def _build(tp, value):
    """JSON value -> instance of type `tp` (dataclasses, Optional, tuples, scalars)."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"unknown {tp.__name__} fields {sorted(unknown)}")
        return tp(**{k: _build(hints[k], v) for k, v in value.items()})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _build(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(args, value))
    if tp is float:
        return float(value)
    return value


# ------------------------------------------------------------------ directory


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


def write_config(run_dir: str | Path, config: RunConfig) -> None:
    path = RunPaths(Path(run_dir)).config
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(config) + "\n")


def load_config(run_dir: str | Path) -> RunConfig:
    path = RunPaths(Path(run_dir)).config
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: {run_dir} is not a run directory")
    return from_json(path.read_text())


# ---------------------------------------------------------------- checkpoints

CHECKPOINT_KINDS = ("best", "latest")


def checkpoint_manager(run_dir: str | Path, which: str) -> ocp.CheckpointManager:
    """Synchronous orbax manager of RUN_DIR/checkpoints/{best,latest} (keeps the last 2)."""
    if which not in CHECKPOINT_KINDS:
        raise ValueError(f"unknown checkpoint {which!r}; valid: {list(CHECKPOINT_KINDS)}")
    options = ocp.CheckpointManagerOptions(max_to_keep=2, enable_async_checkpointing=False,
                                           cleanup_tmp_directories=True)
    directory = (RunPaths(Path(run_dir)).checkpoints / which).absolute()
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
    out = manager.restore(step, args=ocp.args.Composite(**items))
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


def read_metrics(run_dir: str | Path) -> list[dict]:
    path = RunPaths(Path(run_dir)).metrics
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_metrics(run_dir: str | Path, records: list[dict]) -> None:
    """Rewrites metrics.jsonl and metrics.csv with `records` (one per epoch)."""
    paths = RunPaths(Path(run_dir))
    paths.metrics.write_text("".join(json.dumps(r) + "\n" for r in records))
    with open(paths.metrics_csv, "w", newline="") as f:
        if records:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)


def plot_metrics(records: list[dict], path: str | Path) -> None:
    """Loss-curve PNG: one panel per loss term, train and val against epoch, phases marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    terms = [k[len("train/"):] for k in (records[0] if records else {}) if k.startswith("train/")]
    cols = 3
    rows = max(1, math.ceil(len(terms) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    x = np.arange(1, len(records) + 1)
    starts = [i + 1 for i, r in enumerate(records) if r["epoch"] == 1 and i > 0]
    for ax, term in zip(axes.flat, terms):
        for split in ("train", "val"):
            y = np.array([r.get(f"{split}/{term}", np.nan) for r in records], float)
            ax.plot(x, y, label=split)
            if np.all(y[np.isfinite(y)] > 0) and np.isfinite(y).any():
                ax.set_yscale("log")
        for s in starts:
            ax.axvline(s - 0.5, color="gray", linestyle=":", linewidth=1)
        ax.set_title(term)
        ax.set_xlabel("epoch (all phases)")
        ax.legend()
    for ax in list(axes.flat)[len(terms):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------- loading


@dataclasses.dataclass(frozen=True, eq=False)
class LoadedRun:
    """A trained run: its config, synth, subset, model variables and dataset.

    Attributes:
      run_dir: the run directory.
      config: its `RunConfig`.
      synth_config: the `jaxsynth.SynthConfig` audio was rendered with.
      subset: the `ParameterSubset` mapping the k model columns to the synth's 78.
      params: Flax variables {'params': ...} of the loaded checkpoint.
      dataset: `vae.data.Dataset` with .train/.val/.test [n, k] float32 in [0, 1].
      which, step: the checkpoint loaded ('best' or 'latest') and its training step.
    """

    run_dir: Path
    config: RunConfig
    synth_config: SynthConfig
    subset: ParameterSubset
    params: Any
    dataset: data_lib.Dataset
    which: str
    step: int


def load_run(run_dir: str | Path, which: str = "best", dataset_path: str | Path | None = None) -> LoadedRun:
    """Loads RUN_DIR's config, the `which` checkpoint ('best' or 'latest') and the dataset.

    dataset_path overrides config.dataset_path (e.g. after moving the data).
    """
    run_dir = Path(run_dir)
    config = load_config(run_dir)
    manager = checkpoint_manager(run_dir, which)
    step = manager.latest_step()
    if step is None:
        raise FileNotFoundError(f"{run_dir} has no {which!r} checkpoint yet")
    params, _, _ = restore_checkpoint(manager, step, params_like=models.init(config.model, 0)["params"])
    manager.close()
    dataset = data_lib.load(dataset_path or config.dataset_path, progress=False)
    if dataset.names != config.free_names:
        raise data_lib.DatasetError(
            f"dataset {dataset_path or config.dataset_path} has free parameters {list(dataset.names)}, "
            f"not the run's {list(config.free_names)}"
        )
    return LoadedRun(run_dir, config, config.synth, config.subset(), {"params": params}, dataset, which, int(step))


APPLY_BATCH = 4096  # Rows per jitted call of encode/decode; the last chunk is padded.


@functools.partial(jax.jit, static_argnames=("config", "method"))
def _apply(config: ModelConfig, method: str, variables, x):
    out = models.VAE(config).apply(variables, x, method=method)
    return models.clamp01(out) if method == "decode" else out


def _batched(run: LoadedRun, method: str, x) -> Any:
    """Applies VAE.`method` to x [n, d] in fixed-size jitted chunks; returns numpy."""
    x = np.asarray(x, np.float32)
    n = len(x)
    chunk = min(APPLY_BATCH, max(n, 1))
    outs = []
    for start in range(0, n, chunk):
        part = x[start:start + chunk]
        padded = np.concatenate([part, np.zeros((chunk - len(part),) + x.shape[1:], np.float32)])
        out = _apply(run.config.model, method, run.params, padded)
        outs.append(jax.tree.map(lambda a, m=len(part): np.asarray(a[:m]), out))
    if not outs:
        return _apply(run.config.model, method, run.params, x)
    return jax.tree.map(lambda *a: np.concatenate(a), *outs)


def encode(run: LoadedRun, x01) -> tuple[np.ndarray, np.ndarray]:
    """[n, k] parameters in [0, 1] -> (mu, logvar), each [n, latent_dim]."""
    _check_width(run, x01, run.config.model.n_params, "x01")
    return _batched(run, "encode", x01)


def decode(run: LoadedRun, z) -> np.ndarray:
    """[n, latent_dim] -> [n, k] parameters clamped to [0, 1]."""
    _check_width(run, z, run.config.model.latent_dim, "z")
    return _batched(run, "decode", z)


def reconstruct(run: LoadedRun, x01) -> np.ndarray:
    """decode(encode(x01).mu): [n, k] in [0, 1] -> [n, k] in [0, 1]."""
    return decode(run, encode(run, x01)[0])


def _check_width(run: LoadedRun, x, width: int, name: str) -> None:
    shape = np.shape(x)
    if len(shape) != 2 or shape[1] != width:
        raise ValueError(f"{name} must have shape [n, {width}] for run {run.run_dir}, got {shape}")
