"""Clusters of the latent map and what they sound like (thesis 4.2, 5.5.3, Fig. 5.9).

Three medium-sized DBSCAN clusters are drawn at random (fixed seed); the average FFT
magnitude of their sounds shows whether the clusters hold distinct sound characteristics.
"Medium-sized" here: the clusters whose size lies between the 1/3 and 2/3 quantiles of all
cluster sizes (all clusters when that band holds fewer than `count`).
"""

from __future__ import annotations

import numpy as np


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
