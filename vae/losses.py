"""The VAE's own loss terms (thesis sections 2.3.1, 4.3): parameter reconstruction, KL, clamp, free bits,
the spectral weight's calibration and the timbre space's distance preservation. The spectral losses are
`spectral.losses`."""

from __future__ import annotations

import math
from typing import Optional

import jax
import jax.numpy as jnp

from spectral import features
from spectral.losses import EPS

def free_bits_kl(kl_per_dim: jnp.ndarray, floor: float) -> jnp.ndarray:
    """sum_d max(floor, KL_d) (Kingma et al. 2016): KL_d [latent] are batch means in nats; dimensions
    under `floor` nats get no gradient towards the prior, so they cannot all collapse to it."""
    return jnp.sum(jnp.maximum(kl_per_dim, floor))


def param_reconstruction_loss(pred: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
    """L_recon (eqs. 2.11, 4.3): ||y - y_hat||^2 summed over parameters, mean over batch.

    pred, target: [..., n_params] -> scalar.
    """
    return jnp.mean(jnp.sum(jnp.square(pred - target), axis=-1))


def kl_divergence(mu: jnp.ndarray, logvar: jnp.ndarray) -> jnp.ndarray:
    """KL(N(mu, exp(logvar)) || N(0, 1)) (eq. 2.10), summed over latents, mean over batch.

    mu, logvar: [..., latent_dim] -> scalar.
    """
    kl = 0.5 * jnp.sum(jnp.square(mu) + jnp.exp(logvar) - logvar - 1.0, axis=-1)
    return jnp.mean(kl)


def clamp_loss(raw_params: jnp.ndarray, alpha: float = 100.0) -> jnp.ndarray:
    """alpha * L_clamp (section 4.3): squared distance of each raw parameter to [0, 1].

    Summed over parameters, mean over batch, like `param_reconstruction_loss`;
    zero (with zero gradient) inside the range. raw_params: [..., n_params] -> scalar.
    """
    outside = raw_params - jnp.clip(raw_params, 0.0, 1.0)
    return alpha * jnp.mean(jnp.sum(jnp.square(outside), axis=-1))


def spectral_weight_for_ratio(spectral_value, reconstruction_value, ratio: float = 3.0) -> float:
    """beta with beta * spectral : reconstruction = ratio : 1 (section 4.3, eq. 4.4).

    Call once, outside jit, on the unweighted losses at the start of training;
    returns a Python float. Raises ValueError unless spectral_value > 0.
    """
    spectral_value = float(spectral_value)
    reconstruction_value = float(reconstruction_value)
    if not (math.isfinite(spectral_value) and spectral_value > 0.0):
        raise ValueError(f'spectral loss must be finite and > 0, got {spectral_value}')
    return ratio * reconstruction_value / spectral_value


def distance_preservation(mu: jnp.ndarray, sound: jnp.ndarray, weight: Optional[jnp.ndarray] = None) -> jnp.ndarray:
    """Per-example stress between latent and sound distances in a batch ("Generative timbre spaces",
    Esling et al. 2018: latent distances regularized by perceptual ones), [B] (mean: the batch's stress).

    mu [B, latent]: encoder means; sound [B, d]: each sound's scaled log-mel frames (`vae.sound_input`),
    whose mean absolute difference is a log-spectral distance. Both distance matrices are divided by
    their mean over the batch's distinct pairs (scale-free: the KL term sets the latent scale), and
    example i scores the mean over its partners j of (d_z(i, j) - d_sound(i, j))^2. weight [B] (1 for
    real rows, 0 for padding) leaves rows out of every pair; None: all rows count.
    """
    n = mu.shape[0]
    w = jnp.ones((n,), mu.dtype) if weight is None else weight.astype(mu.dtype)
    pair = w[:, None] * w[None, :] * (1.0 - jnp.eye(n, dtype=mu.dtype))
    sound = jax.lax.stop_gradient(sound)  # Data: one row at a time, never a [B, B, d] array.
    d_sound = jax.lax.map(lambda row: jnp.mean(jnp.abs(sound - row), axis=-1), sound)
    d_latent = features.safe_sqrt(jnp.sum(jnp.square(mu[:, None, :] - mu[None, :, :]), axis=-1))
    n_pairs = jnp.maximum(jnp.sum(pair), 1.0)
    scaled = [d / (jnp.sum(pair * d) / n_pairs + EPS) for d in (d_latent, d_sound)]
    partners = jnp.maximum(jnp.sum(pair, axis=1), 1.0)
    return jnp.sum(pair * jnp.square(scaled[0] - scaled[1]), axis=1) / partners
