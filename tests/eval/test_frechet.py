"""Fréchet distance against closed forms and sample estimates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import special_ortho_group

from eval import frechet
from eval.frechet import embedding_statistics, fad, frechet_distance


def _commuting_covariances(a: np.ndarray, b: np.ndarray, seed: int = 0):
    """Q diag(a) Q^T and Q diag(b) Q^T for a random rotation Q (so tr sqrt(S1 S2) = sum sqrt(a b))."""
    q = special_ortho_group.rvs(a.size, random_state=seed)
    return q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T


def test_identical_distributions_give_zero():
    s1, _ = _commuting_covariances(np.array([1.0, 2.0, 0.5, 3.0]), np.ones(4))
    mu = np.array([1.0, -2.0, 0.0, 3.0])
    assert frechet_distance(mu, s1, mu, s1) == pytest.approx(0.0, abs=1e-10)


def test_pure_mean_shift_is_squared_distance():
    s1, _ = _commuting_covariances(np.array([1.0, 2.0, 0.5]), np.ones(3))
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([3.0, -1.0, 2.5])
    assert frechet_distance(mu1, s1, mu2, s1) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-10)


@pytest.mark.parametrize("rotate", [False, True])
def test_trace_term_closed_form(rotate):
    a, b = np.array([1.0, 4.0, 0.25, 9.0]), np.array([4.0, 1.0, 1.0, 0.01])
    s1, s2 = _commuting_covariances(a, b) if rotate else (np.diag(a), np.diag(b))
    mu1, mu2 = np.zeros(4), np.array([1.0, 0.0, -1.0, 0.5])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_one_dimensional_gaussians():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance(1.0, 4.0, -1.0, 9.0) == pytest.approx(4.0 + 1.0)


def test_sample_estimate_converges():
    rng = np.random.default_rng(0)
    a, b = np.array([1.0, 2.0, 0.5, 1.5]), np.array([0.5, 1.0, 2.0, 1.0])
    s1, s2 = _commuting_covariances(a, b, seed=1)
    mu1, mu2 = np.zeros(4), np.array([0.5, 0.0, 0.0, -0.5])
    exact = frechet_distance(mu1, s1, mu2, s2)
    errors = []
    for n in (200, 50_000):
        x = rng.multivariate_normal(mu1, s1, size=n)
        y = rng.multivariate_normal(mu2, s2, size=n)
        errors.append(abs(fad(x, y) - exact))
    assert errors[1] < errors[0]
    assert errors[1] < 0.02 * exact


def test_embedding_statistics_are_unbiased():
    x = np.random.default_rng(0).normal(size=(50, 3))
    mu, sigma = embedding_statistics(x)
    np.testing.assert_allclose(mu, x.mean(0))
    np.testing.assert_allclose(sigma, np.cov(x.T, ddof=1))


def test_singular_product_adds_eps(monkeypatch):
    calls = []
    real_sqrtm = frechet._sqrtm

    def flaky_sqrtm(m):
        calls.append(m)
        return np.full_like(m, np.nan) if len(calls) == 1 else real_sqrtm(m)

    monkeypatch.setattr(frechet, "_sqrtm", flaky_sqrtm)
    s = np.diag([1.0, 0.0])
    with pytest.warns(RuntimeWarning, match="singular"):
        value = frechet_distance(np.zeros(2), s, np.zeros(2), s, eps=1e-6)
    np.testing.assert_allclose(calls[1], (s + 1e-6 * np.eye(2)) @ (s + 1e-6 * np.eye(2)))
    assert value == pytest.approx(0.0, abs=1e-5)


def test_large_imaginary_part_raises(monkeypatch):
    monkeypatch.setattr(frechet, "_sqrtm", lambda m: np.eye(m.shape[0]) * (1 + 0.1j))
    with pytest.raises(ValueError, match="[Ii]maginary"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))


def test_negligible_imaginary_part_is_dropped(monkeypatch):
    monkeypatch.setattr(frechet, "_sqrtm", lambda m: np.eye(m.shape[0]) * (1 + 1e-9j))
    assert frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2)) == pytest.approx(0.0)


def test_rank_deficient_sample_covariances_stay_finite():
    # Fewer samples than dimensions: singular covariances, as with small FAD sets.
    rng = np.random.default_rng(0)
    value = fad(rng.normal(size=(5, 16)), rng.normal(size=(5, 16)))
    assert np.isfinite(value) and value > 0
