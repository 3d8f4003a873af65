"""The settings of an evaluation (`EvalConfig`, `ClusteringConfig`): plain frozen dataclasses in a module that
imports nothing heavy, so that `scripts/evaluate.py` checks its flags (and answers --help) at once, before jax
and the run are loaded. `eval.pipeline` and `eval.clustering` use them (and export them under their old names).
"""

from __future__ import annotations

import dataclasses
from typing import Optional


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
class OrganizationConfig:
    """Settings of the organization measure (`eval.organization`). k: neighbours per sound; max_sounds: test
    sounds scored (the first ones); random_pairs: pairs the random-pair LSD averages; paths, steps: latent
    paths and steps per path of the smoothness measure; seed: of the pairs and paths."""

    k: int = 5
    max_sounds: int = 1000
    random_pairs: int = 5000
    paths: int = 16
    steps: int = 8
    seed: int = 0

    def __post_init__(self):
        for name in ("k", "max_sounds", "random_pairs", "paths", "steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"OrganizationConfig.{name} must be >= 1, got {getattr(self, name)}")


# Offsets added to the base seed for each random draw, so that every draw is fixed and recorded.
SEED_OFFSETS = {"train_subset": 0, "cluster_subset": 1, "umap": 0, "examples": 2, "interpolation": 3,
                "clusters": 4}


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Settings of one evaluation.

    Attributes:
      which: checkpoint to evaluate ('best' or 'latest').
      test_limit: evaluate only the first this-many test patches (None: all).
      train_fraction: fraction of the training set whose reconstructions enter the FAD (0.2).
      cluster_fraction: fraction of the training set whose latents are clustered (0.1).
      batch_size: patches rendered (and featurised) at once; the held audio is
        2 x batch_size x n_samples float32.
      fad: compute FAD at all; weights_dir / download: where checkpoints are looked for and
        whether a missing one may be fetched (`eval.embeddings.find_weights`).
      fad_sounds: at most this many sounds per FAD set (None: all); CDPAM takes ~2.8 s per second
        of audio on 2 CPU cores, and each set is embedded as originals and as reconstructions.
      clustering: UMAP / DBSCAN settings (its seed is the UMAP random_state).
      seed: base seed of every random draw (see `SEED_OFFSETS`).
      n_examples / example_indices: test sounds shown as original-vs-reconstruction figures
        (explicit test-set indices win over a seeded draw of n_examples).
      interpolation_steps / interpolation_pair: latent steps between two test sounds (test-set
        indices, default a seeded draw).
      n_clusters_shown, sounds_per_cluster, fft_per_cluster: clusters of Fig. 5.9, WAVs written
        per cluster, sounds averaged per cluster (the thesis used 15).
      organization: nearest-neighbour and latent-path measures (`eval.organization`).
      progress: tqdm bars.
    """

    which: str = "best"
    test_limit: Optional[int] = None
    train_fraction: float = 0.2
    cluster_fraction: float = 0.1
    batch_size: int = 64
    fad: bool = True
    fad_sounds: Optional[int] = 100
    weights_dir: Optional[str] = None
    download: bool = True
    clustering: ClusteringConfig = ClusteringConfig()
    seed: int = 0
    n_examples: int = 3
    example_indices: Optional[tuple[int, ...]] = None
    interpolation_steps: int = 5
    interpolation_pair: Optional[tuple[int, int]] = None
    n_clusters_shown: int = 3
    sounds_per_cluster: int = 3
    fft_per_cluster: int = 15
    organization: OrganizationConfig = OrganizationConfig()
    progress: bool = True

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        for name in ("train_fraction", "cluster_fraction"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("test_limit", "fad_sounds"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def seeds(self) -> dict[str, int]:
        """The seed of every random draw."""
        out = {k: self.seed + v for k, v in SEED_OFFSETS.items()}
        out["umap"] = self.clustering.seed
        return out
