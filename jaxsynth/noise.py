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


def check_noise_rows(noise_shape: tuple[int, ...], batch_shape: tuple[int, ...], n_samples: int) -> None:
    """Accept noise [n] or [..., n] broadcastable to the batch, or [r, n] with r dividing a 1-D batch."""
    if not noise_shape or noise_shape[-1] != n_samples:
        raise ValueError(f"noise must end in buffer_size={n_samples} samples, got shape {noise_shape}")
    rows = noise_shape[:-1]
    try:
        jax.numpy.broadcast_shapes(rows, batch_shape)
        return
    except ValueError:
        pass
    if len(rows) == 1 and len(batch_shape) == 1 and batch_shape[0] % rows[0] == 0:
        return
    raise ValueError(
        f"noise rows {rows} do not fit the batch {batch_shape}: give [batch, n], [n], or [r, n] with "
        "batch a multiple of r (rows repeat, as in torchsynth's reproducible mode)"
    )


def expand_noise(noise, batch_shape: tuple[int, ...]):
    """noise as [*batch_shape, n]: broadcast, or rows repeated (see `check_noise_rows`)."""
    check_noise_rows(noise.shape, batch_shape, noise.shape[-1])
    rows = noise.shape[:-1]
    if len(rows) == 1 and len(batch_shape) == 1 and rows[0] != batch_shape[0] and rows[0] != 1:
        return tile_rows(noise, batch_shape[0])
    return jax.numpy.broadcast_to(noise, batch_shape + noise.shape[-1:])
