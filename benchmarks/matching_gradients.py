"""Which matching loss gives useful gradients where: the sign of d loss / d parameter at a known offset
from an in-domain target's true value, for the multi-resolution loss's two parts and their sum, and
for `matching.loss.spectral_w1` (spectra as distributions over log frequency) alone and added.

    .venv/bin/python benchmarks/matching_gradients.py --targets 16 --seed 0

For each held-out patch (as benchmarks/matching_targets.py draws them, 16 kHz, 1 s) and each offset,
one parameter is moved off its true value (all others true) and the loss's gradient with respect
to that parameter is taken; a gradient is *useful* when descent would move the parameter back
towards the truth. Prints the fraction of useful gradients per loss, parameter and offset.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_targets import in_domain  # noqa: E402

from jaxsynth import SynthConfig, parameter_range  # noqa: E402
from spectral import features, losses  # noqa: E402
from matching import Problem  # noqa: E402
from matching.loss import spectral_w1  # noqa: E402

LOSSES = ("convergence", "log", "convergence+log", "w1", "convergence+log+w1")
# parameter: offsets in physical units (semitones for pitch, seconds for the note length, level for the mix)
PROBES = {"keyboard/midi_f0": (0.25, 1.0, 3.0, 7.0, 12.0), "keyboard/duration": (0.05, 0.2, 0.5),
          "mixer/vco_1": (0.05, 0.2, 0.5)}


def loss_parts(problem: Problem, sub01, target, noise):
    """{loss name: [B]} of candidates [B, k] against target [n]."""
    audio = problem.render(sub01, noise)
    parts = losses.multiscale_parts(jnp.broadcast_to(target, audio.shape), audio, problem.features)
    sc = jnp.mean(features.safe_sqrt(parts["diff"]) / (features.safe_sqrt(parts["ref"]) + losses.EPS), -1)
    w1 = spectral_w1(target, audio, problem.features)
    return {"convergence": sc, "log": parts["log"], "convergence+log": sc + parts["log"], "w1": w1,
            "convergence+log+w1": sc + parts["log"] + w1}


@functools.partial(jax.jit, static_argnames=("problem", "col", "name"))
def gradient(problem: Problem, col: int, name: str, sub01, target, noise):
    """d loss / d sub01[:, col] [B] of each candidate."""
    return jax.grad(lambda x: jnp.sum(loss_parts(problem, x, target, noise)[name]))(sub01)[:, col]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    synth = SynthConfig(batch_size=1, sample_rate=16000, buffer_size_seconds=1.0, control_rate=160)
    problem = Problem.create(synth)
    targets = in_domain(problem, args.seed, args.targets)
    noise = problem.noise()
    print(f"{'parameter':<18} {'offset':>6}  " + "  ".join(f"{n:>16}" for n in LOSSES))
    for param, offsets in PROBES.items():
        col, rng = problem.subset.names.index(param), parameter_range(param)
        for offset in offsets:
            useful = {n: [] for n in LOSSES}
            for _, target, truth in targets:
                true_phys = float(rng.from_0to1_float64(np.float64(truth[col])))
                for sign in (-1.0, 1.0):
                    moved = np.clip(true_phys + sign * offset, rng.minimum, rng.maximum)
                    if moved == true_phys:
                        continue
                    x = truth.copy()
                    x[col] = rng.to_0to1_float64(np.float64(moved))
                    for n in LOSSES:
                        g = float(gradient(problem, col, n, jnp.asarray(x[None]), jnp.asarray(target), noise)[0])
                        useful[n].append(np.sign(-g) == np.sign(truth[col] - x[col]))
            print(f"{param:<18} {offset:>6}  " + "  ".join(f"{np.mean(useful[n]):>16.2f}" for n in LOSSES), flush=True)


if __name__ == "__main__":
    main()
