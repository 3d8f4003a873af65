"""Upper bounds of the sizes a small input can ask for, checked before anything is allocated.

A flag, a header or a request that asks for more than these is refused with `SizeLimitError`
naming it (a 4 KB WAV claiming 1,000,000,007 Hz, `--hidden 200000 200000`, a split of 1e12
patches), instead of a MemoryError, an XLA abort or a 149 GiB resample. The bounds are far
above the thesis's settings (140,000 patches, widths 256, 44.1 kHz, 1 s).
"""

from __future__ import annotations

MAX_PATCHES = 10_000_000  # Patches of a dataset or split (x 78 parameters x 4 B: 3 GB).
MAX_HIDDEN = 16_384  # Width of one hidden layer (a 16k x 16k layer: 1 GiB of float32 weights).
MAX_LATENT = 4_096  # Latent dimensions.
MAX_SAMPLE_RATE = 384_000  # Hz, of the synth and of a WAV's header (the highest rate audio gear uses).
MIN_WAV_RATE = 1_000  # Hz, the lowest WAV rate read (a lower claimed rate means a huge upsampling).
MAX_SECONDS = 60.0  # Seconds of a synth buffer (one sound: 60 s x 384 kHz x 4 B = 92 MB per patch).


class SizeLimitError(ValueError):
    """A size (patches, widths, rate, duration) above its bound in `common.limits`; the message names it."""


def above_limit(value: float, limit: float, hint: str = "") -> str:
    """'VALUE is above the limit of LIMIT' (+ '; hint'), and where the limits are written."""
    shown = value if isinstance(value, int) else f"{value:g}"
    return f"{shown} is above the limit of {limit:g}" + (f"; {hint}" if hint else "") + " (common/limits.py)"


def check_size(name: str, value: float, limit: float, hint: str = "") -> None:
    """Raises `SizeLimitError` "NAME VALUE is above the limit of LIMIT" (+ hint) when value > limit."""
    if value > limit:
        raise SizeLimitError(f"{name} {above_limit(value, limit, hint)}")
