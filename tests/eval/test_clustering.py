"""UMAP -> DBSCAN -> DBCV pipeline on planted clusters."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from eval.cli import eval_config, evaluate_parser
from eval.clustering import ClusteringConfig, cluster_latents, dbscan
from eval.pipeline import EvalConfig
from tests.checkout import ROOT
from tests.planted import planted_clusters


THESIS = ROOT / "docs" / "thesis.md"  # The study's settings, quoted verbatim.


def test_config_defaults_are_the_thesis_settings():
    cfg = ClusteringConfig()
    assert (cfg.n_neighbors, cfg.min_dist, cfg.n_components, cfg.eps, cfg.min_samples) == (50, 0.0, 2, 0.04, 4)
    # What an evaluation uses when given no settings: the library default and the CLI's.
    assert EvalConfig().clustering == cfg
    assert eval_config(evaluate_parser().parse_args(["runs/x"])).clustering == cfg
    text = " ".join(THESIS.read_text().split())  # Section 5.1.2, Experiment 1: the sentence the defaults come from.
    found = re.search(r"UMAP parameters were set to (\d+) for the number of neighbors and (\d+) for the minimum "
                      r"distance\. For DBSCAN, the epsilon value was set to ([\d.]+), and the minimum number of "
                      r"samples was set to (\d+)", text)
    assert found, "Experiment 1's clustering settings not found in docs/thesis.md"
    assert (cfg.n_neighbors, cfg.min_dist, cfg.eps, cfg.min_samples) == \
        (int(found[1]), float(found[2]), float(found[3]), int(found[4]))


def test_dbscan_counts_planted_clusters_and_noise():
    points, labels = planted_clusters(300, 5, 0.0, seed=0, spread=0.004)
    isolated = np.stack([5.0 + 0.1 * np.arange(20), np.zeros(20)], axis=1)  # 0.1 apart > eps: noise
    found = dbscan(np.concatenate([points, isolated]), ClusteringConfig())
    assert np.unique(found[found >= 0]).size == 5
    assert np.sum(found == -1) == 20
    assert adjusted_rand_score(labels, found[:300]) == 1.0


@pytest.mark.slow
def test_cluster_latents_end_to_end():
    # Four well-separated Gaussian clusters in a 16-d latent space; tiny so UMAP stays fast.
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 10.0, (4, 16))
    truth = np.repeat(np.arange(4), 40)
    mu = centres[truth] + rng.normal(0.0, 0.5, (160, 16))
    cfg = dataclasses.replace(ClusteringConfig(), n_neighbors=15, eps=0.5)
    result = cluster_latents(mu, cfg)
    assert result.embedding.shape == (160, 2) and result.embedding.dtype == np.float32
    assert result.labels.shape == (160,)
    assert result.n_clusters == 4 and result.n_noise == int(np.sum(result.labels == -1))
    clustered = result.labels >= 0
    assert adjusted_rand_score(truth[clustered], result.labels[clustered]) == 1.0
    assert result.dbcv > 0.5
