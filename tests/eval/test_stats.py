"""Kruskal–Wallis H and epsilon-squared effect size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from eval.stats import (REA_PARKER, SMALL_MEDIUM_LARGE, EffectSizeScale, epsilon_squared, kruskal_per_feature,
                        kruskal_wallis)


def _manual_h(groups):
    """H = 12 / (n (n + 1)) sum R_i^2 / n_i - 3 (n + 1), divided by the tie correction."""
    values = np.concatenate(groups)
    ranks = rankdata(values)
    n = values.size
    edges = np.cumsum([0] + [len(g) for g in groups])
    h = 12.0 / (n * (n + 1)) * sum(ranks[a:b].sum() ** 2 / (b - a) for a, b in zip(edges[:-1], edges[1:]))
    h -= 3 * (n + 1)
    _, counts = np.unique(values, return_counts=True)
    return h / (1.0 - np.sum(counts ** 3 - counts) / (n ** 3 - n))


@pytest.mark.parametrize("ties", [False, True])
def test_h_matches_manual_rank_computation(ties):
    rng = np.random.default_rng(0)
    groups = [rng.normal(loc, 1.0, size) for loc, size in ((0.0, 20), (0.3, 25), (0.6, 30))]
    if ties:
        groups = [np.round(g) for g in groups]
    result = kruskal_wallis(groups)
    assert result.h == pytest.approx(_manual_h(groups), rel=1e-12)
    assert result.n == 75 and result.k == 3
    assert result.epsilon_squared == pytest.approx(result.h * (75 + 1) / (75 ** 2 - 1))


def test_identical_groups_have_no_effect():
    g = np.arange(30.0)
    result = kruskal_wallis([g, g.copy(), g.copy()])
    assert result.h == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)
    assert result.magnitude == "negligible" and not result.significant()


def test_separated_groups_have_a_large_effect():
    groups = [np.arange(20.0) + 100.0 * i for i in range(3)]
    result = kruskal_wallis(groups)
    # Complete separation of three groups of 20: eps^2 = between / total rank sum of squares = 16000 / 17995.
    assert result.epsilon_squared == pytest.approx(16000 / 17995)
    assert result.magnitude == "large" and result.significant(alpha=1e-6)


def test_epsilon_squared_is_h_over_n_minus_one():
    assert epsilon_squared(9.0, 10) == pytest.approx(1.0)
    assert epsilon_squared(2.5, 101) == pytest.approx(0.025)


def test_scales():
    assert [SMALL_MEDIUM_LARGE.label(v) for v in (0.005, 0.01, 0.05, 0.08, 0.2, 0.26, 0.9)] == [
        "negligible", "small", "small", "medium", "medium", "large", "large"]
    assert REA_PARKER.label(0.2) == "relatively strong" and REA_PARKER.label(0.7) == "very strong"
    with pytest.raises(ValueError):
        EffectSizeScale(bounds=(0.1,), labels=("a",))


def test_per_feature_across_runs():
    rng = np.random.default_rng(1)
    runs = {f"run{i}": {"stft": rng.normal(0, 1, 40), "mfcc": rng.normal(5 * i, 1, 40)} for i in range(3)}
    results = kruskal_per_feature(runs)
    assert set(results) == {"stft", "mfcc"}
    assert results["mfcc"].magnitude == "large" and results["stft"].epsilon_squared < 0.1
    with pytest.raises(ValueError, match="different features"):
        kruskal_per_feature({"a": {"stft": [1, 2]}, "b": {"mfcc": [1, 2]}})
