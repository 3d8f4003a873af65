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

FAD of two sound sets (thesis 2.7.2.1, Tables 5.2/5.6/5.10): each network of
`eval.embeddings.EMBEDDING_MODELS` ('vggish', 'panns', 'cdpam') embeds both sets batch by batch;
only the embeddings are kept (VGGish 128 floats per 0.96 s example, PANNs 2048 per clip, CDPAM
512 per clip), and `fad` compares the two Gaussians at the end. A network that cannot be loaded does not stop an
evaluation: `load_embedders` returns the ones it could load and, for each other one, why not
(the `WeightsNotFoundError` message naming the file and folder, or that the torch extra is
missing). Clips shorter than a network's `min_seconds` are zero-padded at the end to that length:
VGGish needs 0.96 s for one example and PANNs' six pooling stages about as much (`MIN_SECONDS`);
CDPAM takes clips as they are.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
from scipy import linalg

from eval.embeddings.registry import EMBEDDING_MODELS, TORCH_EXTRA_MESSAGE

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


# ------------------------------------------------------------ FAD of sound sets

MIN_SECONDS = 1.0


def load_embedders(weights_dir: str | os.PathLike | None = None, download: bool = True,
                   names: tuple[str, ...] = tuple(EMBEDDING_MODELS)) -> tuple[dict, dict[str, str]]:
    """({name: torch network} that loaded, {name: why not} for the others).

    Without torch every network is skipped with `TORCH_EXTRA_MESSAGE`; with it, a missing
    checkpoint skips that network with the `WeightsNotFoundError` message.
    """
    try:
        import torch  # noqa: F401 - only to know whether the networks can run
    except ImportError:
        return {}, dict.fromkeys(names, TORCH_EXTRA_MESSAGE)
    from eval.embeddings.networks import load_model
    from eval.embeddings.weights import WeightsNotFoundError

    models, skipped = {}, {}
    for name in names:  # Each network is tried once per evaluation; a missing one is skipped.
        try:
            models[name] = load_model(name, weights_dir=weights_dir, download=download)
        except WeightsNotFoundError as err:
            skipped[name] = str(err)
    return models, skipped


def pad_clips(audio: np.ndarray, sample_rate: int, min_seconds: float = MIN_SECONDS) -> np.ndarray:
    """Clips [B, T] zero-padded at the end to at least ceil(min_seconds * sample_rate) samples."""
    audio = np.asarray(audio, np.float32)
    need = math.ceil(min_seconds * sample_rate) - audio.shape[-1]
    return np.pad(audio, ((0, 0), (0, need))) if need > 0 else audio


def embed_batch(audio: np.ndarray, sample_rate: int, models: dict, batch_size: int = 32) -> dict[str, np.ndarray]:
    """{name: embeddings [rows, dim]} of clips audio [B, T] at sample_rate Hz (padded to each network's
    min_seconds) by the networks `models` ({name: torch network} of `load_embedders`)."""
    from eval.embeddings.networks import embed

    def pad_for(name: str) -> float:
        return EMBEDDING_MODELS[name].min_seconds if name in EMBEDDING_MODELS else MIN_SECONDS

    return {name: embed(pad_clips(audio, sample_rate, pad_for(name)), sample_rate, model, batch_size=batch_size)
            for name, model in models.items()}


def skipped_line(skipped: dict[str, str]) -> str:
    """One short console line for the networks FAD skipped (their full reasons go to the report)."""
    return f"FAD without {', '.join(skipped)} (not installed or no checkpoint; see the report's FAD section)"


def fad_scores(true_embeddings: dict[str, list[np.ndarray]],
               recon_embeddings: dict[str, list[np.ndarray]]) -> dict[str, float]:
    """{name: FAD} between the stacked per-batch embeddings of the two sets."""
    return {name: fad(np.concatenate(true_embeddings[name]), np.concatenate(recon_embeddings[name]))
            for name in true_embeddings}
