"""The modulation matrix: each target is a weighted sum of every source (torchsynth's `ModulationMixer`)."""

from __future__ import annotations

import jax.numpy as jnp


def modulation_mixer(amounts, sources):
    """amounts [..., n_sources, n_targets] (source-major, as the parameter order), sources
    [..., n_sources, n] -> targets [..., n_targets, n].

    Written as a broadcast sum rather than a batched matmul: XLA fuses it, and tiny batched
    matmuls are slow on CPU."""
    return jnp.sum(amounts[..., :, :, None] * sources[..., :, None, :], axis=-3)
