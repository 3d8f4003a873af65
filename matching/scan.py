"""Grid scans around a patch, one parameter at a time: each parameter's grid rendered as one batch and the
best value kept before the next parameter.

Spectral losses give pitch useful gradients only within about a semitone, and the f0 estimate the
starts take is often a fraction of a semitone off (a sweep's median, two detuned oscillators), so
descent can settle with every partial slightly off. A scan renders `points` copies of the patch with
one pitch parameter moved across +-`semitones` and keeps the closest (the patch itself included).

Gradient descent also settles where a parameter whose effect is periodic or switch-like (an LFO's
rate and waveform mix, an oscillator's shape, a modulation routing) sits in the wrong basin: a
*coordinate scan* renders every free parameter across its whole range in turn, `COORDINATE_POINTS`
values at a time, which moves each one across basins a local step cannot leave.
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from jaxsynth import parameter_range
from matching.problem import Problem
from matching.random_search import distances

PITCH_PARAMETERS = ("keyboard/midi_f0", "vco_1/tuning", "vco_2/tuning")  # each in semitones
SCAN_SEMITONES = 1.5  # half-width of each scan
SCAN_POINTS = 32  # values per parameter (one render batch)
COORDINATE_POINTS = 16  # values across [0, 1] per parameter in a coordinate scan (one render batch)


def scan_column(problem: Problem, target: jnp.ndarray, noise: jnp.ndarray, patch: np.ndarray, distance: float,
                col: int, values01: np.ndarray) -> tuple[np.ndarray, float]:
    """patch [k] with column col set to each of values01 [points] (one batch of renders); returns the
    closest of those and the patch itself (whose distance is `distance`), and its distance."""
    grid = np.tile(patch, (len(values01), 1))
    grid[:, col] = values01
    d = np.asarray(distances(problem, jnp.asarray(grid), target, noise))
    i = int(np.argmin(np.where(np.isfinite(d), d, np.inf)))  # nan (a failed render) never wins
    return (grid[i], float(d[i])) if d[i] < distance else (patch, distance)


def scan(problem: Problem, target: np.ndarray, sub01: np.ndarray, distance: float,
         names: tuple[str, ...] = PITCH_PARAMETERS, semitones: float = SCAN_SEMITONES, points: int = SCAN_POINTS
         ) -> tuple[np.ndarray, float, int]:
    """One pass over `names` (free parameters in physical units of semitones), each scanned on a grid of
    `points` offsets in [-semitones, semitones] around the current patch sub01 [k] in [0, 1] (whose spectral
    distance is `distance`), keeping each parameter's best value before the next.
    Returns (patch [k], its distance, renders spent)."""
    target_j, noise = jnp.asarray(target, jnp.float32), problem.noise()
    best, best_d, renders = np.asarray(sub01, np.float32).copy(), float(distance), 0
    offsets = np.linspace(-semitones, semitones, points)
    for name in (n for n in names if n in problem.subset.names):
        col, r = problem.subset.names.index(name), parameter_range(name)
        values = np.clip(r.from_0to1_float64(np.float64(best[col])) + offsets, r.minimum, r.maximum)
        best, best_d = scan_column(problem, target_j, noise, best, best_d, col, r.to_0to1_float64(values))
        renders += points
    return best, best_d, renders


def coordinate_scan(problem: Problem, target: np.ndarray, sub01: np.ndarray, distance: float,
                    rng: np.random.Generator, points: int = COORDINATE_POINTS, budget_s: float = np.inf
                    ) -> tuple[np.ndarray, float, int]:
    """One pass over every free parameter of sub01 [k] in [0, 1] (whose distance is `distance`), in random
    order, each rendered at `points` values evenly spread over [0, 1] (offset at random per parameter, so
    passes try other values), keeping each parameter's best value before the next; the pass stops early
    once budget_s seconds have passed (after at least one parameter).
    Returns (patch [k], its distance, renders spent: k * points for a whole pass)."""
    t0 = time.perf_counter()
    target_j, noise = jnp.asarray(target, jnp.float32), problem.noise()
    best, best_d, renders = np.asarray(sub01, np.float32).copy(), float(distance), 0
    for col in rng.permutation(best.size):
        if renders and time.perf_counter() - t0 >= budget_s:
            break
        values = (np.arange(points) + rng.uniform()) / points
        best, best_d = scan_column(problem, target_j, noise, best, best_d, col, values)
        renders += points
    return best, best_d, renders
