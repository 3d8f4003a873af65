"""Global synthesis settings shared by every module, mirroring torchsynth's `SynthConfig`."""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class SynthConfig:
    """Static settings of a synth (hashable, so it can be a `jax.jit` static argument).

    Attributes:
      batch_size: number of patches rendered at once (used by `Voice.random_params` and the
        default noise buffer; `render` accepts any batch).
      sample_rate: audio rate in Hz.
      buffer_size_seconds: length of every rendered sound in seconds.
      control_rate: rate in Hz of envelopes, LFOs and the modulation matrix.
      eps: small constant against division by zero, as torchsynth's (1e-6).
    """

    batch_size: int = 128
    sample_rate: int = 44100
    buffer_size_seconds: float = 4.0
    control_rate: int = 441
    eps: float = 1e-6

    def __post_init__(self):
        checks = {
            "batch_size": (self.batch_size, 1),
            "sample_rate": (self.sample_rate, 1),
            "control_rate": (self.control_rate, 1),
        }
        for name, (value, low) in checks.items():
            if int(value) != value or value < low:
                raise ValueError(f"SynthConfig.{name} must be an integer >= {low}, got {value!r}")
        if not 0 < self.buffer_size_seconds < math.inf:
            raise ValueError(
                f"SynthConfig.buffer_size_seconds must be a finite number > 0 seconds, got {self.buffer_size_seconds!r}"
            )
        if self.control_rate > self.sample_rate:
            raise ValueError(
                f"SynthConfig.control_rate ({self.control_rate} Hz) must not exceed "
                f"sample_rate ({self.sample_rate} Hz)"
            )
        if not 0 < self.eps < 1e-2:
            raise ValueError(f"SynthConfig.eps must be in (0, 0.01), got {self.eps!r}")
        if self.control_buffer_size < 2:
            raise ValueError(
                "SynthConfig gives fewer than 2 control samples "
                f"({self.buffer_size_seconds} s at {self.control_rate} Hz); lengthen the buffer"
            )

    @property
    def buffer_size(self) -> int:
        """Audio samples per sound."""
        return int(round(self.buffer_size_seconds * self.sample_rate))

    @property
    def control_buffer_size(self) -> int:
        """Control-rate samples per sound (torchsynth rounds buffer_size / sr * control_rate)."""
        return int(round(self.buffer_size / self.sample_rate * self.control_rate))

    @property
    def nyquist(self) -> float:
        return self.sample_rate / 2.0
