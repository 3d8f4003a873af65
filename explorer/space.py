"""The map: 2-D UMAP coordinates of encoded training patches, their DBSCAN clusters, and the k-NN
mappings between the map and the latent space.

Where the map comes from: the run's evaluation (`scripts/evaluate.py` writes RUN/eval/latent/
train_indices.npy, mu.npy, umap_embedding.npy and labels.npy) when it exists and its latents match
the loaded checkpoint; otherwise it is computed like the evaluation does it (`eval.clustering`:
UMAP with the thesis's settings, DBSCAN on the 2-D points) over a seeded draw of training patches,
with a progress bar.

UMAP has no inverse, and the evaluation's reducer is not saved, so both directions use the points
themselves (`invert`, `project`): a map position -> the inverse-distance-weighted mean of the latents
of its k nearest map points; a latent -> the same weighted mean of the map positions of its k nearest
latents. On a map point either gives (nearly) that point back; between points it interpolates.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval import clustering
from vae import run as run_lib
from vae import run_files

MU_TOLERANCE = 1e-3  # Largest |mu - stored mu| for which the evaluation's map still describes the checkpoint.


@dataclasses.dataclass(frozen=True, eq=False)
class LatentMap:
    """Training patches placed on the 2-D map.

    Attributes:
      indices: [n] rows of the run's training set.
      x: [n, k] their patches in [0, 1] (the run's free parameters).
      mu: [n, latent] their encoder means under the loaded checkpoint.
      xy: [n, 2] float32 UMAP coordinates.
      labels: [n] DBSCAN cluster per point, -1 for noise.
      source: where xy came from ('evaluation' or 'computed').
    """

    indices: np.ndarray
    x: np.ndarray
    mu: np.ndarray
    xy: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.indices)


def _weights(distances: np.ndarray) -> np.ndarray:
    """Inverse-distance weights [m, k] summing to 1 per row; an exact hit takes all the weight."""
    w = 1.0 / np.maximum(distances, 1e-9)
    return w / w.sum(axis=-1, keepdims=True)


def _knn_mean(queries: np.ndarray, keys: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """For queries [m, a]: the inverse-distance-weighted mean of `values` [n, b] at the k nearest `keys` [n, a]."""
    queries = np.atleast_2d(np.asarray(queries, np.float64))
    d = np.linalg.norm(queries[:, None, :] - np.asarray(keys, np.float64)[None], axis=-1)   # [m, n]
    k = min(k, len(keys))
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
    w = _weights(np.take_along_axis(d, nearest, axis=1))
    return np.einsum("mk,mkb->mb", w, np.asarray(values, np.float64)[nearest]).astype(np.float32)


def invert(space: LatentMap, xy: np.ndarray, k: int) -> np.ndarray:
    """Map positions xy [m, 2] -> latents [m, latent] (k-NN inverse-distance-weighted mean of latents)."""
    return _knn_mean(xy, space.xy, space.mu, k)


def project(space: LatentMap, z: np.ndarray, k: int) -> np.ndarray:
    """Latents z [m, latent] -> map positions [m, 2] (k-NN inverse-distance-weighted mean of positions)."""
    return _knn_mean(z, space.mu, space.xy, k)


def _from_evaluation(run: run_lib.LoadedRun) -> LatentMap | None:
    """The evaluation's map of RUN, or None when it is absent, damaged or made with another checkpoint."""
    folder = Path(run.run_dir) / run_files.MAP_FOLDER
    if not all((folder / name).is_file() for name in run_files.MAP_FILES):
        return None
    try:
        indices, stored_mu, xy, labels = (np.load(folder / name) for name in run_files.MAP_FILES)
    except (OSError, ValueError):
        return None
    n = len(indices)
    if (xy.shape != (n, 2) or labels.shape != (n,) or stored_mu.shape != (n, run.config.model.latent_dim)
            or n < clustering.MIN_POINTS or indices.min() < 0 or indices.max() >= len(run.dataset.train)):
        return None
    x = np.asarray(run.dataset.train, np.float32)[indices]
    mu = np.asarray(run_lib.encode(run, x)[0], np.float32)
    if not np.allclose(mu, stored_mu, atol=MU_TOLERANCE):
        return None
    return LatentMap(indices.astype(np.int64), x, mu, xy.astype(np.float32), labels.astype(np.int64), "evaluation")


def compute(run: run_lib.LoadedRun, points: int, seed: int, progress: bool = True) -> LatentMap:
    """Encodes `points` training patches (a seeded draw; all when there are fewer) and maps them with
    UMAP -> DBSCAN like the evaluation (`eval.clustering`), showing a progress bar over the stages."""
    n_train = len(run.dataset.train)
    n = min(points, n_train)
    indices = np.sort(np.random.default_rng(seed).choice(n_train, size=n, replace=False))
    cfg = clustering.effective_config(clustering.ClusteringConfig(), n)
    with tqdm(total=3, desc=f"map of {n} training patches", unit="stage", disable=not progress) as bar:
        bar.set_postfix_str("encode")
        x = np.asarray(run.dataset.train, np.float32)[indices]
        mu = np.asarray(run_lib.encode(run, x)[0], np.float32)
        bar.update()
        bar.set_postfix_str("UMAP")
        xy = clustering.umap_embed(mu, cfg)
        bar.update()
        bar.set_postfix_str("DBSCAN")
        labels = clustering.dbscan(xy, cfg)
        bar.update()
    return LatentMap(indices, x, mu, xy, np.asarray(labels, np.int64), "computed")


def load_map(run: run_lib.LoadedRun, points: int | None, default_points: int, seed: int,
             progress: bool = True) -> LatentMap:
    """The evaluation's map when `points` is None and it fits the checkpoint; else `compute`d."""
    found = _from_evaluation(run) if points is None else None
    return found if found is not None else compute(run, points or default_points, seed, progress)
