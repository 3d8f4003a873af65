"""Low-frequency oscillators at control rate: a soft mix of five shapes (torchsynth's `LFO`)."""

from __future__ import annotations

import jax.numpy as jnp

from jaxsynth import libm
from jaxsynth.dsp import TWO_PI, accurate_cumsum, safe_divide
from jaxsynth.parameters import PI

# torchsynth's soft-selection exponent, float32(2.718281828).
SHAPE_EXPONENT = 2.718281828


def lfo_shapes(argument):
    """The five unit-range shapes (sin, tri, saw, rsaw, sqr) of a phase argument [..., n] (rad)."""
    cos = jnp.cos(argument + PI)
    square = (jnp.sign(cos) + 1.0) / 2.0
    cos = (cos + 1.0) / 2.0
    saw = libm.div(jnp.remainder(argument, TWO_PI), TWO_PI)
    rev_saw = 1.0 - saw
    triangle = 2 * saw
    triangle = jnp.where(triangle > 1.0, 2.0 - triangle, triangle)
    return jnp.stack([cos, triangle, saw, rev_saw, square], axis=-2)


def shape_weights(weights):
    """Normalize shape selectors [..., 5] in [0, 1] by w ** e / sum; an all-zero row mixes evenly.

    (torchsynth divides 0 by 0 there and returns NaN.)
    """
    powered = jnp.power(weights, SHAPE_EXPONENT)
    total = jnp.sum(powered, axis=-1, keepdims=True)
    return safe_divide(powered, total, 1.0 / weights.shape[-1])


def lfo(frequency, mod_depth, initial_phase, weights, rate_mod, control_rate: float):
    """LFO signal [..., n] in [0, 1] from frequency (Hz), mod_depth (Hz), phase (rad), weights [..., 5].

    `rate_mod` [..., n] (e.g. an envelope) adds mod_depth * rate_mod Hz to the frequency,
    floored at 0 Hz. The phase is a cumulative sum at control rate.
    """
    freq = jnp.maximum(frequency[..., None] + mod_depth[..., None] * rate_mod, 0.0)
    argument = accurate_cumsum(libm.div(TWO_PI * freq, control_rate), bound=TWO_PI * 1000.0 / control_rate) + initial_phase[..., None]
    mix = shape_weights(weights)
    return jnp.sum(mix[..., :, None] * lfo_shapes(argument), axis=-2)
