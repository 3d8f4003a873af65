"""Latent-space organisation of a run (thesis 4.2, 5.1.2, Tables 5.4/5.8/5.12).

The encoder means of a random `fraction` of the training set (10 % in the thesis, fixed
seed) go through `eval.clustering.cluster_latents` (UMAP to 2-D, DBSCAN, DBCV).
UMAP needs n_neighbors < n: a larger setting is lowered to n - 1 and the effective value
is recorded; fewer than `MIN_POINTS` points are not clustered at all.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from eval.clustering import ClusteringConfig, ClusteringResult, cluster_latents
from eval.reconstruct import subset_indices
from vae import run as run_lib

MIN_POINTS = 5


@dataclasses.dataclass(frozen=True, eq=False)
class LatentClustering:
    """Clustering of training latents.

    Attributes:
      indices: [n] training rows used; x: [n, k] their patches; mu: [n, latent] their means.
      config: the ClusteringConfig actually used (n_neighbors possibly lowered).
      result: the ClusteringResult.
    """

    indices: np.ndarray
    x: np.ndarray
    mu: np.ndarray
    config: ClusteringConfig
    result: ClusteringResult


def effective_config(cfg: ClusteringConfig, n_points: int) -> ClusteringConfig:
    """cfg with n_neighbors lowered to n_points - 1 when it is not smaller than n_points."""
    if n_points < MIN_POINTS:
        raise ValueError(f"clustering needs at least {MIN_POINTS} points, got {n_points}")
    return dataclasses.replace(cfg, n_neighbors=min(cfg.n_neighbors, n_points - 1))


def cluster_training_latents(run: run_lib.LoadedRun, fraction: float, seed: int,
                             cfg: ClusteringConfig) -> LatentClustering:
    """Encodes a `fraction` of the training set (rows drawn with `seed`) and clusters the means."""
    indices = subset_indices(len(run.dataset.train), fraction, seed)
    x = np.asarray(run.dataset.train, np.float32)[indices]
    mu = np.asarray(run_lib.encode(run, x)[0])
    used = effective_config(cfg, len(indices))
    return LatentClustering(indices, x, mu, used, cluster_latents(mu, used))
