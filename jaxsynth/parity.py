"""Parity of jaxsynth with torchsynth 1.0.2's `Voice`, patch by patch.

    python -m jaxsynth.parity --patches 500 --seed 0 --extremes

Tolerance. Both synths compute in float32, and a VCO's phase is a running sum that reaches
2*pi*f*T radians (about 78,000 rad for a 12.5 kHz tone over 1 s), where one float32 ulp is
0.008 rad. torchsynth's own float32 output differs from the same patch computed in float64 by a
median relative RMS of 3e-4 (up to 1e-2) for this reason, so a flat 1e-4 against it cannot be
met by any float32 implementation on high-pitched patches. We reproduce every stage up to
those last ulps (torch's SLEEF `exp2`, correctly rounded divisions and `log2`, torch's FMA in
the upsampler, torch's float64-accumulated `cumsum`), so what remains is a few ulps of phase
from control-rate transcendental functions (`cos`, `pow`) that round differently: at most 2.5
ulps of phase over 1,280 patches (random and every parameter at both ends; 99% under 1.2),
median relative RMS 1.1e-5 for the CPU kernel and 9e-5 for the XLA path. Each patch therefore must satisfy

    max_abs_err <= PHASE_ULPS * S + ABS_FLOOR,  rel_rms <= max(REL_RMS_TARGET, (PHASE_ULPS * S) / rms)

where S is the output change that one ulp of phase in each oscillator can cause (ulp of the
largest phase reached x the waveform's steepest slope x its VCA gain x its mix level). Patches
whose phases stay small (low notes, short sounds) get the flat 1e-4 target.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth import voice as voice_lib
from jaxsynth.config import SynthConfig
from jaxsynth.dsp import midi_to_hz

REL_RMS_TARGET = 1e-4
PHASE_ULPS = 6.0
ABS_FLOOR = 2e-5
TORCH_BATCH = 32  # torchsynth's reproducible mode needs batches that are multiples of 32


def _ulp(x):
    """Spacing of float32 numbers at |x| (x >= 0)."""
    exponent = jnp.floor(jnp.log2(jnp.maximum(x, 2.0**-126)))
    return jnp.exp2(exponent - 23.0)


@functools.partial(jax.jit, static_argnames="config")
def _peak_phases(physical, config: SynthConfig):
    targets = voice_lib.modulation_signals(physical, config)
    phases = voice_lib.oscillator_phases(physical, targets, config)
    return jnp.max(jnp.abs(phases), axis=-1), jnp.max(jnp.abs(targets), axis=-1)


def phase_sensitivity(params01: np.ndarray, config: SynthConfig) -> np.ndarray:
    """[batch] bound on the output change from one float32 ulp of phase in each VCO."""
    physical = voice_lib.to_physical(jnp.asarray(params01, jnp.float32))
    peak_phase, peak_target = _peak_phases(physical, config)
    p = voice_lib._split(physical)
    v2 = p["vco_2"]
    max_f0 = midi_to_hz(p["keyboard"]["midi_f0"] + v2["tuning"] + jnp.maximum(v2["mod_depth"], 0.0))
    steepness = math.pi / 2 * 12000.0 / (max_f0 * jnp.log10(max_f0))
    shape = v2["shape"]
    slope_2 = (1 - shape / 2) * (steepness * (1 + shape) + shape)
    mix = p["mixer"]
    bound = mix["vco_1"] * peak_target[:, 1] * _ulp(peak_phase[:, 0]) + mix["vco_2"] * peak_target[:, 3] * slope_2 * _ulp(
        peak_phase[:, 1]
    )
    return np.asarray(bound)


@dataclasses.dataclass
class PatchReport:
    """Per-patch errors of jaxsynth against torchsynth, with the tolerances they are held to."""

    max_abs_err: np.ndarray
    rel_rms: np.ndarray
    abs_tol: np.ndarray
    rel_tol: np.ndarray

    @property
    def passed(self) -> np.ndarray:
        return (self.max_abs_err <= self.abs_tol) & (self.rel_rms <= self.rel_tol)


def compare(ours: np.ndarray, ref: np.ndarray, sensitivity: np.ndarray) -> PatchReport:
    """Errors of audio `ours` vs `ref` ([batch, n]) and their phase-ulp tolerances."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    max_abs = np.abs(ours - ref).max(axis=1)
    rms_ref = np.sqrt((ref**2).mean(axis=1))
    rel = np.sqrt(((ours - ref) ** 2).mean(axis=1)) / np.maximum(rms_ref, 1e-30)
    phase_tol = PHASE_ULPS * sensitivity
    abs_tol = phase_tol + ABS_FLOOR
    rel_tol = np.maximum(REL_RMS_TARGET, phase_tol / np.maximum(rms_ref, 1e-30))
    # Silent references (rms ~ 0) are judged by the absolute error alone.
    rel_tol = np.where(rms_ref < 1e-6, np.inf, rel_tol)
    return PatchReport(max_abs, rel, abs_tol, rel_tol)


def random_patches(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uniform patches in [0, 1], float32 [n, 78]."""
    return rng.uniform(0.0, 1.0, (n, voice_lib.N_PARAMETERS)).astype(np.float32)


def extreme_patches(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Each parameter at 0 and at 1 with the others random: [156, 78] and a label per patch."""
    patches, labels = [], []
    for i, name in enumerate(voice_lib.PARAMETER_NAMES):
        for value in (0.0, 1.0):
            patch = random_patches(rng, 1)[0]
            patch[i] = value
            patches.append(patch)
            labels.append(f"{name}={value:g}")
    return np.stack(patches), labels


def run(params01: np.ndarray, config: SynthConfig, impl: str = "xla", progress: bool = False) -> PatchReport:
    """Render `params01` [n, 78] with torchsynth and jaxsynth (`impl`) in batches of
    `config.batch_size`; returns a PatchReport."""
    from jaxsynth import torch_bridge as tb

    batch = config.batch_size
    if batch % TORCH_BATCH:
        raise ValueError(f"batch_size must be a multiple of {TORCH_BATCH} (torchsynth's reproducible mode), got {batch}")
    tvoice = tb.torch_voice(config)
    jvoice = voice_lib.Voice(config, impl=impl)
    noise = tb.read_noise(tvoice, unique_rows=True)
    n = params01.shape[0]
    reports = []
    starts = range(0, n, batch)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc=f"parity ({impl})", unit="batch")
    for start in starts:
        chunk = params01[start : start + batch]
        pad = batch - chunk.shape[0]
        if pad:
            chunk = np.concatenate([chunk, np.full((pad, chunk.shape[1]), 0.5, np.float32)])
        ref = tb.render_torch(tvoice, chunk)
        ours = np.asarray(jvoice.render(chunk, noise))
        report = compare(ours, ref, phase_sensitivity(chunk, config))
        reports.append(PatchReport(*(getattr(report, f.name)[: batch - pad] for f in dataclasses.fields(PatchReport))))
    return PatchReport(*(np.concatenate([getattr(r, f.name) for r in reports]) for f in dataclasses.fields(PatchReport)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patches", type=int, default=500, help="number of random patches")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extremes", action="store_true", help="also every parameter at 0 and 1 (156 patches)")
    parser.add_argument("--batch", type=int, default=128, help="render batch (multiple of 32)")
    parser.add_argument("--seconds", type=float, default=1.0, help="buffer length in seconds")
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--control-rate", type=int, default=441)
    parser.add_argument(
        "--impl", choices=voice_lib.IMPLEMENTATIONS + ("all",), default="all", help="jaxsynth implementation(s) to check"
    )
    args = parser.parse_args(argv)
    if args.patches < 0:
        parser.error("--patches must be >= 0")
    config = SynthConfig(
        batch_size=args.batch, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds, control_rate=args.control_rate
    )
    rng = np.random.default_rng(args.seed)
    params = random_patches(rng, args.patches)
    labels = [f"random#{i}" for i in range(args.patches)]
    if args.extremes:
        extremes, extreme_labels = extreme_patches(rng)
        params = np.concatenate([params, extremes])
        labels += extreme_labels
    if params.shape[0] == 0:
        parser.error("nothing to compare: give --patches > 0 or --extremes")
    impls = voice_lib.IMPLEMENTATIONS if args.impl == "all" else (args.impl,)
    ok = True
    for impl in impls:
        report = run(params, config, impl, progress=sys.stderr.isatty())
        for i in np.nonzero(~report.passed)[0]:
            print(
                f"FAIL [{impl}] {labels[i]}: max_abs_err={report.max_abs_err[i]:.3g} (tol {report.abs_tol[i]:.3g}) "
                f"rel_rms={report.rel_rms[i]:.3g} (tol {report.rel_tol[i]:.3g})"
            )
        ok &= bool(report.passed.all())
        print(
            f"[{impl}] failed={int((~report.passed).sum())} median_rel_rms={np.median(report.rel_rms):.3g} "
            f"under_1e-4={np.mean(report.rel_rms <= REL_RMS_TARGET):.1%}"
        )
        summary = report if impl == impls[0] else PatchReport(
            *(np.maximum(getattr(summary, f.name), getattr(report, f.name)) for f in dataclasses.fields(PatchReport))
        )
    print(f"patches={len(labels)} max_abs_err={summary.max_abs_err.max():.3g} max_rel_rms={summary.rel_rms.max():.3g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
