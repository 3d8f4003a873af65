"""The per-patch scalars the CPU kernel reads (`cpu_kernel`), by name.

One layout for the packer (`voice.kernel_scalars`), the forward kernel and its reverse mode:
the kernel takes them as one float32 row [N_SCALARS] per patch, and every access goes through
these indices (numba reads module-level integers as compile-time constants).
"""

from __future__ import annotations

# Column order of the scalars row. Pitches in MIDI notes (midi_f0 + tuning), depths in
# semitones per unit of pitch modulation, initial phases in rad; partials is the square-saw's
# steepness (`vco.partials`), shape its square-to-saw mix; levels are the mixer's.
SCALARS = ("pitch_1", "depth_1", "phase0_1", "pitch_2", "depth_2", "phase0_2", "partials", "shape",
           "level_1", "level_2", "level_noise")
PITCH_1, DEPTH_1, PHASE0_1, PITCH_2, DEPTH_2, PHASE0_2, PARTIALS, SHAPE, LEVEL_1, LEVEL_2, LEVEL_NOISE = range(11)
N_SCALARS = len(SCALARS)
assert SCALARS.index("level_noise") == LEVEL_NOISE and N_SCALARS == 11
