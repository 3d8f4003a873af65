"""The matching loss and the reported spectral distance, per candidate.

Both come from one call of `spectral.losses.multiscale_parts` (STFTs at n_fft/4 ... 2 n_fft, hop n_fft/4):
- the loss is `spectral.losses.multiscale_spectral` per candidate: the mean over resolutions of the
  magnitude spectral convergence ||T| - |P||_F / ||T||_F plus the mean log-magnitude distance;
- the *spectral distance* reported by every method, the CLI and the benchmark is its log part
  alone: the mean over the four resolutions of mean |log(|T| + 1e-5) - log(|P| + 1e-5)|;
- optionally (`w1_weight` > 0) plus `spectral_w1`, a distance between the spectra *as distributions
  over log frequency*, which moves partials towards the target's from afar (pitch) where the
  bin-by-bin parts see no overlap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spectral import features
from spectral import losses
from spectral.features import FeatureConfig


def spectral_w1(target: jnp.ndarray, audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """[B]: per STFT frame (cfg's resolution), the 1-Wasserstein distance in octaves between the
    magnitude spectra of target [n] and audio [B, n], each normalized to sum 1 over bins 1..n_fft/2 on a
    log2-frequency axis (the L1 distance of their cumulative sums, weighted by the bins' spacing),
    averaged over frames weighted by the target's magnitude per frame (silent frames do not count)."""
    mag_t = features.magnitude(features.stft(target, cfg))[..., 1:]  # [frames, bins]
    mag_p = features.magnitude(features.stft(audio, cfg))[..., 1:]  # [B, frames, bins]
    octaves = np.log2(np.arange(1, cfg.n_fft // 2 + 1, dtype=np.float64))
    spacing = jnp.asarray(np.diff(octaves), jnp.float32)  # [bins - 1]
    cdf_t = jnp.cumsum(mag_t, -1) / (jnp.sum(mag_t, -1, keepdims=True) + losses.EPS)
    cdf_p = jnp.cumsum(mag_p, -1) / (jnp.sum(mag_p, -1, keepdims=True) + losses.EPS)
    per_frame = jnp.sum(jnp.abs(cdf_t - cdf_p)[..., :-1] * spacing, -1)  # [B, frames]
    weight = jnp.sum(mag_t, -1) / (jnp.sum(mag_t) + losses.EPS)  # [frames]
    return jnp.sum(per_frame * weight, -1)


def match_terms(target: jnp.ndarray, audio: jnp.ndarray, cfg: FeatureConfig, log_weight: float = 1.0,
                w1_weight: float = 0.0) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(loss [B], spectral distance [B]) of candidates audio [B, n] against one target [n]; the loss is
    convergence + log_weight * log (1: `spectral.losses.multiscale_spectral` as is) + w1_weight * `spectral_w1`."""
    parts = losses.multiscale_parts(jnp.broadcast_to(target, audio.shape), audio, cfg)
    loss = jax.vmap(losses.multiscale_spectral)(parts) + (log_weight - 1.0) * parts["log"]
    if w1_weight:
        loss = loss + w1_weight * spectral_w1(target, audio, cfg)
    return loss, parts["log"]


def spectral_distance(target: jnp.ndarray, audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Spectral distance [B] of audio [B, n] to target [n] (the log part of `match_terms`)."""
    return match_terms(target, audio, cfg)[1]
