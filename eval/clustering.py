"""Latent-space clustering evaluation (thesis 2.5-2.7.1, 4.2, 5.1.2): UMAP -> DBSCAN -> DBCV.

Encoder means mu [n, latent] are reduced to 2-D with UMAP, the 2-D points are
clustered with DBSCAN, and the clustering is scored with DBCV on the same 2-D
points (noise excluded from the distances, counted in |O|). The defaults are the
thesis settings of Experiments 1-2 (Tables 5.4, 5.8); Experiment 3 used eps=0.05.

A run's latent space (Tables 5.4/5.8/5.12): the encoder means of a random `fraction` of the
training set (10 % in the thesis, fixed seed) are clustered (`cluster_training_latents`). UMAP
needs n_neighbors < n: a larger setting is lowered to n - 1 and the effective value recorded;
fewer than `MIN_POINTS` points are not clustered at all.

What the clusters sound like (thesis 4.2, 5.5.3, Fig. 5.9): three medium-sized clusters are
drawn at random (fixed seed); the average FFT magnitude of their sounds shows whether they hold
distinct sound characteristics. "Medium-sized": between the 1/3 and 2/3 quantiles of all
cluster sizes (all clusters when that band holds fewer than `count`).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from sklearn.cluster import DBSCAN

from eval.dbcv import dbcv
from eval.reconstruct import subset_indices
from eval.settings import ClusteringConfig
from vae import run as run_lib

__all__ = ["ClusteringConfig", "ClusteringResult", "LatentClustering", "average_spectrum", "cluster_latents",
           "cluster_members", "cluster_training_latents", "dbcv", "dbscan", "effective_config", "medium_clusters",
           "umap_embed"]


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


# ----------------------------------------------------------- a run's latent space

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


# --------------------------------------------------------- what the clusters hold


def medium_clusters(labels: np.ndarray, count: int = 3, seed: int = 0) -> np.ndarray:
    """Up to `count` sorted cluster ids (labels >= 0) of medium size, drawn with `seed`."""
    labels = np.asarray(labels)
    ids, sizes = np.unique(labels[labels >= 0], return_counts=True)
    if ids.size <= count:
        return ids
    low, high = np.quantile(sizes, [1 / 3, 2 / 3])
    band = ids[(sizes >= low) & (sizes <= high)]
    pool = band if band.size >= count else ids
    return np.sort(np.random.default_rng(seed).choice(pool, size=count, replace=False))


def cluster_members(labels: np.ndarray, cluster_id: int, limit: int | None = None, seed: int = 0) -> np.ndarray:
    """Sorted positions of cluster `cluster_id` in labels [n]; at most `limit`, drawn with `seed`."""
    members = np.flatnonzero(np.asarray(labels) == cluster_id)
    if limit is not None and members.size > limit:
        members = np.sort(np.random.default_rng(seed).choice(members, size=limit, replace=False))
    return members


def average_spectrum(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies [T//2 + 1] Hz, mean |rfft| [T//2 + 1]) over clips audio [n, T] (whole-clip FFT)."""
    audio = np.asarray(audio, np.float64)
    return np.fft.rfftfreq(audio.shape[-1], 1.0 / sample_rate), np.abs(np.fft.rfft(audio, axis=-1)).mean(axis=0)
