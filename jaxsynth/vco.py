"""Voltage-controlled oscillators at audio rate: sine and square-saw (torchsynth's `SineVCO`, `SquareSawVCO`)."""

from __future__ import annotations

import jax.numpy as jnp

from jaxsynth import libm
from jaxsynth.dsp import TWO_PI, accurate_cumsum, materialize, midi_to_hz
from jaxsynth.parameters import PI

MIDI_MAX = 127.0


def phase(midi_f0, tuning, mod_depth, initial_phase, pitch_mod, sample_rate: float):
    """Oscillator phase [..., n] in rad: the pitch midi_f0 + tuning + mod_depth * pitch_mod
    (semitones, clamped to MIDI [0, 127]) as Hz, integrated over time, plus the initial phase."""
    control = jnp.clip((midi_f0 + tuning)[..., None] + mod_depth[..., None] * pitch_mod, 0.0, MIDI_MAX)
    # Materialize the (costly) increments once; otherwise XLA re-fuses them into every consumer.
    increment = materialize(libm.div(TWO_PI * midi_to_hz(control), sample_rate))
    bound = TWO_PI * 440.0 * 2.0 ** ((MIDI_MAX - 69.0) / 12.0) * 1.001 / sample_rate
    return materialize(accurate_cumsum(increment, bound) + initial_phase[..., None])


def sine(argument):
    """The sine VCO's waveform (a cosine of the phase, as torchsynth)."""
    return jnp.cos(argument)


def partials(midi_f0, tuning, mod_depth):
    """The square-saw's steepness [...]: 12000 / (f log10 f) at the highest pitch f the patch can
    reach (midi_f0 + tuning + max(mod_depth, 0)), fewer partials for higher notes."""
    max_f0 = midi_to_hz(midi_f0 + tuning + jnp.maximum(mod_depth, 0.0))
    # Materialized, so that XLA does not recompute it for every sample it broadcasts to.
    return materialize(libm.div(12000.0, max_f0 * jnp.log10(max_f0)))


def square_saw(argument, midi_f0, tuning, mod_depth, shape):
    """Square (shape 0) to saw (shape 1) waveform of phase [..., n], band-limited by a tanh."""
    partials_ = partials(midi_f0, tuning, mod_depth)[..., None]
    square = jnp.tanh(PI * partials_ * jnp.sin(argument) / 2)
    shape = shape[..., None]
    return (1 - shape / 2) * square * (1 + shape * jnp.cos(argument))
