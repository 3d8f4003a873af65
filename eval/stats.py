"""Kruskal–Wallis H-test with the epsilon-squared effect size (thesis 2.7.2.2, 5.1.1, 5.3.1).

The thesis compares per-example L1 loss distributions (STFT, MFCC, CQT) of several
runs with a Kruskal–Wallis test per feature and then asks whether a significant
difference is also a meaningful one. The effect size is the rank epsilon squared

    eps^2 = H / ((n^2 - 1) / (n + 1)) = H / (n - 1),

with n the total number of observations over all groups (Kelley 1935; the form
recommended for Kruskal–Wallis by Tomczak & Tomczak 2014, "The need to report
effect size estimates revisited", Trends in Sport Sciences 21(1)). H is scipy's
tie-corrected statistic, so eps^2 lies in [0, 1].

There is no single agreed interpretation scale. Two are provided:

* `SMALL_MEDIUM_LARGE` (default): small >= 0.01, medium >= 0.08, large >= 0.26,
  the project's convention; these are close to squared Cohen's r cut-offs
  (0.1, 0.3, 0.5)^2 = (0.01, 0.09, 0.25). We did not trace a primary source for the
  exact 0.08 / 0.26 values.
* `REA_PARKER`: Rea & Parker's (1992) bands for r, squared, as suggested for eps^2
  (negligible < 0.01 <= weak < 0.04 <= moderate < 0.16 <= relatively strong
  < 0.36 <= strong < 0.64 <= very strong).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class EffectSizeScale:
    """Labels for eps^2: `labels[i]` applies from `bounds[i - 1]` (inclusive) up to `bounds[i]`."""

    bounds: tuple[float, ...]
    labels: tuple[str, ...]

    def __post_init__(self):
        if len(self.labels) != len(self.bounds) + 1:
            raise ValueError("need exactly one more label than bounds")
        if list(self.bounds) != sorted(self.bounds):
            raise ValueError("bounds must be increasing")

    def label(self, value: float) -> str:
        """The label of an effect size `value`."""
        return self.labels[int(np.searchsorted(self.bounds, value, side="right"))]


SMALL_MEDIUM_LARGE = EffectSizeScale(bounds=(0.01, 0.08, 0.26),
                                     labels=("negligible", "small", "medium", "large"))
REA_PARKER = EffectSizeScale(bounds=(0.01, 0.04, 0.16, 0.36, 0.64),
                             labels=("negligible", "weak", "moderate", "relatively strong", "strong",
                                     "very strong"))


@dataclasses.dataclass(frozen=True)
class KruskalResult:
    """One Kruskal–Wallis test.

    Attributes:
      h: tie-corrected H statistic.
      p_value: asymptotic chi^2 (k - 1 dof) p-value.
      epsilon_squared: H / (n - 1), in [0, 1].
      magnitude: label of `epsilon_squared` on the chosen `EffectSizeScale`.
      n: total number of observations; k: number of groups.
    """

    h: float
    p_value: float
    epsilon_squared: float
    magnitude: str
    n: int
    k: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether p < alpha."""
        return self.p_value < alpha


def epsilon_squared(h: float, n: int) -> float:
    """Rank epsilon squared H / ((n^2 - 1) / (n + 1)) for n total observations."""
    if n < 2:
        raise ValueError("epsilon squared needs at least two observations")
    return float(h / ((n ** 2 - 1) / (n + 1)))


def kruskal_wallis(groups: Sequence[np.ndarray], scale: EffectSizeScale = SMALL_MEDIUM_LARGE) -> KruskalResult:
    """Kruskal–Wallis H-test (scipy.stats.kruskal) of k >= 2 1-D samples, with eps^2."""
    groups = [np.ravel(np.asarray(g, dtype=np.float64)) for g in groups]
    if len(groups) < 2:
        raise ValueError("Kruskal–Wallis needs at least two groups")
    n = sum(g.size for g in groups)
    h, p = stats.kruskal(*groups)
    h = float(h)
    eps2 = epsilon_squared(h, n)
    return KruskalResult(h=h, p_value=float(p), epsilon_squared=eps2, magnitude=scale.label(eps2), n=n,
                         k=len(groups))


def kruskal_per_feature(runs: Mapping[str, Mapping[str, np.ndarray]],
                        scale: EffectSizeScale = SMALL_MEDIUM_LARGE) -> dict[str, KruskalResult]:
    """One test per feature across runs: `runs[run][feature]` holds that run's 1-D values.

    Every run must provide the same features; e.g. runs = {"Exp1-LMSL": {"stft": l1, "mfcc": ...}, ...}.
    """
    if len(runs) < 2:
        raise ValueError("need at least two runs to compare")
    features = [set(per_run) for per_run in runs.values()]
    if any(f != features[0] for f in features):
        raise ValueError(f"runs provide different features: {[sorted(f) for f in features]}")
    return {feature: kruskal_wallis([per_run[feature] for per_run in runs.values()], scale)
            for feature in sorted(features[0])}
