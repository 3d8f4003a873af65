"""DBCV: agreement with hdbscan's reference implementation, known cases, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hdbscan.validity import validity_index
from scipy.spatial.distance import cdist
from sklearn.cluster import DBSCAN

from eval.dbcv import dbcv, dbcv_details
from tests.planted import planted_clusters


@pytest.mark.parametrize("seed", range(8))
def test_matches_hdbscan(seed):
    rng = np.random.default_rng(seed)
    points, labels = planted_clusters(int(rng.integers(40, 160)), int(rng.integers(2, 7)), float(rng.uniform(0, 0.3)),
                                      seed=seed, spread=float(rng.uniform(0.005, 0.08)))
    if seed % 2:  # DBSCAN labels: irregular clusters, border points, noise
        labels = DBSCAN(eps=0.05, min_samples=4).fit_predict(points)
        if np.unique(labels[labels >= 0]).size < 2:
            pytest.skip("DBSCAN found fewer than two clusters")
    assert dbcv(points, labels) == pytest.approx(validity_index(points, labels), abs=1e-9)


def test_matches_hdbscan_with_duplicates_and_ties():
    # On a coarse grid (duplicate points, tied distances) hdbscan's default path uses sklearn's
    # dot-product distances, which leave ~1e-8 instead of 0 between duplicates; exact distances agree.
    points, labels = planted_clusters(150, 4, 0.1, seed=3, spread=0.03)
    points = np.round(points, 2)
    reference = validity_index(cdist(points, points), labels, metric="precomputed", d=2)
    result = dbcv_details(points, labels)
    assert result.score == pytest.approx(reference, abs=1e-12)
    _, per_cluster = validity_index(cdist(points, points), labels, metric="precomputed", d=2, per_cluster_scores=True)
    np.testing.assert_allclose(result.validity, per_cluster[result.cluster_ids], atol=1e-12)


def test_planted_separated_clusters_score_high():
    points, labels = planted_clusters(600, 6, 0.0, seed=0, spread=0.01)
    assert dbcv(points, labels) > 0.5


def test_uniform_noise_scores_low():
    rng = np.random.default_rng(0)
    points = rng.uniform(size=(400, 2))
    assert dbcv(points, rng.integers(0, 4, 400)) < 0.0
    # Splitting uniform points along a line gives touching "clusters" with no density gap.
    assert dbcv(points, (points[:, 0] > 0.5).astype(int)) < 0.0


def test_noise_is_excluded_and_scales_the_score():
    points, labels = planted_clusters(200, 3, 0.0, seed=1, spread=0.02)
    clean = dbcv(points, labels)
    far = np.random.default_rng(0).uniform(5.0, 6.0, size=(50, 2))
    noisy = dbcv(np.concatenate([points, far]), np.concatenate([labels, np.full(50, -1)]))
    assert noisy == pytest.approx(clean * 200 / 250, rel=1e-12)


def test_degenerate_clusterings():
    points, labels = planted_clusters(60, 2, 0.0, seed=0)
    assert dbcv(points, np.full(60, -1)) == 0.0  # no cluster: hdbscan's 0
    assert np.isnan(dbcv(points, np.zeros(60, dtype=int)))  # one cluster: no separation, hdbscan's NaN
    singleton = labels.copy()
    singleton[0] = 7
    with pytest.warns(RuntimeWarning, match="single-point"):
        with_singleton = dbcv(points, singleton)
    as_noise = labels.copy()
    as_noise[0] = -1
    assert with_singleton == dbcv(points, as_noise)


def test_memory_is_not_quadratic_in_cluster_size():
    points, labels = planted_clusters(3000, 2, 0.0, seed=0, spread=0.02)
    dense_cluster_matrix = 1500 ** 2 * 8  # one float64 |C| x |C| matrix, as hdbscan builds several
    tracemalloc.start()
    dbcv_details(points, labels, block_elements=2 ** 15)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < dense_cluster_matrix / 4
