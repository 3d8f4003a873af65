"""Attack-decay-sustain-release envelopes at control rate (torchsynth's `ADSR`)."""

from __future__ import annotations

import jax.numpy as jnp

from jaxsynth import libm
from jaxsynth.dsp import safe_pow


def ramp(duration, start, n: int, rate: float, alpha, eps: float, inverse: bool = False):
    """A 0->1 (or 1->0 if `inverse`) ramp of `duration` s starting at `start` s, shaped by ** alpha.

    duration, start, alpha: [...] (s, s, exponent); returns [..., n] at `rate` Hz. A zero
    duration gives an instant step, as in torchsynth, but through masked divisions so its
    gradient stays finite.
    """
    duration = (duration * rate)[..., None]
    start = (start * rate)[..., None]
    t = jnp.arange(n, dtype=jnp.float32)
    r = jnp.maximum(t - start, 0.0)
    positive = duration > 0.0
    r = jnp.where(positive, libm.div(r + eps, jnp.where(positive, duration, 1.0)) + eps, 1.0)
    r = jnp.minimum(r, 1.0)
    if inverse:
        r = jnp.where(positive, 1.0 - r, r)
    return safe_pow(r, alpha[..., None])


def adsr(attack, decay, sustain, release, alpha, note_on_duration, n: int, rate: float, eps: float):
    """ADSR envelope [..., n] at `rate` Hz from physical parameters [...] (seconds, 0-1 sustain).

    The attack and decay are cut short when the key is released before they end; the release
    starts at `note_on_duration` seconds.
    """
    new_attack = jnp.minimum(attack, note_on_duration)
    new_decay = jnp.minimum(jnp.maximum(note_on_duration - attack, 0.0), decay)
    zero = jnp.zeros_like(attack)
    attack_signal = ramp(new_attack, zero, n, rate, alpha, eps)
    sustain = sustain[..., None]
    decay_signal = (1.0 - sustain) * ramp(new_decay, new_attack, n, rate, alpha, eps, inverse=True) + sustain
    release_signal = ramp(release, note_on_duration, n, rate, alpha, eps, inverse=True)
    return attack_signal * decay_signal * release_signal
