"""Linear latent interpolation between two sounds (thesis 5.5.1, Figs. 5.4-5.5)."""

from __future__ import annotations

import numpy as np


def latent_path(z_a: np.ndarray, z_b: np.ndarray, n_steps: int = 5) -> np.ndarray:
    """[n_steps + 2, latent]: z_a, `n_steps` evenly spaced points strictly between, z_b.

    z_a, z_b: [latent] encoder means. Row i is (1 - t_i) z_a + t_i z_b, t_i = i / (n_steps + 1).
    """
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    z_a, z_b = np.asarray(z_a, np.float32), np.asarray(z_b, np.float32)
    if z_a.shape != z_b.shape or z_a.ndim != 1:
        raise ValueError(f"need two [latent] vectors, got {z_a.shape} and {z_b.shape}")
    t = np.linspace(0.0, 1.0, n_steps + 2, dtype=np.float32)[:, None]
    return (1.0 - t) * z_a + t * z_b
