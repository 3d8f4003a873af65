"""Linear control-rate -> audio-rate upsampling (torch `Upsample(mode='linear', align_corners=True)`)."""

from __future__ import annotations

import functools

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


def upsample(signal, n_out: int):
    """Upsample [..., n_in] control samples to [..., n_out] audio samples."""
    left, right, frac = upsample_weights(signal.shape[-1], n_out)
    return libm.fma(signal[..., left], 1.0 - frac, frac * signal[..., right])
