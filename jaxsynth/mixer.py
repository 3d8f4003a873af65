"""The audio mixer: a weighted sum of the sources, normalized only if it clips (torchsynth's `AudioMixer`)."""

from __future__ import annotations

import jax.numpy as jnp

from jaxsynth.dsp import normalize_if_clipping


def audio_mixer(levels, sources):
    """levels [..., k] (0-1), sources [..., k, n] -> [..., n], scaled to peak 1 where |peak| > 1."""
    return normalize_if_clipping(jnp.sum(levels[..., :, None] * sources, axis=-2))
