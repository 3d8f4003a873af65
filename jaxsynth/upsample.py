"""Linear control-rate -> audio-rate upsampling (torch `Upsample(mode='linear', align_corners=True)`)."""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from jaxsynth import libm


@functools.lru_cache(maxsize=32)
def upsample_weights(n_in: int, n_out: int):
    """Left indices, right indices and right weights [n_out] of linear interpolation with aligned
    corners, computed in float32 exactly as torch does (scale = (n_in-1)/(n_out-1))."""
    scale = np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0)
    src = scale * np.arange(n_out, dtype=np.float32)
    left = src.astype(np.int64)
    left = np.minimum(left, n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    frac = (src - left.astype(np.float32)).astype(np.float32)
    return left, right, frac


@functools.lru_cache(maxsize=32)
def block_plan(n_in: int, n_out: int):
    """Gather-free layout: outputs in blocks of L samples, within which the left index takes at
    most two values, so every block needs only 3 consecutive control samples starting at base[m].

    Returns base [M], left offset [M, L] in {0, 1}, right offset [M, L] in {0, 1, 2}, and the
    float32 weights (1 - frac, frac) [M, L]; padded outputs past n_out are dropped later.
    """
    left, right, frac = upsample_weights(n_in, n_out)
    block = max(1, (n_out - 1) // max(1, n_in - 1))
    n_blocks = -(-n_out // block)
    pad = n_blocks * block - n_out

    def padded(a):
        return np.concatenate([a, np.repeat(a[-1:], pad)]).reshape(n_blocks, block)

    left_b, right_b, frac_b = padded(left), padded(right), padded(frac)
    base = left_b[:, 0]
    dl, dr = left_b - base[:, None], right_b - base[:, None]
    assert dl.max() <= 1 and dr.max() <= 2, "block longer than one control period"
    return base, dl, dr, (np.float32(1.0) - frac_b).astype(np.float32), frac_b.astype(np.float32)


def upsample(signal, n_out: int):
    """Upsample [..., n_in] control samples to [..., n_out] audio samples, bit-exact with torch's
    CPU kernel (fma(x0, 1 - w, x1 * w)), without an audio-rate gather (slow on XLA:CPU)."""
    n_in = signal.shape[-1]
    base, dl, dr, w0, w1 = block_plan(n_in, n_out)
    x0, x1, x2 = (signal[..., np.minimum(base + k, n_in - 1)][..., None] for k in range(3))
    x_left = jnp.where(dl == 0, x0, x1)
    x_right = jnp.where(dr == 0, x0, jnp.where(dr == 1, x1, x2))
    out = libm.fma(x_left, w0, x_right * w1)
    return out.reshape(out.shape[:-2] + (-1,))[..., :n_out]
