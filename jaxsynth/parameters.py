"""Parameter ranges and the [0, 1] <-> physical mapping of torchsynth's `ModuleParameterRange`.

The curve mapping is written exactly as torchsynth computes it (`exp2(log2(x) / curve)`) so
float32 results agree bit for bit, but with the unsafe branch masked ("double where") so the
gradient stays finite at x = 0 and at the symmetric centre.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth import libm

# torchsynth defines pi as float32(pi), i.e. 3.1415927410125732; we use the same constant.
PI = 3.1415927410125732


def _safe_curve(x, curve: float):
    """x ** (1 / curve) for x >= 0 as exp2(log2(x) / curve), zero at x = 0 with a finite gradient."""
    positive = x > 0
    x_safe = jnp.where(positive, x, 1.0)
    return jnp.where(positive, libm.exp2(libm.div(libm.log2(x_safe), curve)), 0.0)


@dataclasses.dataclass(frozen=True)
class ParameterRange:
    """A named parameter's physical range [minimum, maximum] with its curve and symmetry."""

    name: str
    minimum: float
    maximum: float
    curve: float = 1.0
    symmetric: bool = False

    def from_0to1(self, normalized):
        """Map values in [0, 1] to the physical range (torchsynth's `from_0to1`)."""
        return columns_from_0to1(jnp.asarray(normalized)[..., None], (self,))[..., 0]

    def to_0to1(self, value):
        """Map physical values back to [0, 1] (torchsynth's `to_0to1`, without its asserts)."""
        return columns_to_0to1(jnp.asarray(value)[..., None], (self,))[..., 0]

    def from_0to1_float64(self, normalized: np.ndarray) -> np.ndarray:
        """Host-side float64 `from_0to1` (for storing datasets losslessly; float32 steep curves
        lose digits: mixer/noise = x**40 underflows below x = 0.11). A symmetric range is written
        centre + half-width * y so values near the centre keep their digits."""
        x = np.asarray(normalized, np.float64)
        x = 2.0 * x - 1.0 if self.symmetric else x
        y = np.sign(x) * np.abs(x) ** (1.0 / self.curve)
        if self.symmetric:
            return (self.minimum + self.maximum) / 2.0 + (self.maximum - self.minimum) / 2.0 * y
        return self.minimum + (self.maximum - self.minimum) * y

    def to_0to1_float64(self, value: np.ndarray) -> np.ndarray:
        """Inverse of `from_0to1_float64`, float64."""
        v = np.asarray(value, np.float64)
        if self.symmetric:
            x = (v - (self.minimum + self.maximum) / 2.0) / ((self.maximum - self.minimum) / 2.0)
        else:
            x = (v - self.minimum) / (self.maximum - self.minimum)
        y = np.sign(x) * np.abs(x) ** self.curve
        return (y + 1.0) / 2.0 if self.symmetric else y

    def describe(self) -> str:
        kind = "symmetric " if self.symmetric else ""
        return f"[{self.minimum:g}, {self.maximum:g}] ({kind}curve {self.curve:g})"


@functools.lru_cache(maxsize=None)
def _table(ranges: tuple[ParameterRange, ...]):
    """Per-column constants of `ranges` as float32 / bool numpy arrays [k] (scalar arithmetic in
    float64, rounded once, as Python floats are when torchsynth's formulas meet float32)."""
    f32 = lambda values: np.asarray(values, np.float64).astype(np.float32)
    return dict(
        minimum=f32([r.minimum for r in ranges]),
        span=f32([r.maximum - r.minimum for r in ranges]),
        half_span=f32([(r.maximum - r.minimum) / 2.0 for r in ranges]),
        curve=f32([r.curve for r in ranges]),
        curved=np.asarray([r.curve != 1.0 for r in ranges]),
        symmetric=np.asarray([r.symmetric for r in ranges]),
    )


def columns_from_0to1(normalized, ranges: tuple[ParameterRange, ...]):
    """[..., k] values in [0, 1] -> [..., k] physical values, column i through ranges[i].

    torchsynth's `from_0to1` per column (min + span * x^(1/curve), or for a symmetric range
    min + span / 2 * (sign(d) |d|^(1/curve) + 1) with d = 2x - 1), float32 op for op, so values
    agree bit for bit; written once over all columns with per-column constants, so a Voice's 78
    parameters make one small graph (fast to compile and to differentiate), not 78 copies.
    """
    t = _table(tuple(ranges))
    sym = t["symmetric"]
    dist = 2.0 * normalized - 1.0
    base = jnp.where(sym, jnp.abs(dist), normalized)
    curved = jnp.where(t["curved"], _safe_curve(base, t["curve"]), base)
    signed = jnp.where(sym, curved * jnp.sign(dist), curved)
    return jnp.where(sym, t["minimum"] + t["half_span"] * (signed + 1.0), t["minimum"] + t["span"] * signed)


def columns_to_0to1(value, ranges: tuple[ParameterRange, ...]):
    """Inverse of `columns_from_0to1`: [..., k] physical values -> [..., k] in [0, 1] (torchsynth's
    `to_0to1` per column: ((v - min) / span)^curve, or (1 + sign(d) |d|^curve) / 2 when symmetric)."""
    t = _table(tuple(ranges))
    sym = t["symmetric"]
    normalized = (value - t["minimum"]) / t["span"]
    dist = 2.0 * normalized - 1.0
    # Each branch reads 1.0 where the other is selected (no inf/nan from a discarded pow).
    sym_base = jnp.where(sym, jnp.abs(dist), 1.0)
    out_sym = (1.0 + jnp.power(sym_base, t["curve"]) * jnp.sign(dist)) / 2.0
    plain = jnp.where(sym | ~t["curved"], 1.0, normalized)
    out_plain = jnp.where(t["curved"], jnp.power(plain, t["curve"]), normalized)
    return jnp.where(sym, out_sym, out_plain)


def adsr_ranges() -> tuple[ParameterRange, ...]:
    """attack/decay (s), sustain (0-1), release (s), alpha (envelope curve exponent)."""
    return (
        ParameterRange("attack", 0.0, 2.0, 0.5),
        ParameterRange("decay", 0.0, 2.0, 0.5),
        ParameterRange("sustain", 0.0, 1.0, 1.0),
        ParameterRange("release", 0.0, 5.0, 0.5),
        ParameterRange("alpha", 0.1, 6.0, 1.0),
    )


LFO_SHAPES = ("sin", "tri", "saw", "rsaw", "sqr")


def lfo_ranges() -> tuple[ParameterRange, ...]:
    """frequency (Hz), mod_depth (Hz of rate modulation), initial_phase (rad), shape mix."""
    return (
        ParameterRange("frequency", 0.0, 20.0, 0.25),
        ParameterRange("mod_depth", -10.0, 20.0, 0.5, symmetric=True),
        ParameterRange("initial_phase", -PI, PI, 1.0),
    ) + tuple(ParameterRange(shape, 0.0, 1.0, 1.0) for shape in LFO_SHAPES)


def vco_ranges(with_shape: bool = False) -> tuple[ParameterRange, ...]:
    """tuning (semitones), mod_depth (semitones), initial_phase (rad), optional square-saw shape."""
    ranges = (
        ParameterRange("tuning", -24.0, 24.0, 1.0),
        ParameterRange("mod_depth", -96.0, 96.0, 0.2, symmetric=True),
        ParameterRange("initial_phase", -PI, PI, 1.0),
    )
    return ranges + ((ParameterRange("shape", 0.0, 1.0, 1.0),) if with_shape else ())


def keyboard_ranges() -> tuple[ParameterRange, ...]:
    """midi_f0 (MIDI note, 69 = 440 Hz) and note-on duration (s)."""
    return (
        ParameterRange("midi_f0", 0.0, 127.0, 1.0),
        ParameterRange("duration", 0.01, 4.0, 0.5),
    )


MOD_SOURCES = ("adsr_1", "adsr_2", "lfo_1", "lfo_2")
MOD_TARGETS = ("vco_1_pitch", "vco_1_amp", "vco_2_pitch", "vco_2_amp", "noise_amp")


def mod_matrix_ranges() -> tuple[ParameterRange, ...]:
    """The 4x5 modulation amounts, source-major, each in [0, 1] with curve 0.5."""
    return tuple(
        ParameterRange(f"{src}->{dst}", 0.0, 1.0, 0.5) for src in MOD_SOURCES for dst in MOD_TARGETS
    )


def mixer_ranges() -> tuple[ParameterRange, ...]:
    """Mix levels of vco_1, vco_2 and noise (noise with torchsynth's curve 0.025)."""
    return (
        ParameterRange("vco_1", 0.0, 1.0, 1.0),
        ParameterRange("vco_2", 0.0, 1.0, 1.0),
        ParameterRange("noise", 0.0, 1.0, 0.025),
    )



# Modules in torchsynth's `named_parameters()` order, with their parameter ranges.
MODULES: tuple[tuple[str, tuple[ParameterRange, ...]], ...] = (
    ("keyboard", keyboard_ranges()),
    ("adsr_1", adsr_ranges()),
    ("adsr_2", adsr_ranges()),
    ("lfo_1", lfo_ranges()),
    ("lfo_2", lfo_ranges()),
    ("lfo_1_amp_adsr", adsr_ranges()),
    ("lfo_2_amp_adsr", adsr_ranges()),
    ("lfo_1_rate_adsr", adsr_ranges()),
    ("lfo_2_rate_adsr", adsr_ranges()),
    ("mod_matrix", mod_matrix_ranges()),
    ("vco_1", vco_ranges()),
    ("vco_2", vco_ranges(with_shape=True)),
    ("mixer", mixer_ranges()),
)

PARAMETER_NAMES: tuple[str, ...] = tuple(f"{m}/{r.name}" for m, ranges in MODULES for r in ranges)
RANGES: tuple[ParameterRange, ...] = tuple(r for _, ranges in MODULES for r in ranges)
N_PARAMETERS = len(PARAMETER_NAMES)  # 78


def parameter_index(name: str) -> int:
    """Column of a `module/param` name in `PARAMETER_NAMES`; KeyError listing the valid names."""
    try:
        return PARAMETER_NAMES.index(name)
    except ValueError:
        raise KeyError(f"unknown parameter {name!r}; valid names: {', '.join(PARAMETER_NAMES)}") from None


def parameter_range(name: str) -> ParameterRange:
    """The `ParameterRange` of a `module/param` name."""
    return RANGES[parameter_index(name)]


def random_params(key, batch: int):
    """Uniform [batch, 78] in [0, 1), the way torchsynth randomizes a Voice."""
    return jax.random.uniform(key, (batch, N_PARAMETERS), jnp.float32)
