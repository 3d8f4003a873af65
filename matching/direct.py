"""The direct method: gradient descent on the logits of the free parameters from many starts at once."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from matching import init, scan
from matching.descent import descend
from matching.problem import MatchResult, Problem, history_row
from matching.random_search import distances

DIRECT_LR = 0.1  # Adam step on logits (a logit step of 0.1 moves a mid-range parameter by ~2.5%)
ROUND_STEPS = 200  # steps per set of starts before fresh starts are drawn
POOL = 4  # each round descends from the best 1/POOL of POOL x starts candidates drawn around the cues
SCREEN = 4  # successive halving: each round screens SCREEN batches of starts ...
SCREEN_STEPS = 20  # ... by this many steps of descent, and goes on from the best batch-full of end points
POLISH_FRACTION = 0.5  # share of the budget (time and steps) left to polishing the best patch found
POLISH_STEPS = 50  # descent steps after each coordinate scan while polishing
POLISH_SPREAD = 0.5  # std of the logit noise of the polished patch's copies that descend beside it


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


def select_starts(problem: Problem, target: np.ndarray, candidates: np.ndarray, starts: int
                  ) -> tuple[np.ndarray, float]:
    """(the `starts` candidates [starts, k] of lowest spectral distance among candidates [m * starts, k],
    the lowest distance), rendered `starts` at a time."""
    target, noise = jnp.asarray(target, jnp.float32), problem.noise()
    d = np.concatenate([np.asarray(distances(problem, jnp.asarray(candidates[i:i + starts]), target, noise))
                        for i in range(0, len(candidates), starts)])
    d = np.where(np.isfinite(d), d, np.inf)
    return candidates[np.argsort(d)[:starts]], float(d.min())


def polish(problem: Problem, target: np.ndarray, sub01: np.ndarray, distance: float, budget_s: float,
           max_renders: int, rng: np.random.Generator, starts: int, lr: float = DIRECT_LR, chunk: int = 10,
           steps: int = POLISH_STEPS, spread: float = POLISH_SPREAD, renders0: int = 0):
    """Polishes one patch sub01 [k] (spectral distance `distance`) until budget_s seconds or max_renders
    renders (at least one scan): a coordinate scan (`scan.coordinate_scan`) moves each parameter across
    basins, then `starts` copies (the scanned patch and copies with logit noise of std `spread`) descend
    `steps` steps, and again. Returns (best sub01 [k], its distance, history rows, renders0 + renders)."""
    t0 = time.perf_counter()
    best, best_d, history, renders = np.asarray(sub01, np.float32), float(distance), [], renders0
    while not history or (renders - renders0 < max_renders and time.perf_counter() - t0 < budget_s):
        best, best_d, spent = scan.coordinate_scan(problem, target, best, best_d, rng,
                                                   budget_s=budget_s - (time.perf_counter() - t0))
        renders += spent
        history.append(history_row(renders, best_d, np.nan))
        left = min(steps, (max_renders - (renders - renders0)) // starts)
        if left <= 0 or time.perf_counter() - t0 >= budget_s:
            break
        u = init.logit(best)[None] + rng.normal(0.0, spread, (starts, best.size)) * (np.arange(starts) > 0)[:, None]
        x01 = (1.0 / (1.0 + np.exp(-u))).astype(np.float32)
        sub, dist, more, renders, _ = refine(problem, target, x01, budget_s - (time.perf_counter() - t0), left, lr,
                                             chunk, renders)
        history += [(r, min(b, best_d), loss) for r, b, loss in more]
        i = int(np.nanargmin(dist))
        if dist[i] < best_d:
            best, best_d = sub[i].astype(np.float32), float(dist[i])
    return best, best_d, history, renders


def direct(problem: Problem, target: np.ndarray, starts: int = 32, budget_s: float = 60.0, max_steps: int = 100_000,
           seed: int = 0, lr: float = DIRECT_LR, chunk: int = 10, round_steps: int = ROUND_STEPS, pool: int = POOL,
           cues: init.TargetCues | None = None, screen: int = SCREEN, screen_steps: int = SCREEN_STEPS,
           scan_pitch: bool = True, polish_fraction: float = POLISH_FRACTION) -> MatchResult:
    """Matches target [buffer_size] by gradient descent from `starts` starts initialized from its cues
    (`init.target_cues` when not given), for budget_s seconds or max_steps steps in all (pool draws
    count as steps: `pool` per round; a step renders every start once).

    Search, for (1 - polish_fraction) of the budget: descent from one set of starts stalls after a
    few hundred steps, so each round draws pool x starts candidates around the cues, descends from
    the best `starts` of them for `round_steps` steps, and the best patch over all rounds is kept.
    With screen > 1 (successive halving), each round first descends `screen` such batches for
    `screen_steps` steps each and continues from the best `starts` of their end points. With
    scan_pitch, each round's best patch is also scanned over pitch (`scan.scan`: one batch of
    renders per pitch parameter) and the best patch so far replaces the last start of the next round.
    Polish, for the rest: `polish` alternates coordinate scans of the best patch with descents
    from copies of it (at least one scan, which may pass max_steps by one scan's renders)."""
    t0 = time.perf_counter()
    cues = cues or init.target_cues(target, problem.synth.sample_rate)
    rng = np.random.default_rng(seed)
    search_s, search_steps = (1.0 - polish_fraction) * budget_s, int((1.0 - polish_fraction) * max_steps)
    best, best_d, history, renders, rounds = None, np.inf, [], 0, 0
    while rounds == 0 or (renders < search_steps * starts and time.perf_counter() - t0 < search_s):
        batches = []
        for _ in range(screen):
            x01 = init.initial_params(rng, pool * starts, problem.subset, cues)
            if pool > 1:
                x01, drawn = select_starts(problem, target, x01, starts)
                renders += pool * starts
                history.append(history_row(renders, min(drawn, history[-1][1]) if history else drawn, np.nan))
            if screen > 1:
                sub01, dist, more, renders, _ = refine(problem, target, x01, search_s - (time.perf_counter() - t0),
                                                       screen_steps, lr, chunk, renders)
                history += more
                batches.append((sub01.astype(np.float32), dist))
        if screen > 1:
            x01 = np.concatenate([b[0] for b in batches])[np.argsort(np.concatenate([b[1] for b in batches]))[:starts]]
        if scan_pitch and best is not None:
            x01[-1] = np.asarray(problem.subset.select(jnp.asarray(best[None])))[0]
        steps = max(1, min(round_steps, search_steps - renders // starts))
        sub01, dist, more, renders, _ = refine(problem, target, x01, search_s - (time.perf_counter() - t0), steps,
                                               lr, chunk, renders)
        history += more
        rounds += 1
        params01, distance = best_patch(problem, sub01.astype(np.float32), dist)
        if scan_pitch:
            scanned, distance, spent = scan.scan(problem, target, problem.subset.select(jnp.asarray(params01[None]))[0],
                                                 distance)
            params01, renders = np.asarray(problem.subset.expand(jnp.asarray(scanned[None])))[0], renders + spent
            history.append(history_row(renders, min(distance, history[-1][1]), np.nan))
        if distance < best_d:
            best, best_d = params01, distance
    searched = best_d
    if polish_fraction > 0:
        found = np.asarray(problem.subset.select(jnp.asarray(best[None])))[0]
        sub01, best_d, more, renders = polish(problem, target, found, best_d, budget_s - (time.perf_counter() - t0),
                                              max_steps * starts - renders, rng, starts, lr, chunk, renders0=renders)
        history += [(r, min(b, history[-1][1]), loss) for r, b, loss in more]
        best = np.asarray(problem.subset.expand(jnp.asarray(sub01[None])))[0]
    history = np.asarray(history)
    history[:, 1] = np.minimum.accumulate(history[:, 1])  # each batch logs its own best: keep the best so far
    return MatchResult("direct", best, best_d, renders, time.perf_counter() - t0, history,
                       {"f0_midi": cues.midi_f0, "voiced": cues.voiced, "starts": starts, "rounds": rounds,
                        "search_distance": searched})
