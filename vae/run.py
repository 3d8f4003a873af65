"""Loading a trained run and applying its model: the API the evaluation builds on.

    run = load_run("runs/demo")            # best checkpoint; which="latest" for the last one
    mu, logvar = encode(run, run.dataset.test)
    x_hat = reconstruct(run, run.dataset.test)  # decode(mu), clamped to [0, 1]
    mu, logvar = encode_audio(run, audio)  # any sounds [n, samples] at the run's rate (a model that hears)

The run directory's files are `vae.run_files`, its configuration `vae.config`.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxsynth import ParameterSubset, SynthConfig
from vae import data as data_lib
from vae import models, sound_input
from vae.config import RunConfig
from vae.models import ModelConfig
from vae.run_files import checkpoint_manager, load_config, restore_checkpoint


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
    manager = checkpoint_manager(run_dir, which, read_only=True)
    try:
        step = manager.latest_step()
        if step is None:
            raise FileNotFoundError(f"{run_dir} has no {which!r} checkpoint yet")
        params, _, _ = restore_checkpoint(manager, step, params_like=models.init(config.model, 0)["params"])
    finally:
        manager.close()
    dataset = data_lib.load(dataset_path or config.dataset_path, progress=False)
    data_lib.check_same(dataset, config.data, config.free_names, config.dataset_sha256,
                        f"dataset {dataset_path or config.dataset_path}")
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
    """[n, k] parameters in [0, 1] -> (mu, logvar), each [n, latent_dim] (a model that hears encodes each
    patch's sound, rendered by the run's synth)."""
    _check_width(run, x01, run.config.model.n_params, "x01")
    return _batched(run, "encode", sound_input.encoder_inputs(run.config, x01))


def hears_audio(run: LoadedRun) -> bool:
    """Whether the run's encoder reads sounds, so that any sound can be encoded (`encode_audio`)."""
    return run.config.model.hears


def encode_audio(run: LoadedRun, audio) -> tuple[np.ndarray, np.ndarray]:
    """Sounds [n, buffer_size] float32 at the run's sample rate -> (mu, logvar), each [n, latent_dim].
    ValueError for a run whose encoder reads parameters (train one with --objective timbre)."""
    if not hears_audio(run):
        raise ValueError(f"run {run.run_dir} encodes synth parameters, not sounds; encode a WAV with a model that "
                         "hears (scripts/train.py --objective timbre, or the shipped model)")
    _check_width(run, audio, run.synth_config.buffer_size, "audio")
    return _batched(run, "encode", sound_input.of_audio(audio, run.config.model.sound_input))


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
