"""A training run (thesis sections 4.3-4.6): its progress, resume and the epoch loop over its phases.

The loss of a phase is `vae.objective`; the optimizer, the jitted steps and beta's calibration are
`vae.steps`.

Resume: data order is a pure function of (seed, phase, epoch) and each step's RNG of
(seed, step), so the state is params, optimizer state and a small `Progress` record (step,
phase, epoch, batch within the epoch, early stopping, beta, partial-epoch sums). The latest
checkpoint is saved every `checkpoint_every` steps and at each epoch end (after the best one
and the epoch's metrics record); resuming prunes what a crash left ahead of it and replays identically.

Host syncs: each step's metrics stay on the device (so that dispatch runs ahead on an
accelerator) until the epoch ends or a checkpoint is due; then they come to the host in one
transfer, are checked in step order (the first non-finite step stops the run, before anything
after the last good checkpoint is saved) and summed in float64 in the same order as one by one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import time
from pathlib import Path
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from common import atomic
from common.bounds import SettingError
from jaxsynth import Voice
from vae import data as data_lib
from vae import diagnostics, models, run_files, sound_input, steps
from vae import sharding as sharding_lib
from vae.config import PhaseConfig, RunConfig
from vae.objective import SPECTRAL_TERMS, Objective, kl_weight_at, logged_terms, objective
from vae.run_files import RunPaths
from vae.steps import OptimizerSpec

_TRAIN_STREAM, _EVAL_STREAM, _ORDER_STREAM = 1, 2, 3  # fold_in tags of the seed's RNG streams.


class NonFiniteLossError(RuntimeError):
    """A loss term or the gradient went NaN/inf; the run stopped at the last good checkpoint."""


def early_stopping(best: Optional[float], bad_epochs: int, val: float) -> tuple[bool, float, int]:
    """(improved, best, bad_epochs) after an epoch with validation loss `val` (strictly lower improves).

    A phase stops once bad_epochs reaches its patience.
    """
    if best is None or val < best:
        return True, val, 0
    return False, best, bad_epochs + 1


@functools.partial(jax.jit, static_argnames=("n",))
def epoch_order(seed: int, phase: int, epoch: int, n: int) -> jax.Array:
    """The permutation [n] of training examples in (phase, epoch): a pure function of its arguments."""
    key = jax.random.fold_in(jax.random.PRNGKey(seed), _ORDER_STREAM)
    key = jax.random.fold_in(jax.random.fold_in(key, phase), epoch)
    return jax.random.permutation(key, n).astype(jnp.int32)


# ------------------------------------------------------------------- progress


@dataclasses.dataclass
class Progress:
    """Host-side training position, saved as JSON with every checkpoint.

    step: optimizer steps so far (all phases); phase; epoch: completed epochs in the phase;
    batch: completed batches in the current epoch; rng: the step-RNG key data; best,
    best_epoch, bad_epochs: early stopping on validation total; beta: the phase's spectral
    weight; sums: per-term sums of batch means over the current epoch; fresh: the phase has
    not started (params come from the previous phase's best); done: all phases finished;
    elapsed_s: training wall time so far.
    """

    step: int = 0
    phase: int = 0
    epoch: int = 0
    batch: int = 0
    rng: tuple[int, ...] = ()
    best: Optional[float] = None
    best_epoch: int = 0
    bad_epochs: int = 0
    beta: float = 0.0
    sums: dict = dataclasses.field(default_factory=dict)
    fresh: bool = True
    done: bool = False
    elapsed_s: float = 0.0

    def start_phase(self, phase: int, n_phases: int) -> None:
        """Moves to the start of `phase` (marks the run done past the last one)."""
        self.phase, self.epoch, self.batch = phase, 0, 0
        self.best, self.best_epoch, self.bad_epochs, self.beta = None, 0, 0, 0.0
        self.sums, self.fresh, self.done = {}, True, phase >= n_phases


@dataclasses.dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    step: int
    best_val: Optional[float]
    metrics: list


# ----------------------------------------------------------------------- loop


def train(config: RunConfig, run_dir: str | Path, dataset: data_lib.Dataset, *, resume: bool = False,
          show_progress: bool = True, on_step: Callable[[int], None] | None = None,
          devices: Optional[int] = None, on_epoch: Callable[[dict], None] | None = None,
          checked: bool = False) -> TrainResult:
    """Trains every phase of `config` into run_dir (see module doc); `resume` continues a stopped run.

    on_step(step) is called after each step and its checkpoint (a test hook: raise to simulate
    a crash). on_epoch(record) is called with each epoch's metrics record once it is written (e.g.
    `vae.tensorboard.EpochWriter`). devices: data parallelism over this many local devices (`vae.sharding`: batches
    split, state replicated); None trains on the default device. checked: the caller has run `check_start` on
    these arguments (the CLI does, before it writes anything). Raises `NonFiniteLossError` if a loss term or the
    gradient goes non-finite.
    """
    run_dir = Path(run_dir)
    paths = RunPaths(run_dir)
    if not checked:
        check_start(config, dataset, devices)  # Everything a start can reject, before anything is written.
    if resume and not (paths.checkpoints / "latest").is_dir():
        raise FileNotFoundError(f"{run_dir} has no checkpoint to resume from ({paths.checkpoints / 'latest'} does "
                                "not exist); start the run without --resume")
    latest, best = run_files.checkpoint_manager(run_dir, "latest"), run_files.checkpoint_manager(run_dir, "best")
    try:
        if resume:
            prog, records = _resume_point(config, run_dir, latest, best)
        else:
            if latest.latest_step() is not None:
                raise FileExistsError(f"{run_dir} already holds a run; resume it or choose a new directory")
            run_files.write_config(run_dir, config)
            rng = jax.random.fold_in(jax.random.PRNGKey(config.seed), _TRAIN_STREAM)
            prog, records = Progress(rng=tuple(int(v) for v in np.asarray(rng))), []
            prog.start_phase(0, len(config.phases))
            run_files.write_metrics(run_dir, records)
        loop = _Loop(config, run_dir, dataset, latest, best, show_progress, on_step, devices, on_epoch)
        params = None  # Set by the phase start, or restored with the optimizer state when resuming.
        while not prog.done:
            params = loop.run_phase(prog, params, records)
    finally:
        latest.close()
        best.close()
    if records:
        run_files.plot_metrics(records, paths.curve)
    return TrainResult(run_dir, prog.step, _best_val(records), records)


def _best_val(records: list) -> Optional[float]:
    last = [r for r in records if r["phase"] == records[-1]["phase"]] if records else []
    return min((r["val/objective"] for r in last), default=None)


def check_start(config: RunConfig, dataset: data_lib.Dataset, devices: Optional[int] = None) -> None:
    """Raises ValueError for what would stop `train` later (dataset, batch sizes, devices), so that a
    rejected start writes nothing."""
    data_lib.check_matches(dataset, config.model.n_params, f"dataset {config.dataset_path}")
    data_lib.check_same(dataset, config.data, config.free_names, config.dataset_sha256,
                        f"dataset {config.dataset_path}")
    mesh = None if devices is None else sharding_lib.data_mesh(devices)
    for phase in config.phases:
        if phase.batch_size > len(dataset.train):
            raise SettingError("PhaseConfig.batch_size", f"{phase.batch_size} exceeds the {len(dataset.train)} "
                               f"training patches of {config.dataset_path}; lower it or use a larger dataset")
        if mesh is not None:
            sharding_lib.check_batch(phase.batch_size, mesh)


def _resume_point(config: RunConfig, run_dir: Path, latest, best):
    """(progress, metrics) at the latest checkpoint, dropping what a crash left beyond it; metrics that
    lack an epoch the checkpoint has finished are refused (`_check_records`), never continued with a gap."""
    step = latest.latest_step()
    if step is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint to resume from; start the run without --resume")
    _, _, saved = run_files.restore_checkpoint(latest, step, params_like=models.init(config.model, 0)["params"])
    prog = Progress(**{**saved, "rng": tuple(saved["rng"])})
    records = [r for r in run_files.read_metrics(run_dir, torn_end_ok=True)  # A kill mid-append tears the last line.
               if (r["phase"], r["epoch"]) <= (prog.phase, prog.epoch)]
    try:
        _check_records(records, prog, RunPaths(run_dir).metrics)
    except run_files.RunFileError:
        run_files.read_metrics(run_dir)  # A torn line the checkpoint needs was damaged otherwise: named by its line.
        raise
    run_files.remove_temporaries(run_dir)
    for s in best.all_steps():  # A best saved after the latest one belongs to an epoch we redo.
        if s > step:
            best.delete(s)
    run_files.write_metrics(run_dir, records)
    return prog, records


def _check_records(records: list, prog: Progress, path: Path) -> None:
    """Raises `run_files.RunFileError` unless `records` are every epoch the checkpoint `prog` has finished:
    epochs 1, 2, ... of each phase in order, ending at (prog.phase, prog.epoch) (at a phase's start: the
    previous phase's last epoch), the last one at the step where the current epoch began."""
    phase, epoch, contiguous = 0, 0, True
    for r in records:
        if (r["phase"], r["epoch"]) == (phase, epoch + 1) or (r["phase"] == phase + 1 and r["epoch"] == 1 and epoch):
            phase, epoch = r["phase"], r["epoch"]
        else:
            contiguous = False
    last_step = records[-1]["step"] if records else 0
    if prog.epoch:
        ends = (phase, epoch) == (prog.phase, prog.epoch)
    else:  # At a phase start (or done): the previous phase's last epoch, or nothing before the first phase.
        ends = (phase + 1, epoch > 0) == (prog.phase, True) if prog.phase else not records
    if contiguous and ends and last_step == prog.step - prog.batch:
        return
    held = ", ".join(f"phase {r['phase']} epoch {r['epoch']}" for r in records[-3:]) if records else "no epoch"
    raise run_files.RunFileError(
        f"{path} does not match the latest checkpoint (step {prog.step}, phase {prog.phase}, {prog.epoch} epochs "
        f"finished): it holds {len(records)} epoch records{', ending ' + held if records else ''}"
        f"{'' if contiguous else ', with epochs missing in between'}. The missing records cannot be recomputed: "
        "restore the file from a copy (metrics.csv holds the same table), or start the run over with --overwrite")


class _Loop:
    """The epoch loop of one run (holds what every phase shares)."""

    def __init__(self, config, run_dir, dataset, latest, best, show_progress, on_step, devices=None, on_epoch=None):
        self.config, self.run_dir, self.latest, self.best = config, run_dir, latest, best
        self.voice = Voice(config.synth, config.noise_seed)
        self.mesh = None if devices is None else sharding_lib.data_mesh(devices)
        self.train_x = self.replicate(jnp.asarray(dataset.train))
        self.train_host, self.val_x = dataset.train, dataset.val
        # What the encoder reads: the same arrays, or (an encoder that hears) each patch's log-mel frames, rendered once.
        self.train_inputs_host = sound_input.encoder_inputs(config, dataset.train, show_progress, "training patches")
        self.train_inputs = self.train_x if not config.model.hears else self.replicate(jnp.asarray(self.train_inputs_host))
        self.val_inputs = sound_input.encoder_inputs(config, dataset.val, show_progress, "validation patches")
        self.eval_key = jax.random.fold_in(jax.random.PRNGKey(config.seed), _EVAL_STREAM)
        self.show_progress, self.on_step, self.on_epoch = show_progress, on_step, on_epoch
        self.opt_state = None

    def replicate(self, tree):
        """Replicated over the data-parallel mesh (unchanged without one)."""
        return tree if self.mesh is None else sharding_lib.replicate(tree, self.mesh)

    def save(self, manager, prog: Progress, params) -> None:
        run_files.save_checkpoint(manager, prog.step, params, self.opt_state, dataclasses.asdict(prog))

    def run_phase(self, prog: Progress, params, records: list):
        """Trains phase `prog.phase` from wherever `prog` stands; returns the params at its end."""
        config = self.config
        phase = config.phases[prog.phase]
        obj = objective(config, phase)
        n_train = len(self.train_host)
        spe = n_train // phase.batch_size  # >= 1 (`check_start`).
        opt = OptimizerSpec(phase.learning_rate, phase.schedule, spe)
        noise = self.voice.batch_noise(phase.batch_size)
        batch_sharding = None
        if self.mesh is not None:
            sharding_lib.check_batch(phase.batch_size, self.mesh)
            noise, batch_sharding = sharding_lib.replicate(noise, self.mesh), sharding_lib.batch_sharding(self.mesh)
        if prog.fresh:
            params = self._start_phase(prog, phase, obj, opt, noise)
        elif self.opt_state is None:  # Resumed mid-phase: params and optimizer state from the checkpoint.
            params = models.init(config.model, 0)["params"]
            params, self.opt_state, _ = run_files.restore_checkpoint(self.latest, prog.step, params,
                                                                   steps.optimizer(opt).init(params))
        params, self.opt_state = self.replicate(params), self.replicate(self.opt_state)
        key = jnp.asarray(prog.rng, jnp.uint32)
        bar = tqdm(total=phase.max_epochs * spe, initial=prog.epoch * spe + prog.batch, unit="step",
                   desc=f"{phase.name} ({prog.phase + 1}/{len(config.phases)})", disable=not self.show_progress)
        try:
            while True:
                t0 = time.time()
                order = epoch_order(config.seed, prog.phase, prog.epoch, n_train)
                pending: list[tuple[int, int, dict]] = []  # (step, batch, metrics on device) since the last sync
                for b in range(prog.batch, spe):
                    params, self.opt_state, m = steps.train_step(
                        params, self.opt_state, self.train_x, self.train_inputs, order, b, prog.beta, noise, key,
                        prog.step, kl_weight_at(config.loss, prog.epoch), obj=obj, opt=opt,
                        batch_sharding=batch_sharding)
                    prog.step, prog.batch = prog.step + 1, b + 1
                    pending.append((prog.step, prog.batch, m))
                    if prog.step % config.checkpoint_every == 0 and prog.batch < spe:
                        self._sync(prog, phase, spe, pending, bar)
                        self.save(self.latest, prog, params)
                    bar.update(1)
                    if self.on_step is not None:
                        self.on_step(prog.step)
                self._sync(prog, phase, spe, pending, bar)
                val = steps.evaluate(obj, params, self.val_x, prog.beta, noise, self.eval_key, self.val_inputs)
                self._check_finite(prog.step + 1, val,
                                   f"validation after epoch {prog.epoch + 1} (phase {phase.name!r})")
                record = self._end_epoch(prog, phase, obj, opt, val, time.time() - t0)
                record.update(diagnostics.diagnose(config.model, params, self.val_x, self.train_host,
                                                     self.val_inputs).as_record("val"))
                if record["improved"]:
                    self.save(self.best, prog, params)
                records.append(record)
                run_files.append_metrics(self.run_dir, record)
                if self.on_epoch is not None:
                    self.on_epoch(record)
                bar.set_postfix(epoch=prog.epoch, val=f"{val['objective']:.4g}",
                                best="warm-up" if prog.best is None else f"{prog.best:.4g}")
                phase_done = prog.epoch >= phase.max_epochs or prog.bad_epochs >= phase.patience
                if phase_done:
                    prog.start_phase(prog.phase + 1, len(config.phases))
                self.save(self.latest, prog, params)
                if phase_done:
                    return params
        finally:
            bar.close()

    def _start_phase(self, prog: Progress, phase: PhaseConfig, obj: Objective, opt: OptimizerSpec, noise):
        """Params, optimizer and beta at a phase start (later phases start from the previous best); returns the
        params. A calibrated beta lives in `prog` (saved with each checkpoint) and in each epoch's metrics record;
        config.json keeps the phase's beta as given (None: calibrated)."""
        if prog.phase == 0:
            params = models.init(self.config.model, self.config.seed)["params"]
        else:
            params, _, _ = run_files.restore_checkpoint(self.best, None, models.init(self.config.model, 0)["params"])
        self.opt_state = steps.optimizer(opt).init(params)
        beta = phase.beta if phase.spectral else 0.0
        if beta is None:
            n_cal = min(steps.CALIBRATION_BATCHES * phase.batch_size, len(self.train_host))
            beta, terms = steps.calibrate_beta(obj, params, self.train_host[:n_cal], self.config.loss.ratio, noise,
                                               self.eval_key, self.train_inputs_host[:n_cal])
            tqdm.write(f"phase {phase.name!r}: beta = {beta:.6g} (initial spectral {terms['spectral']:.6g}, "
                       f"recon {terms['recon']:.6g} on {n_cal} patches; ratio {self.config.loss.ratio:g}:1)")
        prog.beta, prog.fresh = float(beta), False
        return params

    def _end_epoch(self, prog: Progress, phase: PhaseConfig, obj: Objective, opt: OptimizerSpec, val: dict,
                   seconds: float) -> dict:
        """Updates early stopping and progress after an epoch; returns its metrics record."""
        spe = opt.steps_per_epoch
        train_means = {k: v / spe for k, v in prog.sums.items()}
        epoch = prog.epoch + 1
        if prog.epoch + 1 < self.config.loss.kl_warmup_epochs:  # The objective still changes: no stopping yet.
            improved, prog.best, prog.bad_epochs = True, None, 0
        else:
            improved, prog.best, prog.bad_epochs = early_stopping(prog.best, prog.bad_epochs, val["objective"])
        if improved:
            prog.best_epoch = epoch
        prog.elapsed_s += seconds
        record = {"phase": prog.phase, "phase_name": phase.name, "epoch": epoch, "step": prog.step,
                  "lr": float(steps.learning_rate(opt, prog.epoch)), "beta": prog.beta,
                  "kl_weight": kl_weight_at(self.config.loss, prog.epoch)}
        terms = logged_terms(self.config.loss)
        # Without the synth in the step (Experiment 1) the spectral terms exist on validation only.
        record.update({f"train/{k}": train_means[k] if obj.renders_in_step or k not in SPECTRAL_TERMS else None
                       for k in (*terms, "grad_norm")})
        record.update({f"val/{k}": None if k == "mss" and not obj.renders_in_step else val[k]
                       for k in (*terms, "objective")})  # The multi-resolution term exists where it is trained.
        record.update({"best_val": prog.best, "best_epoch": prog.best_epoch, "bad_epochs": prog.bad_epochs,
                       "improved": improved, "epoch_time_s": seconds, "elapsed_s": prog.elapsed_s})
        prog.epoch, prog.batch, prog.sums = epoch, 0, {}
        return record

    def _sync(self, prog: Progress, phase: PhaseConfig, spe: int, pending: list, bar) -> None:
        """Brings the pending steps' metrics to the host in one transfer, checks each step in order
        (`_check_finite`) and adds it to the epoch sums; empties `pending`."""
        for (step, batch, _), m in zip(pending, jax.device_get([m for _, _, m in pending])):
            m = {k: float(v) for k, v in m.items()}
            self._check_finite(step, m, f"step {step} (phase {phase.name!r}, epoch {prog.epoch + 1}, "
                                        f"batch {batch}/{spe})")
            prog.sums = {k: prog.sums.get(k, 0.0) + v for k, v in m.items()}
            bar.set_postfix(epoch=prog.epoch + 1, loss=f"{m['total']:.4g}")
        pending.clear()

    def _check_finite(self, step: int, terms: dict, where: str) -> None:
        """Stops the run (failure.json, loss curve, `NonFiniteLossError`) if a term at `step` is not finite."""
        bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
        if not bad:
            return
        last = self.latest.latest_step()
        failure = {"where": where, "step": step, "bad_terms": sorted(bad),
                   "terms": {k: repr(v) for k, v in terms.items()}, "last_good_checkpoint_step": last}
        atomic.write_text(RunPaths(self.run_dir).failure, json.dumps(failure, indent=2) + "\n")
        records = run_files.read_metrics(self.run_dir)
        if records:
            run_files.plot_metrics(records, RunPaths(self.run_dir).curve)
        raise NonFiniteLossError(
            f"non-finite loss at {where}: " + ", ".join(f"{k}={v}" for k, v in terms.items())
            + f"; bad terms: {sorted(bad)}. Stopped; the last good checkpoint is step {last} in "
            f"{RunPaths(self.run_dir).checkpoints / 'latest'}"
        )
