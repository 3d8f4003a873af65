"""Test fixture: planted clusters in the unit square (for DBCV, DBSCAN and its benchmark)."""

from __future__ import annotations

import numpy as np


def planted_clusters(n_points: int, n_clusters: int, noise_fraction: float, seed: int = 0,
                     spread: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Points [n, 2] in the unit square: Gaussian blobs (std `spread`) on a jittered grid plus
    uniform noise labelled -1; returns (points, labels)."""
    rng = np.random.default_rng(seed)
    n_noise = int(round(n_points * noise_fraction))
    side = int(np.ceil(np.sqrt(n_clusters)))
    cells = rng.permutation(side * side)[:n_clusters]
    centres = (np.stack([cells % side, cells // side], axis=1) + 0.5 + rng.uniform(-0.2, 0.2, (n_clusters, 2))) / side
    labels = np.concatenate([np.arange(n_points - n_noise) % n_clusters, np.full(n_noise, -1)])
    points = centres[np.maximum(labels, 0)] + rng.normal(0.0, spread, (n_points, 2))
    points[labels < 0] = rng.uniform(0.0, 1.0, (n_noise, 2))
    return points, labels
