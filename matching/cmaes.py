"""CMA-ES (Hansen's `cma` package) on the free parameters in [0, 1], each generation rendered as one jitted
batch, optionally followed by gradient refinement of its final population (the direct method's descent)."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from matching import init, scan
from matching.direct import DIRECT_LR, POOL, best_patch, refine, select_starts
from matching.problem import MatchResult, Problem, history_row
from matching.random_search import distances

CMA_SIGMA = 0.2  # initial step size in [0, 1] units (a fifth of every parameter's range)
REFINE_FRACTION = 0.5  # share of the budget (time and steps) left to gradient refinement


def new_strategy(mean01: np.ndarray, sigma: float, popsize: int, seed: int):
    """A quiet `cma.CMAEvolutionStrategy` at mean01 [k] in [0, 1], bounded to [0, 1] (cma's BoundTransform:
    every asked solution is feasible), popsize solutions per generation, writing no files."""
    import cma

    return cma.CMAEvolutionStrategy(mean01.astype(np.float64), sigma, {
        "bounds": [0.0, 1.0], "popsize": popsize, "seed": seed + 1, "verbose": -9, "verb_log": 0, "verb_disp": 0,
        "tolflatfitness": 5})


def cmaes(problem: Problem, target: np.ndarray, starts: int = 32, budget_s: float = 60.0, max_steps: int = 100_000,
          seed: int = 0, sigma: float = CMA_SIGMA, pool: int = POOL, refine_fraction: float = REFINE_FRACTION,
          lr: float = DIRECT_LR, chunk: int = 10, cues: init.TargetCues | None = None) -> MatchResult:
    """Matches target [buffer_size] by CMA-ES on the spectral distance for (1 - refine_fraction) of
    budget_s seconds and max_steps generations (pool draws count as `pool` of them), then descends
    from its last population (best point first) for the rest.

    Population: `starts` candidates per generation (one batch shape, compiled once). Each (re)start
    begins at the best of pool x starts candidates drawn around the target's cues (`init`), so
    restarts after cma's own stopping criteria explore other notes, oscillators and envelopes.
    The best patch is finally scanned over pitch (`scan.scan`, one batch per pitch parameter).
    Renders count every candidate rendered (draws, generations, descent steps, the scan).
    """
    t0 = time.perf_counter()
    cues = cues or init.target_cues(target, problem.synth.sample_rate)
    rng = np.random.default_rng(seed)
    target_j, noise = jnp.asarray(target, jnp.float32), problem.noise()
    share = 1.0 - refine_fraction
    best, best_d, history, renders, generations, restarts, es = None, np.inf, [], 0, 0, 0, None
    population = None
    while generations == 0 or (generations < share * max_steps and time.perf_counter() - t0 < share * budget_s):
        if es is None or es.stop():
            x01, drawn = select_starts(problem, target, init.initial_params(rng, pool * starts, problem.subset, cues),
                                       starts)
            renders, generations, restarts = renders + pool * starts, generations + pool, restarts + 1
            if drawn < best_d:
                best, best_d = x01[0], drawn
            history.append(history_row(renders, best_d, np.nan))
            es = new_strategy(x01[0], sigma, starts, seed + restarts)
        population = np.asarray(es.ask(), np.float32)
        d = np.asarray(distances(problem, jnp.asarray(population), target_j, noise), np.float64)
        d = np.where(np.isfinite(d), d, np.inf)
        es.tell(list(population.astype(np.float64)), d.tolist())
        renders, generations = renders + starts, generations + 1
        i = int(np.argmin(d))
        if d[i] < best_d:
            best, best_d = population[i], float(d[i])
        history.append(history_row(renders, best_d, float(d[i])))
    extra = {"f0_midi": cues.midi_f0, "starts": starts, "restarts": restarts, "generations": generations,
             "cma_distance": best_d, "cma_renders": renders}
    params01, distance = best_patch(problem, best[None].astype(np.float32), np.array([best_d]))
    method = "cmaes"
    if refine_fraction > 0:
        order = np.argsort(d)
        x01 = np.concatenate([best[None], population[order[:-1]]]).astype(np.float32)
        sub01, dist, more, renders, _ = refine(problem, target, x01, budget_s - (time.perf_counter() - t0),
                                               max(1, max_steps - renders // starts), lr, chunk, renders)
        history += [(r, min(b, best_d), loss) for r, b, loss in more]
        method = "cmaes+direct"
        refined, refined_distance = best_patch(problem, sub01.astype(np.float32), dist)
        if refined_distance < distance:  # refinement starts inside [0.02, 0.98]: keep CMA's patch unless beaten
            params01, distance = refined, refined_distance
    scanned, distance, spent = scan.scan(problem, target, problem.subset.select(jnp.asarray(params01[None]))[0], distance)
    params01, renders = np.asarray(problem.subset.expand(jnp.asarray(scanned[None])))[0], renders + spent
    history.append(history_row(renders, min(distance, history[-1][1]), np.nan))
    return MatchResult(method, params01, distance, renders, time.perf_counter() - t0, np.asarray(history), extra)
