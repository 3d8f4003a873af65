"""The latent method: gradient descent on z through a trained VAE's decoder and the synth (the VAE as a
prior over patches), then optionally direct refinement of the decoded patches."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from vae.matching.descent import descend, to_params
from vae.matching.direct import DIRECT_LR, best_patch, refine
from vae.matching.problem import MatchResult, Problem

LATENT_LR = 0.05  # Adam step on z (the prior's scale is 1)


def latent(problem: Problem, target: np.ndarray, run, starts: int = 32, budget_s: float = 60.0,
           max_steps: int = 100_000, seed: int = 0, refine_fraction: float = 0.5, lr: float = LATENT_LR,
           chunk: int = 10) -> MatchResult:
    """Matches target [buffer_size] through `run` (a `vae.run.LoadedRun`): starts z ~ N(0, I) [starts, latent],
    descends for (1 - refine_fraction) of the budget and steps, then refines the decoded patches
    directly (logits) for the rest. problem.subset must be the run's (`Problem.create(..., subset=run.subset)`)."""
    if problem.subset.names != run.subset.names:
        raise ValueError(f"the problem's {problem.subset.size} free parameters are not run {run.run_dir}'s "
                         f"{run.subset.size}; build it with Problem.create(synth, subset=run.subset)")
    t0 = time.perf_counter()
    config = run.config.model
    z0 = np.random.default_rng(seed).standard_normal((starts, config.latent_dim)).astype(np.float32)
    share = 1.0 - refine_fraction
    z, dist, history, renders, _ = descend(problem, z0, target, problem.noise(), share * budget_s,
                                           max(1, int(share * max_steps)), lr, chunk, config, run.params)
    sub01 = np.asarray(to_params(jnp.asarray(z), config, run.params))
    params01, distance = best_patch(problem, sub01, dist)
    extra = {"starts": starts, "latent_distance": distance, "latent_renders": renders}
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
