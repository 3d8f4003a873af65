"""The explorer's settings (`scripts/explore.py` flags map onto them one to one)."""

from __future__ import annotations

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class ExplorerConfig:
    """Settings of one explorer server.

    Attributes:
      points: training patches on the map when it is computed (None: the evaluation's embedding if the
        run has one, else `default_points`); a seeded draw of the training set.
      default_points: map size computed for a run without an evaluation embedding.
      seed: seed of that draw (UMAP's random_state is the evaluation's, `eval.clustering`).
      neighbours: k of the k-NN mappings map -> latent (clicks on empty space) and latent -> map.
      latent_limit: largest |z_i| accepted from a client, in prior standard deviations (N(0, 1)).
      path_steps_max: most interpolation steps one /api/path request may ask for.
      cache_size: rendered sounds kept for their WAV / export URLs (oldest dropped first).
      render_workers: render threads at once (renders run off the event loop).
      max_pending: requests waiting for a render thread before new ones get HTTP 503.
      upload_limit_bytes: largest WAV accepted by /api/match (HTTP 413 above).
      match_budget_s: seconds of sound matching per dropped WAV (compilation included).
      match_starts: starts of the latent matching method, descended as one batch.
      slider_label_min_r: smallest |Spearman r| between a latent dimension and a sound descriptor over the
        map's points for the slider to be named after it (0.4: a moderate monotonic relation; weaker ones
        would name sliders after noise).
    """

    points: Optional[int] = None
    default_points: int = 2000
    seed: int = 0
    neighbours: int = 8
    latent_limit: float = 8.0
    path_steps_max: int = 32
    cache_size: int = 512
    render_workers: int = 2
    max_pending: int = 64
    upload_limit_bytes: int = 8 * 1024 * 1024
    match_budget_s: float = 15.0
    match_starts: int = 16
    slider_label_min_r: float = 0.4

    def __post_init__(self):
        for name in ("default_points", "neighbours", "path_steps_max", "cache_size", "render_workers", "max_pending",
                     "upload_limit_bytes", "match_starts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.points is not None and self.points < 5:
            raise ValueError(f"points must be >= 5 (UMAP and DBSCAN need a few), got {self.points}")
        if not 0 <= self.slider_label_min_r <= 1:
            raise ValueError(f"slider_label_min_r must be in [0, 1], got {self.slider_label_min_r}")
        if not self.latent_limit > 0 or not self.match_budget_s > 0:
            raise ValueError("latent_limit and match_budget_s must be > 0")
