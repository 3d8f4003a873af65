"""torchsynth's `Voice` as one pure JAX function over a [batch, 78] array of parameters in [0, 1].

keyboard -> 6 ADSRs and 2 LFOs at control rate -> 4x5 modulation matrix -> upsampled to audio
rate -> sine VCO, square-saw VCO and noise, each through a VCA -> audio mixer.
"""

from __future__ import annotations

import functools
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth import adsr as adsr_lib
from jaxsynth import lfo as lfo_lib
from jaxsynth import parameters as P
from jaxsynth import vco as vco_lib
from jaxsynth.config import SynthConfig
from jaxsynth.dsp import materialize
from jaxsynth.kernel_scalars import SCALARS
from jaxsynth.keyboard import keyboard
from jaxsynth.mixer import audio_mixer
from jaxsynth.modulation import modulation_mixer
from jaxsynth.subset import ParameterSubset
from jaxsynth.parameters import MODULES, N_PARAMETERS, PARAMETER_NAMES, RANGES
from jaxsynth.noise import NOISE_ROWS, check_noise_rows, expand_noise, tile_rows, white_noise
from jaxsynth.upsample import upsample
from jaxsynth.vca import vca

# The envelopes in the order `control_targets` stacks them: the two mod sources, then each LFO's
# rate and amplitude envelopes.
ADSR_MODULES = ("adsr_1", "adsr_2", "lfo_1_rate_adsr", "lfo_1_amp_adsr", "lfo_2_rate_adsr", "lfo_2_amp_adsr")
LFO_MODULES = ("lfo_1", "lfo_2")



def to_physical(params01):
    """[..., 78] values in [0, 1] -> [..., 78] physical values (s, Hz, MIDI, ...)."""
    return P.columns_from_0to1(params01, RANGES)


def to_0to1(physical):
    """[..., 78] physical values -> [..., 78] values in [0, 1]."""
    return P.columns_to_0to1(physical, RANGES)


def _split(physical) -> dict[str, dict[str, jax.Array]]:
    """[..., 78] -> {module: {parameter: [...]}}.

    The values are materialized first (`dsp.materialize`): otherwise XLA fuses the costly curve
    mapping into every consumer (at worst per sample of a broadcast) and compiles it many times.
    """
    physical = materialize(physical)
    out: dict[str, dict[str, jax.Array]] = {}
    i = 0
    for module, ranges in MODULES:
        out[module] = {}
        for r in ranges:
            out[module][r.name] = physical[..., i]
            i += 1
    return out


def _stacked(p, modules, names):
    """{name: [..., len(modules)]}: parameter `name` of each module side by side."""
    return {name: jnp.stack([p[m][name] for m in modules], axis=-1) for name in names}


def control_targets(physical, config: SynthConfig):
    """The mod matrix's five targets at control rate, [..., 5, control_buffer_size] (`MOD_TARGETS` order).

    The six ADSRs run as one batched call (and the two LFOs as another): the same arithmetic per
    envelope, one copy of it in the compiled graph.
    """
    p = _split(physical)
    n_ctrl, rate, eps = config.control_buffer_size, float(config.control_rate), config.eps
    midi_f0, note_on = keyboard(p["keyboard"]["midi_f0"], p["keyboard"]["duration"])
    e = _stacked(p, ADSR_MODULES, ("attack", "decay", "sustain", "release", "alpha"))
    envelopes = adsr_lib.adsr(e["attack"], e["decay"], e["sustain"], e["release"], e["alpha"], note_on[..., None],
                              n_ctrl, rate, eps)  # [..., 6, n_ctrl], ADSR_MODULES order
    o = _stacked(p, LFO_MODULES, ("frequency", "mod_depth", "initial_phase") + P.LFO_SHAPES)
    weights = jnp.stack([o[s] for s in P.LFO_SHAPES], axis=-1)  # [..., 2, 5]
    rate_envelopes, amp_envelopes = envelopes[..., 2::2, :], envelopes[..., 3::2, :]
    lfos = vca(lfo_lib.lfo(o["frequency"], o["mod_depth"], o["initial_phase"], weights, rate_envelopes, rate),
               amp_envelopes)
    sources = jnp.concatenate([envelopes[..., :2, :], lfos], axis=-2)  # MOD_SOURCES order
    amounts = jnp.stack([p["mod_matrix"][r.name] for r in P.mod_matrix_ranges()], axis=-1)
    amounts = amounts.reshape(amounts.shape[:-1] + (len(P.MOD_SOURCES), len(P.MOD_TARGETS)))
    return modulation_mixer(amounts, sources)


def modulation_signals(physical, config: SynthConfig):
    """The five mod targets at audio rate, [..., 5, buffer_size]."""
    return upsample(control_targets(physical, config), config.buffer_size)


def oscillator_phases(physical, targets, config: SynthConfig):
    """Phases (rad) [..., 2, buffer_size] of vco_1 and vco_2 given the audio-rate mod targets."""
    p = _split(physical)
    midi_f0, sr = p["keyboard"]["midi_f0"], float(config.sample_rate)
    return jnp.stack(
        [
            vco_lib.phase(midi_f0, p[name]["tuning"], p[name]["mod_depth"], p[name]["initial_phase"], targets[..., k, :], sr)
            for name, k in (("vco_1", 0), ("vco_2", 2))
        ],
        axis=-2,
    )


def audio_from_targets(physical, ctrl_targets, noise, config: SynthConfig):
    """The audio-rate stage: upsampling, VCOs, VCAs and mixer. ctrl_targets [..., 5, Nc] -> [..., n]."""
    p = _split(physical)
    targets = upsample(ctrl_targets, config.buffer_size)
    phases = oscillator_phases(physical, targets, config)
    v2 = p["vco_2"]
    out_1 = vca(vco_lib.sine(phases[..., 0, :]), targets[..., 1, :])
    square_saw = vco_lib.square_saw(phases[..., 1, :], p["keyboard"]["midi_f0"], v2["tuning"], v2["mod_depth"], v2["shape"])
    out_2 = vca(square_saw, targets[..., 3, :])
    out_noise = vca(expand_noise(noise, targets.shape[:-2]), targets[..., 4, :])
    return audio_mixer(_levels(p), jnp.stack([out_1, out_2, out_noise], axis=-2))


def _levels(p):
    return jnp.stack([p["mixer"]["vco_1"], p["mixer"]["vco_2"], p["mixer"]["noise"]], axis=-1)


def kernel_scalars(physical):
    """Per-patch scalars of the CPU kernel, [..., N_SCALARS] in `kernel_scalars.SCALARS` order."""
    p = _split(physical)
    midi_f0, v1, v2 = p["keyboard"]["midi_f0"], p["vco_1"], p["vco_2"]
    values = {
        "pitch_1": midi_f0 + v1["tuning"], "depth_1": v1["mod_depth"], "phase0_1": v1["initial_phase"],
        "pitch_2": midi_f0 + v2["tuning"], "depth_2": v2["mod_depth"], "phase0_2": v2["initial_phase"],
        "partials": vco_lib.partials(midi_f0, v2["tuning"], v2["mod_depth"]), "shape": v2["shape"],
        "level_1": p["mixer"]["vco_1"], "level_2": p["mixer"]["vco_2"], "level_noise": p["mixer"]["noise"],
    }
    return jnp.stack([values[name] for name in SCALARS], axis=-1)


def _audio_from_targets_cpu(physical, ctrl_targets, noise, config: SynthConfig):
    """`audio_from_targets` by the numba kernel (forward and reverse mode), CPU only."""
    from jaxsynth import cpu_kernel

    lead = ctrl_targets.shape[:-2]
    check_noise_rows(noise.shape, lead, config.buffer_size)
    # Give noise one row axis per batch axis, so that vmap's broadcasting keeps them aligned.
    noise = noise.reshape((1,) * max(0, len(lead) + 1 - noise.ndim) + noise.shape)
    return cpu_kernel.render_rows(ctrl_targets, jax.lax.stop_gradient(noise), kernel_scalars(physical), float(config.sample_rate))


IMPLEMENTATIONS = ("xla", "cpu_kernel")


def default_impl() -> str:
    """The fastest implementation for JAX's default backend."""
    return "cpu_kernel" if jax.default_backend() == "cpu" else "xla"


def resolve_impl(impl: str | None) -> str:
    """The one place the implementation is decided: `impl` as given, or for None `default_impl()`.

    "xla" is pure JAX on any backend; "cpu_kernel" runs the audio-rate stage as compiled numba
    loops on the host (forward and reverse mode, same results, several times faster on CPU).
    """
    impl = default_impl() if impl is None else impl
    if impl not in IMPLEMENTATIONS:
        raise ValueError(f"unknown impl {impl!r}; valid: {', '.join(IMPLEMENTATIONS)}")
    return impl


def render_physical(physical, noise, config: SynthConfig, impl: str | None = None):
    """Audio [..., buffer_size] from physical parameters [..., 78] and white noise.

    noise: [..., buffer_size] broadcastable to the batch, or [r, buffer_size] whose rows repeat
    over a 1-D batch that is a multiple of r (torchsynth's reproducible mode keeps r = 32).
    impl: "xla", "cpu_kernel", or None for the backend's default (`resolve_impl`).
    """
    ctrl = control_targets(physical, config)
    if resolve_impl(impl) == "cpu_kernel":
        return _audio_from_targets_cpu(physical, ctrl, noise, config)
    return audio_from_targets(physical, ctrl, noise, config)


def render(params01, noise, config: SynthConfig, impl: str | None = None):
    """Audio [..., buffer_size] float32 from parameters [..., 78] in [0, 1]; pure and jittable.

    impl: "xla", "cpu_kernel", or None for the backend's default (`resolve_impl`).
    """
    return render_physical(to_physical(params01), noise, config, impl)


class ParameterError(ValueError):
    """Raised for parameter arrays of the wrong shape or with values outside [0, 1]."""


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


class Voice:
    """torchsynth 1.0.2's `Voice` synthesizer as a pure, jittable, differentiable JAX function.

    `render(params01)` maps a [batch, 78] array in [0, 1] (columns in `parameter_names` order)
    to [batch, buffer_size] float32 audio at `config.sample_rate`.
    """

    parameter_names: tuple[str, ...] = PARAMETER_NAMES
    ranges: tuple[P.ParameterRange, ...] = RANGES

    def __init__(self, config: SynthConfig = SynthConfig(), noise_seed: int = 13, impl: str | None = None):
        self.config = config
        self.noise_seed = noise_seed
        self.impl = resolve_impl(impl)
        self._render = jax.jit(functools.partial(render, config=config, impl=self.impl))

    @property
    def n_parameters(self) -> int:
        return N_PARAMETERS

    def index(self, name: str) -> int:
        """Column of a `module/param` name."""
        return P.parameter_index(name)

    @functools.cached_property
    def noise_rows(self) -> jax.Array:
        """The default noise: 32 rows [32, buffer_size] from a JAX key, repeated over the batch."""
        return white_noise(jax.random.PRNGKey(self.noise_seed), NOISE_ROWS, self.config.buffer_size)

    def default_noise(self, batch: int) -> jax.Array:
        """[batch, buffer_size]: the 32 default rows repeated (render itself passes the 32 rows)."""
        return tile_rows(self.noise_rows, batch)

    def batch_noise(self, batch: int) -> jax.Array:
        """The default noise of a batch in its smallest form: the 32 rows [32, buffer_size] when
        batch is a multiple of 32 (row b uses row b % 32), else `default_noise(batch)`. Same sounds;
        the CPU kernel then reads 32 rows instead of a [batch, buffer_size] copy."""
        rows = self.noise_rows
        return rows if batch % rows.shape[0] == 0 else self.default_noise(batch)

    def validate(self, params01, name: str = "params01") -> None:
        """Raise `ParameterError` naming the first bad parameter (shape, NaN, outside [0, 1]).

        Call it eagerly before a jitted function; `render` calls it itself when not traced.
        """
        validate_params(params01, self.parameter_names, self.ranges, name)

    def render(self, params01, noise=None):
        """[batch, 78] in [0, 1] -> [batch, buffer_size] float32 audio.

        noise: white noise [batch, buffer_size], [buffer_size], or [r, buffer_size] rows repeating
        over the batch (e.g. a torchsynth Voice's buffer for parity); None uses this Voice's 32
        default rows, repeated like torchsynth's.
        """
        if not _is_traced(params01):
            self.validate(params01)
        params01 = jnp.asarray(params01, jnp.float32)
        if noise is None:
            noise = self.batch_noise(params01.shape[0])
        noise = jnp.asarray(noise, jnp.float32)
        check_noise_rows(noise.shape, params01.shape[:-1], self.config.buffer_size)
        if not _is_traced(noise) and not bool(jnp.isfinite(noise).all()):
            raise ValueError("noise holds NaN or infinite samples; give finite white noise (or None for the "
                             "voice's own)")
        return self._render(params01, noise)

    def to_physical(self, params01):
        return to_physical(jnp.asarray(params01, jnp.float32))

    def to_0to1(self, physical):
        return to_0to1(jnp.asarray(physical, jnp.float32))

    def random_params(self, key, batch: int | None = None):
        """Uniform [batch, 78] in [0, 1), the way torchsynth randomizes a Voice."""
        return P.random_params(key, self.config.batch_size if batch is None else batch)

    def subset(self, free: list[str] | tuple[str, ...], fixed: Mapping[str, float]):
        """A `ParameterSubset` that trains on `free` names with the others held at `fixed` (0-1)."""
        return ParameterSubset.create(free, fixed)


def validate_params(params01, names, ranges, label: str = "params01") -> None:
    """Host-side check of a [batch, len(names)] array in [0, 1]; errors name the parameter."""
    arr = np.asarray(params01)
    if arr.ndim != 2 or arr.shape[1] != len(names) or arr.shape[0] < 1:
        raise ParameterError(
            f"{label} must have shape [batch, {len(names)}] with batch >= 1 (one column per parameter), "
            f"got {tuple(arr.shape)}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(f"{label} must hold numbers in [0, 1], got an array of dtype {arr.dtype}")
    bad_nan = ~np.isfinite(arr)
    bad_range = (arr < 0.0) | (arr > 1.0)
    for kind, mask in (("is not finite", bad_nan), ("is outside [0, 1]", bad_range & ~bad_nan)):
        if mask.any():
            row, col = np.argwhere(mask)[0]
            r = ranges[col]
            raise ParameterError(
                f"{label}[{row}, {col}] = {float(arr[row, col])!r} for parameter {names[col]!r} {kind}; "
                f"parameters are given in [0, 1], mapping to the physical range {r.describe()}"
            )
