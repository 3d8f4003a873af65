"""Sound matching: from a target sound to the Voice patch whose render is closest.

    target = load_target("a.wav", synth_config)             # [n] float32 at the synth's rate
    problem = Problem.create(synth_config)                  # what is searched and how it is scored
    result = direct(problem, target, starts=32, budget_s=60) # gradient descent on logits
    baseline = random_search(problem, target, renders=result.renders)

Files, one concept each: `audio` (WAV in), `loss` (the matching loss and the reported spectral
distance), `problem` (the search space and results), `init` (starts from the target's f0 and
envelope), `descent` (batched Adam under a time budget), `scan` (grid scans of pitch and of every parameter),
`direct`, `cmaes` (CMA-ES, the `cma` package), `latent` (through a trained VAE's decoder), `random_search`,
`patch` (patch.json), `figure`, `cli` (scripts/match.py).
"""

from matching.audio import TargetError, fit_length, load_target
from matching.cmaes import cmaes
from matching.direct import direct
from matching.latent import latent
from matching.loss import match_terms, spectral_distance
from matching.patch import read_patch, write_patch
from matching.problem import MatchResult, Problem
from matching.random_search import random_search

__all__ = ["MatchResult", "Problem", "TargetError", "cmaes", "direct", "fit_length", "latent", "load_target", "match_terms",
           "random_search", "read_patch", "spectral_distance", "write_patch"]
