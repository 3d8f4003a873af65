"""The baseline: uniform random patches of the free parameters, the same number of renders as a method."""

from __future__ import annotations

import functools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from matching.problem import MatchResult, Problem, history_row


@functools.partial(jax.jit, static_argnames=("problem",))
def distances(problem: Problem, sub01, target, noise):
    """Spectral distances [B] of candidates [B, k] in [0, 1] to target [n] (one render each)."""
    return problem.terms(sub01, target, noise)[1]


@functools.partial(jax.jit, static_argnames=("problem", "batch"))
def _draw(problem: Problem, batch: int, key, target, noise):
    """batch uniform candidates [batch, k] and their spectral distances [batch]."""
    sub01 = jax.random.uniform(key, (batch, problem.subset.size), jnp.float32)
    return sub01, distances(problem, sub01, target, noise)


def mean_patch_distance(problem: Problem, target: np.ndarray) -> float:
    """Spectral distance of the mean patch (every free parameter at 0.5, the centre random search draws
    around) to target [n]: what a match must beat to have found anything."""
    centre = jnp.full((1, problem.subset.size), 0.5, jnp.float32)
    return float(distances(problem, centre, jnp.asarray(target, jnp.float32), problem.noise())[0])


def random_search(problem: Problem, target: np.ndarray, renders: int, batch: int = 64, seed: int = 0,
                  budget_s: float = math.inf) -> MatchResult:
    """Best of `renders` uniform draws (rendered `batch` at a time; the last batch is cut to `renders`), or of
    those drawn within budget_s seconds (compilation included; at least one batch)."""
    t0 = time.perf_counter()
    target, noise = jnp.asarray(target, jnp.float32), problem.noise()
    key = jax.random.PRNGKey(seed)
    best, best_d, done, history = None, np.inf, 0, []
    while done < renders and (done == 0 or time.perf_counter() - t0 < budget_s):
        key, sub = jax.random.split(key)
        sub01, dist = (np.asarray(a) for a in _draw(problem, batch, sub, target, noise))
        take = min(batch, renders - done)
        i = int(np.nanargmin(dist[:take]))
        if dist[i] < best_d:
            best, best_d = sub01[i], float(dist[i])
        done += take
        history.append(history_row(done, best_d, np.nan))
    params01 = np.asarray(problem.subset.expand(jnp.asarray(best[None])))[0]
    return MatchResult("random", params01, best_d, done, time.perf_counter() - t0, np.asarray(history))
