"""White noise, the synth's third sound source (torchsynth's `Noise`)."""

from __future__ import annotations

import jax

# torchsynth computes 32 noise rows and repeats them for larger batches (reproducible mode).
NOISE_ROWS = 32


def white_noise(key, n_rows: int, n_samples: int):
    """Uniform noise in [-1, 1), float32 [n_rows, n_samples]."""
    return jax.random.uniform(key, (n_rows, n_samples), minval=-1.0, maxval=1.0)


def tile_rows(noise, batch: int):
    """Repeat rows of noise [r, n] to [batch, n] as torchsynth's reproducible mode does."""
    reps = -(-batch // noise.shape[0])
    return jax.numpy.tile(noise, (reps, 1))[:batch]
