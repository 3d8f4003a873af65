"""Reconstruction audio (thesis 4.2, 5): encode -> decode -> render ground truth and reconstruction.

A split's patches x [n, k] in [0, 1] go through the VAE (`vae.run.encode` / `decode`, the
decoder output clamped to [0, 1]) and both x and its reconstruction are rendered by
jaxsynth with the run's synth settings, parameter subset and default noise rows (the same
noise for both sounds of an example, as in training).

Audio is streamed: `audio_batches` yields `[batch, n_samples]` pairs one batch at a time,
so a consumer (spectral metrics, embeddings) holds at most one batch of each,
2 * batch * n_samples float32 (64 clips of 1 s at 44.1 kHz: 22.6 MB), never the whole set
(20,000 clips of 1 s: 3.5 GB per set). The last batch is zero-padded to the full batch
size (one compiled shape) and trimmed before it is yielded.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np
from tqdm.auto import tqdm

from jaxsynth import Voice
from vae import run as run_lib


@dataclasses.dataclass(frozen=True, eq=False)
class Reconstruction:
    """One evaluated split.

    Attributes:
      name: label ('test', 'train_subset', ...).
      indices: [n] rows of the split these patches are.
      x: [n, k] ground-truth patches in [0, 1].
      x_hat: [n, k] reconstructed patches in [0, 1] (decode of mu).
      mu: [n, latent] encoder means.
    """

    name: str
    indices: np.ndarray
    x: np.ndarray
    x_hat: np.ndarray
    mu: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


@dataclasses.dataclass(frozen=True, eq=False)
class AudioBatch:
    """Ground-truth and reconstructed audio of `positions` (rows of the `Reconstruction`).

    Attributes:
      positions: [b] positions within the reconstruction (not split indices).
      true: [b, n_samples] float32 audio of x.
      recon: [b, n_samples] float32 audio of x_hat.
    """

    positions: np.ndarray
    true: np.ndarray
    recon: np.ndarray


def subset_size(n: int, fraction: float) -> int:
    """round(fraction * n), at least 1 when n > 0, for fraction in (0, 1]."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return min(n, max(1, int(round(fraction * n)))) if n else 0


def subset_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted random rows [subset_size(n, fraction)] of range(n), drawn with a fixed seed."""
    return np.sort(np.random.default_rng(seed).choice(n, size=subset_size(n, fraction), replace=False))


def limit_indices(n: int, limit: int | None) -> np.ndarray:
    """The first `limit` rows of range(n) (all of them when limit is None)."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    return np.arange(n if limit is None else min(n, limit))


def reconstruct_split(run: run_lib.LoadedRun, name: str, x_split: np.ndarray, indices: np.ndarray) -> Reconstruction:
    """Encodes rows `indices` of x_split [n, k] and decodes their means."""
    x = np.asarray(x_split, np.float32)[indices]
    mu, _ = run_lib.encode(run, x)
    return Reconstruction(name, np.asarray(indices), x, run_lib.decode(run, mu), np.asarray(mu))


def make_voice(run: run_lib.LoadedRun) -> Voice:
    """The run's synth: its SynthConfig and noise seed."""
    return Voice(run.synth_config, run.config.noise_seed)


def render(voice: Voice, run: run_lib.LoadedRun, x01: np.ndarray, batch_size: int) -> np.ndarray:
    """Audio [n, n_samples] float32 of patches x01 [n, k] (n <= batch_size pads to batch_size)."""
    x01 = np.asarray(x01, np.float32)
    n = len(x01)
    if n > batch_size:
        raise ValueError(f"render takes at most batch_size={batch_size} patches, got {n}")
    padded = np.concatenate([x01, np.repeat(x01[-1:], batch_size - n, axis=0)]) if n < batch_size else x01
    audio = voice.render(run.subset.expand(padded))
    return np.asarray(audio[:n], np.float32)


def render_rows(voice: Voice, run: run_lib.LoadedRun, x01: np.ndarray, batch_size: int) -> np.ndarray:
    """Audio [n, n_samples] of a few patches x01 [n, k] (for figures and sounds; holds all n)."""
    return np.concatenate([render(voice, run, x01[s:s + batch_size], batch_size)
                           for s in range(0, len(x01), batch_size)]) if len(x01) else np.zeros((0, 0), np.float32)


def audio_batches(voice: Voice, run: run_lib.LoadedRun, rec: Reconstruction, batch_size: int,
                  progress: bool = True) -> Iterator[AudioBatch]:
    """Streams the ground-truth and reconstructed audio of `rec`, `batch_size` examples at a time."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    starts = range(0, len(rec), batch_size)
    for start in tqdm(starts, desc=f"render {rec.name}", unit="batch", disable=not progress, leave=False):
        stop = min(start + batch_size, len(rec))
        yield AudioBatch(np.arange(start, stop), render(voice, run, rec.x[start:stop], batch_size),
                         render(voice, run, rec.x_hat[start:stop], batch_size))
