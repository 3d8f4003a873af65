"""Small numerical building blocks shared by the modules (all over the last axis = time)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxsynth import libm

from jaxsynth.parameters import PI

TWO_PI = 2 * PI  # float32-exact, as torchsynth's `2 * torch.pi`


def midi_to_hz(midi):
    """MIDI note number(s) to frequency in Hz (69 -> 440 Hz)."""
    return 440.0 * libm.exp2(libm.div(midi - 69.0, 12.0))


def safe_pow(base, exponent):
    """base ** exponent for base >= 0; 0 at base = 0 with finite gradients (no 0 * log 0)."""
    positive = base > 0
    return jnp.where(positive, jnp.power(jnp.where(positive, base, 1.0), exponent), 0.0)


def safe_divide(numerator, denominator, fallback):
    """numerator / denominator where denominator != 0, else `fallback`; gradients stay finite."""
    nonzero = denominator != 0
    return jnp.where(nonzero, numerator / jnp.where(nonzero, denominator, 1.0), fallback)


def _two_float_scan(hi, lo, axis):
    """Inclusive prefix sum of two-float numbers (hi + lo) along `axis`, log-depth (`libm.df_add`
    renormalizes each partial sum, so lo stays below an ulp of hi)."""
    return jax.lax.associative_scan(libm.df_add, (hi, lo), axis=axis)


def accurate_cumsum(x, bound: float, block: int = 64):
    """Cumulative sum over the last axis of float32 `x` with |x| <= `bound`, rounded once.

    torchsynth's CPU `cumsum` accumulates float32 input in float64 and rounds each partial sum
    to float32; a float32 scan drifts by many ulps over 44,100 samples, which becomes phase
    error at high pitches. We reproduce the double-precision result: each value is split into
    a coarse part on a grid fine enough that block sums of `block` values are exact in float32
    (summed with a triangular matmul), plus a tiny remainder; blocks are then joined with an
    error-free two-float scan and the total is rounded once. Shapes [..., n] -> [..., n].
    """
    n = x.shape[-1]
    lead = x.shape[:-1]
    n_blocks = -(-n // block)
    x = jnp.pad(x, [(0, 0)] * len(lead) + [(0, n_blocks * block - n)])
    # Grid: block sums of coarse values stay below 2**23 grid units, hence exact.
    unit = 2.0 ** (math.ceil(math.log2(block * max(bound, 1e-30))) - 23)
    coarse = jnp.round(x / unit) * unit
    fine = x - coarse
    tri = jnp.triu(jnp.ones((block, block), x.dtype))  # tri[j, i] = 1 for j <= i
    blocks = jnp.stack([coarse, fine]).reshape((2,) + lead + (n_blocks, block))
    inner = jnp.matmul(blocks, tri, precision=jax.lax.Precision.HIGHEST)
    in_hi, in_lo = inner[0], inner[1]
    # Exclusive two-float offsets of each block.
    tot_hi = jnp.pad(in_hi[..., :-1, -1], [(0, 0)] * len(lead) + [(1, 0)])
    tot_lo = jnp.pad(in_lo[..., :-1, -1], [(0, 0)] * len(lead) + [(1, 0)])
    off_hi, off_lo = _two_float_scan(tot_hi, tot_lo, axis=len(lead))
    s, err = libm.two_sum(off_hi[..., None], in_hi)
    out = s + (err + (off_lo[..., None] + in_lo))
    return out.reshape(lead + (n_blocks * block,))[..., :n]


def normalize_if_clipping(signal):
    """Divide each row of [..., time] by its peak where the peak exceeds 1 (torchsynth's rule)."""
    peak = jnp.max(jnp.abs(signal), axis=-1, keepdims=True)
    return jnp.where(peak > 1.0, signal / jnp.where(peak > 1.0, peak, 1.0), signal)


def materialize(x):
    """x, computed once and stored: a boundary XLA:CPU neither fuses through nor duplicates into.

    XLA:CPU drops `optimization_barrier` before fusing and duplicates cheap producers into each
    consumer. The torch-exact libm emulations are long chains of cheap ops, so the [..., 78]
    parameter mapping read through 78 column slices was compiled into dozens of fusions (HLO 6x
    larger; gradient of a render: 9 s to compile instead of 3.6 s). A conditional on a value
    known only at run time is opaque to fusion. Both branches return x (the second runs only
    when x holds a NaN). On other backends (where a conditional waits on its predicate) it is an
    `optimization_barrier`, which their compilers keep.
    """
    if jax.default_backend() != "cpu":
        return jax.lax.optimization_barrier(x)
    return jax.lax.cond(jnp.all(x == x), lambda v: v, lambda v: v * 1.0, x)

