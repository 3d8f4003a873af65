"""Latent-space clustering evaluation (thesis 2.5-2.7.1, 4.2, 5.1.2): UMAP -> DBSCAN -> DBCV.

Encoder means mu [n, latent] are reduced to 2-D with UMAP, the 2-D points are
clustered with DBSCAN, and the clustering is scored with DBCV on the same 2-D
points (noise excluded from the distances, counted in |O|). The defaults are the
thesis settings of Experiments 1-2 (Tables 5.4, 5.8); Experiment 3 used eps=0.05.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from sklearn.cluster import DBSCAN

from eval.dbcv import dbcv

__all__ = ["ClusteringConfig", "ClusteringResult", "cluster_latents", "dbcv", "dbscan", "umap_embed"]


@dataclasses.dataclass(frozen=True)
class ClusteringConfig:
    """UMAP and DBSCAN settings.

    Attributes:
      n_neighbors: UMAP neighbourhood size (local vs global structure).
      min_dist: UMAP minimum distance between embedded points (0 packs clusters tightly).
      n_components: embedding dimension.
      metric: UMAP input metric on the latents.
      eps: DBSCAN neighbourhood radius, in UMAP output units.
      min_samples: DBSCAN points (self included) within eps that make a core point.
      seed: UMAP random_state (fixing it also makes UMAP single-threaded and deterministic).
    """

    n_neighbors: int = 50
    min_dist: float = 0.0
    n_components: int = 2
    metric: str = "euclidean"
    eps: float = 0.04
    min_samples: int = 4
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class ClusteringResult:
    """Outcome of `cluster_latents`: the columns of thesis Tables 5.4/5.8/5.12 plus the raw arrays.

    Attributes:
      n_clusters: number of DBSCAN clusters; n_noise: points labelled -1.
      dbcv: DBCV of the clustering on `embedding`, in [-1, 1].
      labels: [n] cluster index per point, -1 for noise.
      embedding: [n, n_components] float32 UMAP coordinates.
    """

    n_clusters: int
    n_noise: int
    dbcv: float
    labels: np.ndarray
    embedding: np.ndarray


def umap_embed(mu: np.ndarray, cfg: ClusteringConfig = ClusteringConfig()) -> np.ndarray:
    """UMAP embedding [n, cfg.n_components] (float32) of latents mu [n, latent]."""
    import umap  # Slow import (numba); only needed here.

    reducer = umap.UMAP(n_neighbors=cfg.n_neighbors, min_dist=cfg.min_dist, n_components=cfg.n_components,
                        metric=cfg.metric, random_state=cfg.seed, n_jobs=1)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs.*overridden.*")
        return np.asarray(reducer.fit_transform(np.asarray(mu, dtype=np.float32)), dtype=np.float32)


def dbscan(points: np.ndarray, cfg: ClusteringConfig = ClusteringConfig()) -> np.ndarray:
    """DBSCAN labels [n] (int, -1 = noise) of points [n, d] with cfg.eps / cfg.min_samples."""
    return DBSCAN(eps=cfg.eps, min_samples=cfg.min_samples).fit_predict(np.asarray(points))


def cluster_latents(mu: np.ndarray, cfg: ClusteringConfig = ClusteringConfig()) -> ClusteringResult:
    """UMAP -> DBSCAN -> DBCV on latents mu [n, latent]."""
    embedding = umap_embed(mu, cfg)
    labels = dbscan(embedding, cfg)
    n_clusters = int(np.unique(labels[labels >= 0]).size)
    return ClusteringResult(n_clusters=n_clusters, n_noise=int(np.sum(labels < 0)), dbcv=dbcv(embedding, labels),
                            labels=labels, embedding=embedding)
