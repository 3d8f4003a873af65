"""Audio -> FAD embeddings, following the `frechet-audio-distance` package's procedure.

1. Mono clips [B, T] at any rate are resampled to 16 kHz (the package uses
   resampy's kaiser_best; here librosa's soxr_hq, also a band-limited high-quality
   resampler -- resampy is not a dependency).
2. VGGish: each clip is cut into non-overlapping 0.96 s log-mel examples (no
   padding; a 1 s clip gives one) and every example gives one 128-d embedding taken
   from the last FC layer *before* its ReLU, without PCA (package defaults
   `use_activation=False`, `use_pca=False`). All examples of all clips are kept --
   no pooling -- and stacked clip-major.
3. PANNs Cnn14_16k: each whole clip gives one 2048-d `embedding` (the post-ReLU fc1
   output, already pooled over the clip by Cnn14's mean-over-frequency then
   max+mean-over-time). Rows are clips, i.e. the package's behaviour after its fix
   of issue #37 (before it, PANN embeddings were flattened to 1-D by mistake).
4. The FAD statistics are then the mean / covariance over all rows (`eval.frechet`).

Batches of `batch_size` clips go through the network at once under
`torch.inference_mode()` in eval mode; clips in one call share one length.
"""

from __future__ import annotations

import os

import librosa
import numpy as np
import torch
from torch import nn

from eval.embeddings.panns import Cnn14_16k
from eval.embeddings.registry import EMBEDDING_MODELS
from eval.embeddings.vggish import VGGish
from eval.embeddings.weights import find_weights, load_checkpoint
from eval.embeddings.cdpam import load_cdpam

MODEL_SAMPLE_RATE = 16000


def resample(audio: np.ndarray, sample_rate: int, target_rate: int = MODEL_SAMPLE_RATE) -> np.ndarray:
    """Resample clips [..., T] from sample_rate to target_rate Hz along the last axis (float32)."""
    audio = np.asarray(audio, dtype=np.float32)
    if sample_rate == target_rate:
        return audio
    return librosa.resample(audio, orig_sr=sample_rate, target_sr=target_rate, res_type="soxr_hq",
                            axis=-1).astype(np.float32)


def load_model(name: str, weights_dir: str | os.PathLike | None = None, use_pca: bool = False,
               download: bool = True) -> nn.Module:
    """A pretrained embedding network in eval mode: "vggish" (optionally with PCA), "panns" or "cdpam"."""
    if name not in EMBEDDING_MODELS:
        raise ValueError(f"unknown embedding model {name!r}; expected one of {tuple(EMBEDDING_MODELS)}")
    if name == "cdpam":
        return load_cdpam()
    weights = EMBEDDING_MODELS[name].weights
    if name == "vggish":
        model = VGGish(postprocess=use_pca)
        state = dict(load_checkpoint(find_weights(weights[0], weights_dir, download)))
        if use_pca:
            pca = load_checkpoint(find_weights("vggish_pca", weights_dir, download))
            state["pproc.pca_eigen_vectors"] = torch.as_tensor(np.asarray(pca["pca_eigen_vectors"]),
                                                               dtype=torch.float32)
            state["pproc.pca_means"] = torch.as_tensor(np.asarray(pca["pca_means"]), dtype=torch.float32).reshape(-1, 1)
    else:
        model = Cnn14_16k()
        state = load_checkpoint(find_weights(weights[0], weights_dir, download))["model"]
    model.load_state_dict(state)
    return model.eval()


def embed(audio: np.ndarray, sample_rate: int, model: nn.Module, batch_size: int = 32) -> np.ndarray:
    """Embeddings [n_frames_total, dim] (float32) of mono clips audio [B, T] (or one clip [T]) at sample_rate Hz.

    VGGish gives n_frames_total = B * (examples per clip), PANNs and CDPAM give B; each network's input rate
    is its `sample_rate` attribute (CDPAM: 22.05 kHz), else 16 kHz.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None]
    if audio.ndim != 2:
        raise ValueError(f"audio must be [batch, samples] (mono), got shape {audio.shape}")
    waveform = resample(audio, sample_rate, getattr(model, "sample_rate", MODEL_SAMPLE_RATE))
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        chunks = [model.embed_waveform(torch.from_numpy(waveform[start:start + batch_size]).to(device)).cpu()
                  for start in range(0, waveform.shape[0], batch_size)]
    return torch.cat(chunks).numpy().astype(np.float32, copy=False)
