"""What a match searches and how it reports: the search space (`Problem`) and a method's result."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth import SynthConfig, Voice, render
from jaxsynth.subset import ParameterSubset
from vae.config import NOISE_SEED
from vae.data import parameter_subset
from spectral import sizing
from spectral.features import FeatureConfig
from matching.loss import match_terms



@dataclasses.dataclass(frozen=True)
class Problem:
    """A sound-matching problem; hashable, so jitted functions take it as a static argument.

    Attributes:
      synth: the synth's settings (rate, buffer length) the target was loaded at.
      features: STFT settings of the loss (`spectral.sizing.multiscale_config`).
      subset: the free parameters (the thesis's 63 or all 78) and the frozen values of the others.
      impl: jaxsynth implementation ('xla', 'cpu_kernel' or None for the backend's default).
      log_weight: weight of the log-magnitude part of the loss beside spectral convergence (1 is
        `spectral.losses.multiscale_spectral`; the reported distance is unaffected).
      w1_weight: weight of `loss.spectral_w1` (the spectra as distributions over log frequency, in
        octaves) in the loss; 0 leaves it out.
    """

    synth: SynthConfig
    features: FeatureConfig
    subset: ParameterSubset
    impl: str | None = None
    log_weight: float = 1.0
    w1_weight: float = 0.0

    @classmethod
    def create(cls, synth: SynthConfig, all_params: bool = False, subset: ParameterSubset | None = None,
               impl: str | None = None, log_weight: float = 1.0, w1_weight: float = 0.0) -> "Problem":
        """The default problem: the thesis's 63 free parameters (all 78 with all_params) or `subset`."""
        return cls(synth, sizing.multiscale_config(synth), subset or parameter_subset(all_params), impl, log_weight,
                   w1_weight)

    def noise(self) -> jax.Array:
        """[buffer_size] white noise shared by every candidate: row 0 of `Voice`'s default noise."""
        return Voice(self.synth, noise_seed=NOISE_SEED).noise_rows[0]

    def render(self, sub01: jnp.ndarray, noise: jnp.ndarray) -> jnp.ndarray:
        """[B, k] free parameters in [0, 1] -> [B, buffer_size] audio (pure, jittable)."""
        return render(self.subset.expand(sub01), noise, self.synth, self.impl)

    def terms(self, sub01: jnp.ndarray, target: jnp.ndarray, noise: jnp.ndarray):
        """(loss [B], spectral distance [B]) of candidates [B, k] against target [n]."""
        return match_terms(target, self.render(sub01, noise), self.features, self.log_weight, self.w1_weight)


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """A method's best patch and its cost.

    Attributes:
      method: 'direct', 'latent', 'latent+direct' or 'random'.
      params01: float32 [78], the best patch found, in [0, 1].
      distance: its spectral distance to the target (`loss.spectral_distance`).
      renders: synth renders spent (one per candidate per iteration or draw).
      seconds: wall time of the search, compilation included.
      history: (renders so far, best distance so far, best loss so far) per logged step, float64 [steps, 3].
      extra: method-specific details (e.g. the f0 estimate).
    """

    method: str
    params01: np.ndarray
    distance: float
    renders: int
    seconds: float
    history: np.ndarray
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def history_row(renders: int, distance, loss) -> tuple[float, float, float]:
    return float(renders), float(distance), float(loss)
