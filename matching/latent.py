"""The latent method: gradient descent on z through a trained VAE's decoder and the synth (the VAE as a
prior over patches), then optionally direct refinement of the decoded patches.

A run whose encoder hears sounds (`vae.run.hears_audio`, the timbre objective) starts where its encoder puts
the target (the amortized code: mu and draws of the posterior N(mu, exp(logvar))); other runs start from draws
of the prior N(0, I). The encoder's mu decoded and rendered is itself a match, made in one forward pass."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from vae import run as run_lib
from matching.audio import TargetError
from matching.descent import descend, to_params
from matching.direct import DIRECT_LR, best_patch, refine
from matching.problem import MatchResult, Problem
from matching.random_search import distances

LATENT_LR = 0.05  # Adam step on z (the prior's scale is 1)
STARTS = ("auto", "encoder", "prior")  # auto: the encoder's when the run hears sounds, else the prior's


class EncoderStartError(TargetError):
    """A target the run's encoder cannot hear: not at the run's sample rate and buffer length."""


def check_encoder_target(problem: Problem, target: np.ndarray, run) -> None:
    """Raises `EncoderStartError` unless target [n] is audio at the run's rate and length (what its encoder
    was trained on: `run.synth_config.sample_rate` Hz, `buffer_size` samples) and problem renders at that rate."""
    want, rate = run.synth_config.buffer_size, run.synth_config.sample_rate
    shape = np.shape(target)
    if problem.synth.sample_rate != rate or shape != (want,):
        raise EncoderStartError(
            f"the encoder of run {run.run_dir} hears {want} samples at {rate} Hz ({want / rate:g} s); the target is "
            f"{shape} samples at {problem.synth.sample_rate} Hz: load it at the run's synth "
            "(load_target(path, run.synth_config); scripts/match.py does with --run unless --sample-rate or "
            "--seconds say otherwise)")


def latent_starts(problem: Problem, target: np.ndarray, run, starts: int, seed: int = 0, start: str = "auto"
                  ) -> tuple[np.ndarray, str]:
    """(z0 float32 [starts, latent_dim], 'encoder' or 'prior'): the points the descent on z begins from.

    encoder (start='auto' for a run that hears, or 'encoder'): row 0 is mu of `vae.run.encode_audio(run,
    target[None])`, the others mu + exp(logvar / 2) * N(0, I) draws, so the search begins where the encoder
    puts the sound (`EncoderStartError` for a target at another rate or length). prior (start='auto' for a run
    that encodes parameters, or 'prior'): N(0, I) draws. Both use the same draws of `seed`."""
    if start not in STARTS:
        raise ValueError(f"start must be one of {', '.join(STARTS)}, got {start!r}")
    kind = ("encoder" if run_lib.hears_audio(run) else "prior") if start == "auto" else start
    draws = np.random.default_rng(seed).standard_normal((starts, run.config.model.latent_dim)).astype(np.float32)
    if kind == "prior":
        return draws, kind
    check_encoder_target(problem, target, run)
    mu, logvar = run_lib.encode_audio(run, np.asarray(target, np.float32)[None])
    draws[0] = 0.0
    return (mu + np.exp(0.5 * logvar) * draws).astype(np.float32), kind


def decoded_match(problem: Problem, target: np.ndarray, run, z: np.ndarray) -> tuple[np.ndarray, float]:
    """(the patch [78] in [0, 1] that run's decoder makes of z [latent_dim], its spectral distance to target [n]):
    one decode and one render, e.g. of the encoder's mu, a match without search."""
    sub01 = to_params(jnp.asarray(z, jnp.float32)[None], run.config.model, run.params)
    distance = distances(problem, sub01, jnp.asarray(target, jnp.float32), problem.noise())[0]
    return np.asarray(problem.subset.expand(sub01))[0], float(distance)


def latent(problem: Problem, target: np.ndarray, run, starts: int = 32, budget_s: float = 60.0,
           max_steps: int = 100_000, seed: int = 0, refine_fraction: float = 0.5, lr: float = LATENT_LR,
           chunk: int = 10, start: str = "auto") -> MatchResult:
    """Matches target [buffer_size] through `run` (a `vae.run.LoadedRun`): from z0 [starts, latent]
    (`latent_starts`: the encoder's code of the target for a run that hears, else N(0, I)), descends for
    (1 - refine_fraction) of the budget and steps, then refines the decoded patches directly (logits) for the
    rest. problem.subset must be the run's (`Problem.create(..., subset=run.subset)`).

    extra: 'start' ('encoder' or 'prior'); for the encoder start also 'encoder_distance', the spectral distance
    of decode(mu) rendered (an instant, amortized match: no search), and 'encoder_params01' [78], its patch;
    'latent_distance', the best after the descent on z (not above encoder_distance but for rounding: the descent
    scores its starts first), before refinement."""
    if problem.subset.names != run.subset.names:
        raise ValueError(f"the problem's {problem.subset.size} free parameters are not run {run.run_dir}'s "
                         f"{run.subset.size}; build it with Problem.create(synth, subset=run.subset)")
    t0 = time.perf_counter()
    config = run.config.model
    z0, kind = latent_starts(problem, target, run, starts, seed, start)
    extra = {"start": kind, "starts": starts}
    if kind == "encoder":
        extra["encoder_params01"], extra["encoder_distance"] = decoded_match(problem, target, run, z0[0])
    share = 1.0 - refine_fraction
    z, dist, history, renders, _ = descend(problem, z0, target, problem.noise(), share * budget_s,
                                           max(1, int(share * max_steps)), lr, chunk, config, run.params)
    sub01 = np.asarray(to_params(jnp.asarray(z), config, run.params))
    params01, distance = best_patch(problem, sub01, dist)
    extra |= {"latent_distance": distance, "latent_renders": renders}
    method = "latent"
    if refine_fraction > 0:
        # refinement starts inside [0.02, 0.98] (finite logits), which can move a decoded 0 or 1 audibly,
        # so the latent phase's best patch stays the answer unless refinement beats it
        sub01, dist, more, renders, _ = refine(problem, target, sub01, budget_s - (time.perf_counter() - t0),
                                               max(1, max_steps - renders // starts), DIRECT_LR, chunk, renders)
        history += more
        method = "latent+direct"
        refined, refined_distance = best_patch(problem, sub01.astype(np.float32), dist)
        if refined_distance < distance:
            params01, distance = refined, refined_distance
    return MatchResult(method, params01, distance, int(history[-1][0]), time.perf_counter() - t0,
                       np.asarray(history), extra)
