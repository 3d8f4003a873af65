"""SynthAX 0.2.2's Voice beside torchsynth 1.0.2's and ours: the parameter mapping, and how far the sounds are.

    python benchmarks/synthax_compare.py [--patches 128] [--seed 0]

SynthAX (`pip install synthax==0.2.2`, the `bench` extra) is a Flax port of torchsynth. Its `Voice`
has the same modules, wiring and parameter ranges and curves as torchsynth's Voice with its
default nebula (keyboard, 6 ADSRs, 2 LFOs, the 4x5 modulation matrix, sine and square-saw VCOs,
noise, VCAs, upsampler, mixer), but differs in these ways (read from its source):

  * Parameters are a Flax tree, not one [batch, 78] array: `modules_<module>/<param>` of shape
    [batch] each, the modulation matrix as one `mod` [batch, 5 outputs, 4 inputs] and the mixer as
    one `level` [batch, 3]. `init` draws every parameter uniformly in its *physical* range
    (torchsynth: uniformly in [0, 1], then the curve), so its random patches are distributed
    differently.
  * Mixer: the noise level's curve 0.025 (torchsynth: level = x**40) is never applied, since
    SynthAX's `from_0to1` applies a curve only when *all* entries of the curve array differ from
    1 (`jnp.all(curve != 1)`); the noise level is linear in [0, 1].
  * Clipping normalization: `normalize_if_clipping` takes `jnp.max(..., keepdims=True)[0]`, the
    maximum of the *first* sound of the batch (torch's `max(dim=1)[0]` is the values tensor), so
    every sound is divided by sound 0's peak when sound 0 clips, and none is normalized otherwise:
    a sound depends on its batch neighbours.
  * Noise: one row of uniform noise from `jax.random.PRNGKey(0)` shared by the whole batch
    (torchsynth: 32 rows from its torch generator, seed 13; ours: 32 rows from a JAX key or
    torchsynth's rows for parity).
  * Lengths: `ceil(seconds * rate)` samples, audio and control (torchsynth and ours: round), so
    where seconds x control rate is not an integer (0.25 s at 441 Hz) the control signals have one
    more sample, every envelope is stretched by it through the upsampler, and the sounds differ
    grossly (relative RMS 0.02-1.9 on six patches at 0.25 s); at 1 s they agree.
  * Arithmetic: float32 `jnp.cumsum` for the oscillator phases (torch's CPU cumsum accumulates in
    float64; ours reproduces that), XLA's `exp2`/`log2`/division (ours: torch-exact), `jnp.interp`
    for the upsampler (the same positions as torch's linear, align_corners=True interpolation).

How parameters are mapped here: every one of the 78 columns of a torchsynth/jaxsynth patch goes
to the SynthAX parameter with the same module and name, as its [0, 1] value (the ranges and
curves are equal), except the three mixer levels, which get their *physical* value (for the
noise level x**40), so that all three synths play the same physical patch.

The table: relative RMS distance ||a - b|| / ||b|| per patch (median, 90th percentile, max) on
random uniform patches at 44.1 kHz, 1 s, for each pair of synths; once with the noise level at 0
(SynthAX's noise cannot be made equal to torchsynth's) and once as drawn. "SynthAX, batch of
1" renders each patch alone, which removes the batch-dependent normalization.
"""

from __future__ import annotations

import argparse
import functools
import warnings

import numpy as np

from jaxsynth import SynthConfig
from jaxsynth import Voice as JaxVoice

MOD_INPUTS = ("adsr_1", "adsr_2", "lfo_1", "lfo_2")
MOD_OUTPUTS = ("vco_1_pitch", "vco_1_amp", "vco_2_pitch", "vco_2_amp", "noise_amp")
MIXER_INPUTS = ("vco_1", "vco_2", "noise")
INSTALL_HINT = "pip install -e '.[bench]' (synthax==0.2.2)"


def import_synthax():
    """(SynthConfig, Voice) of SynthAX; ImportError with the install command when absent."""
    try:
        from synthax.config import SynthConfig as SxConfig
        from synthax.synth import Voice as SxVoice
    except ImportError as err:
        raise ImportError(f"SynthAX is not installed: {INSTALL_HINT}") from err
    return SxConfig, SxVoice


def synthax_missing() -> str | None:
    """None when SynthAX can be imported, else a one-line reason with the install command."""
    try:
        import_synthax()
    except ImportError as err:
        return f"{err} ({err.__cause__})"
    return None


def to_synthax_params(params01: np.ndarray) -> dict:
    """A [batch, 78] jaxsynth/torchsynth patch in [0, 1] as SynthAX's Voice parameter tree (same
    physical patch: [0, 1] values where SynthAX's mapping equals torchsynth's, physical mixer levels)."""
    params01 = np.asarray(params01, np.float32)
    batch = params01.shape[0]
    physical = np.asarray(JaxVoice().to_physical(params01))
    tree: dict[str, dict[str, np.ndarray]] = {}
    mod = np.zeros((batch, len(MOD_OUTPUTS), len(MOD_INPUTS)), np.float32)
    level = np.zeros((batch, len(MIXER_INPUTS)), np.float32)
    for i, name in enumerate(JaxVoice.parameter_names):
        module, param = name.split("/")
        if module == "mod_matrix":
            source, target = param.split("->")
            mod[:, MOD_OUTPUTS.index(target), MOD_INPUTS.index(source)] = params01[:, i]
        elif module == "mixer":
            level[:, MIXER_INPUTS.index(param)] = physical[:, i]
        else:
            tree.setdefault(f"modules_{module}", {})[param] = params01[:, i]
    tree["modules_mod_matrix"] = {"mod": mod}
    tree["modules_mixer"] = {"level": level}
    return {"params": tree}


class SynthaxVoice:
    """SynthAX's Voice for one batch size, jitted (`Voice.apply`, as its README renders)."""

    def __init__(self, config: SynthConfig):
        import jax

        SxConfig, SxVoice = import_synthax()
        self.config = config
        self.voice = SxVoice(SxConfig(batch_size=config.batch_size, sample_rate=config.sample_rate,
                                      buffer_size_seconds=config.buffer_size_seconds,
                                      control_rate=config.control_rate, eps=config.eps))
        self.apply = jax.jit(self.voice.apply)

    def check_tree(self, tree: dict) -> None:
        """Raise if `tree` does not have the structure and shapes of SynthAX's own init."""
        import jax

        expected = jax.eval_shape(self.voice.init, jax.random.PRNGKey(0))
        got = jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(np.shape(x), np.float32), tree)
        if jax.tree_util.tree_structure(expected) != jax.tree_util.tree_structure(got) or any(
                a.shape != b.shape for a, b in zip(jax.tree_util.tree_leaves(expected), jax.tree_util.tree_leaves(got))):
            raise ValueError(f"parameter tree does not match SynthAX's Voice: {expected} vs {got}")

    def render(self, tree):
        return self.apply(tree)


def rel_rms(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    return np.sqrt(((a - ref) ** 2).mean(1)) / np.maximum(np.sqrt((ref**2).mean(1)), 1e-30)


def render_all(params01: np.ndarray, config: SynthConfig) -> dict[str, np.ndarray]:
    """The patches rendered by torchsynth, jaxsynth (CPU kernel, torchsynth's noise rows),
    SynthAX in one batch and SynthAX one patch at a time."""
    from jaxsynth import torch_bridge as tb

    n = params01.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tvoice = tb.torch_voice(config)
    out = {"torchsynth": tb.render_torch(tvoice, params01)}
    out["jaxsynth"] = np.asarray(JaxVoice(config).render(params01, tb.read_noise(tvoice, unique_rows=True)))
    sx = SynthaxVoice(config)
    tree = to_synthax_params(params01)
    sx.check_tree(tree)
    out["SynthAX"] = np.asarray(sx.render(tree))
    single = SynthaxVoice(SynthConfig(batch_size=1, sample_rate=config.sample_rate,
                                      buffer_size_seconds=config.buffer_size_seconds, control_rate=config.control_rate))
    rows = []
    for i in range(n):
        rows.append(np.asarray(single.render(to_synthax_params(params01[i:i + 1])))[0])
    out["SynthAX, batch of 1"] = np.stack(rows)
    return out


PAIRS = (("SynthAX", "torchsynth"), ("SynthAX, batch of 1", "torchsynth"), ("SynthAX", "jaxsynth"),
         ("jaxsynth", "torchsynth"))


def distance_table(patches: int, seed: int, sample_rate: int = 44100, seconds: float = 1.0) -> list[dict]:
    """Rows {noise, a, b, median, p90, max, n}: relative RMS of a against b per patch."""
    batch = -(-patches // 32) * 32  # torchsynth's reproducible mode wants multiples of 32
    config = SynthConfig(batch_size=batch, sample_rate=sample_rate, buffer_size_seconds=seconds)
    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 1, (batch, 78)).astype(np.float32)
    noise_col = JaxVoice.parameter_names.index("mixer/noise")
    rows = []
    for label in ("noise level 0", "as drawn"):
        params = base.copy()
        if label == "noise level 0":
            params[:, noise_col] = 0.0
        audio = render_all(params, config)
        for a, b in PAIRS:
            d = rel_rms(audio[a], audio[b])[:patches]
            rows.append({"noise": label, "a": a, "b": b, "median": float(np.median(d)),
                         "p90": float(np.quantile(d, 0.9)), "max": float(d.max()), "n": patches})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| patches | SynthAX-side | against | median rel. RMS | 90th pct | max |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['noise']} | {r['a']} | {r['b']} | {r['median']:.3g} | {r['p90']:.3g} | {r['max']:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patches", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    missing = synthax_missing()
    if missing:
        print(f"skipped: {missing}")
        return 0
    rows = distance_table(args.patches, args.seed, args.sample_rate, args.seconds)
    print(f"# relative RMS per patch, {args.patches} random patches (seed {args.seed}), "
          f"{args.seconds:g} s @ {args.sample_rate} Hz")
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
