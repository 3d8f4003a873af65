"""The matching loss and the reported spectral distance, per candidate.

Both come from one call of `vae.losses.multiscale_parts` (STFTs at n_fft/4 ... 2 n_fft, hop n_fft/4):
- the loss is `vae.losses.multiscale_spectral` per candidate: the mean over resolutions of the
  magnitude spectral convergence ||T| - |P||_F / ||T||_F plus the mean log-magnitude distance;
- the *spectral distance* reported by every method, the CLI and the benchmark is its log part
  alone: the mean over the four resolutions of mean |log(|T| + 1e-5) - log(|P| + 1e-5)|.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxsynth import SynthConfig
from vae import losses
from vae.features import FeatureConfig


def feature_config(synth: SynthConfig) -> FeatureConfig:
    """STFT settings of the loss at the synth's rate: n_fft ~ 64 ms (1024 at 16 kHz), hop n_fft / 4."""
    n_fft = 1 << max(6, int(round(math.log2(0.064 * synth.sample_rate))))
    while n_fft * 2 > synth.buffer_size and n_fft > 64:  # the largest resolution (2 n_fft) fits the sound
        n_fft //= 2
    return FeatureConfig(sample_rate=synth.sample_rate, n_fft=n_fft, hop_length=n_fft // 4)


def match_terms(target: jnp.ndarray, audio: jnp.ndarray, cfg: FeatureConfig, log_weight: float = 1.0
                ) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(loss [B], spectral distance [B]) of candidates audio [B, n] against one target [n]; the loss is
    convergence + log_weight * log (1: `vae.losses.multiscale_spectral` as is)."""
    parts = losses.multiscale_parts(jnp.broadcast_to(target, audio.shape), audio, cfg)
    return jax.vmap(losses.multiscale_spectral)(parts) + (log_weight - 1.0) * parts["log"], parts["log"]


def spectral_distance(target: jnp.ndarray, audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Spectral distance [B] of audio [B, n] to target [n] (the log part of `match_terms`)."""
    return match_terms(target, audio, cfg)[1]
