"""The direct method: gradient descent on the logits of the free parameters from many starts at once."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from vae.matching import init
from vae.matching.descent import descend
from vae.matching.problem import MatchResult, Problem

DIRECT_LR = 0.1  # Adam step on logits (a logit step of 0.1 moves a mid-range parameter by ~2.5%)
ROUND_STEPS = 200  # steps per set of starts before fresh starts are drawn


def best_patch(problem: Problem, sub01: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, float]:
    """The full [78] patch in [0, 1] of the start with the lowest distance, and that distance."""
    i = int(np.nanargmin(distances))
    return np.asarray(problem.subset.expand(jnp.asarray(sub01[i:i + 1])))[0], float(distances[i])


def refine(problem: Problem, target: np.ndarray, sub01: np.ndarray, budget_s: float, max_steps: int,
           lr: float = DIRECT_LR, chunk: int = 10, renders0: int = 0):
    """Gradient descent on logits from starts sub01 [B, k] in [0, 1]; returns (best sub01 [B, k], distances [B],
    history rows, renders, seconds)."""
    best_u, dist, history, renders, seconds = descend(problem, init.logit(sub01), target, problem.noise(), budget_s,
                                                      max_steps, lr, chunk, renders0=renders0)
    return 1.0 / (1.0 + np.exp(-best_u.astype(np.float64))), dist, history, renders, seconds


def direct(problem: Problem, target: np.ndarray, starts: int = 32, budget_s: float = 60.0, max_steps: int = 100_000,
           seed: int = 0, lr: float = DIRECT_LR, chunk: int = 10, round_steps: int = ROUND_STEPS,
           cues: init.TargetCues | None = None) -> MatchResult:
    """Matches target [buffer_size] by gradient descent from `starts` starts initialized from its cues
    (`init.target_cues` when not given), for budget_s seconds or max_steps steps in all. Descent from
    one set of starts stalls after a few hundred steps, so every `round_steps` steps a new set of
    starts is drawn; the best patch over all rounds is kept."""
    t0 = time.perf_counter()
    cues = cues or init.target_cues(target, problem.synth.sample_rate)
    rng = np.random.default_rng(seed)
    best, best_d, history, renders, rounds = None, np.inf, [], 0, 0
    while rounds == 0 or (renders < max_steps * starts and time.perf_counter() - t0 < budget_s):
        x01 = init.initial_params(rng, starts, problem.subset, cues)
        steps = min(round_steps, max_steps - renders // starts)
        sub01, dist, more, renders, _ = refine(problem, target, x01, budget_s - (time.perf_counter() - t0), steps,
                                               lr, chunk, renders)
        history += more
        rounds += 1
        params01, distance = best_patch(problem, sub01.astype(np.float32), dist)
        if distance < best_d:
            best, best_d = params01, distance
    return MatchResult("direct", best, best_d, renders, time.perf_counter() - t0, np.asarray(history),
                       {"f0_midi": cues.midi_f0, "voiced": cues.voiced, "starts": starts, "rounds": rounds})
