"""FAD between ground-truth and reconstructed sound sets (thesis 2.7.2.1, Tables 5.2/5.6/5.10).

Each pretrained network of `eval.embeddings` ('vggish', 'panns') embeds both sets batch by
batch; only the embeddings are kept (VGGish 128 floats per 0.96 s example, PANNs 2048 per
clip), and `eval.frechet.fad` compares the two Gaussians at the end.

A missing checkpoint does not stop an evaluation: `load_embedders` returns the networks it
could load and, for each one it could not, the `WeightsNotFoundError` message (which file,
which folder). Clips shorter than `MIN_SECONDS` are zero-padded at the end to that length:
VGGish needs 0.96 s for one example and PANNs' six pooling stages about as much.
"""

from __future__ import annotations

import math
import os

import numpy as np
from torch import nn

from eval.embeddings import WeightsNotFoundError, embed, load_model
from eval.frechet import fad

EMBEDDING_MODELS = ("vggish", "panns")
MIN_SECONDS = 1.0


def load_embedders(weights_dir: str | os.PathLike | None = None, download: bool = True,
                   names: tuple[str, ...] = EMBEDDING_MODELS) -> tuple[dict[str, nn.Module], dict[str, str]]:
    """({name: network} that loaded, {name: WeightsNotFoundError message} that did not)."""
    models, skipped = {}, {}
    for name in names:
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


def embed_batch(audio: np.ndarray, sample_rate: int, models: dict[str, nn.Module],
                batch_size: int = 32) -> dict[str, np.ndarray]:
    """{name: embeddings [rows, dim]} of clips audio [B, T] at sample_rate Hz (padded to MIN_SECONDS)."""
    clips = pad_clips(audio, sample_rate)
    return {name: embed(clips, sample_rate, model, batch_size=batch_size) for name, model in models.items()}


def fad_scores(true_embeddings: dict[str, list[np.ndarray]],
               recon_embeddings: dict[str, list[np.ndarray]]) -> dict[str, float]:
    """{name: FAD} between the stacked per-batch embeddings of the two sets."""
    return {name: fad(np.concatenate(true_embeddings[name]), np.concatenate(recon_embeddings[name]))
            for name in true_embeddings}
