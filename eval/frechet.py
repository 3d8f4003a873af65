"""Fréchet distance between Gaussians fitted to embeddings (FAD, thesis Eq. 2.14).

        F(N_a, N_b) = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))

The procedure and numerical safeguards follow the `frechet-audio-distance`
package (`calculate_frechet_distance`, itself adapted from pytorch-fid and the
original google-research FAD):

* statistics are the sample mean and the unbiased (ddof=1) covariance;
* the matrix square root is `scipy.linalg.sqrtm` of the product S_a S_b;
* if that root is not finite (singular product), eps * I is added to both
    covariances and the root is recomputed;
* a complex root whose diagonal has an imaginary part above 1e-3 raises
    `ValueError`; otherwise the (numerical-noise) imaginary part is dropped.

The package itself is not a dependency (it pins numpy<2).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

_IMAG_ATOL = 1e-3


def embedding_statistics(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] of embeddings `emb` [N, D] (float64)."""
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2:
        raise ValueError(f"embeddings must be [n, dim], got shape {emb.shape}")
    if emb.shape[0] < 2:
        raise ValueError("need at least two embeddings to estimate a covariance")
    return emb.mean(axis=0), np.atleast_2d(np.cov(emb, rowvar=False))


def _sqrtm(a: np.ndarray) -> np.ndarray:
    """scipy's matrix square root, silencing its singular-matrix warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(a)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Squared Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    mu*: [D] means; sigma*: [D, D] covariances; eps: diagonal offset used only
    when the covariance product is singular. Units are those of the embedding, squared.
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1 = np.atleast_2d(sigma1).astype(np.float64)
    sigma2 = np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape:
        raise ValueError(f"mean vectors differ in shape: {mu1.shape} vs {mu2.shape}")
    if sigma1.shape != sigma2.shape:
        raise ValueError(f"covariances differ in shape: {sigma1.shape} vs {sigma2.shape}")

    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(f"Fréchet distance: singular covariance product; adding {eps} "
                      "to the diagonal of both covariance estimates", RuntimeWarning)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))

    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=_IMAG_ATOL):
            raise ValueError(f"Fréchet distance: imaginary component {np.max(np.abs(covmean.imag))} "
                             "in the covariance square root")
        covmean = covmean.real

    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fad(emb_a: np.ndarray, emb_b: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet Audio Distance between two embedding sets [N_a, D] and [N_b, D]."""
    return frechet_distance(*embedding_statistics(emb_a), *embedding_statistics(emb_b), eps=eps)
