"""Spectral reconstruction metrics (thesis 2.7.2.2, Tables 5.3/5.7/5.11): MSE and per-example L1.

For each feature of `spectral.features` the ground-truth and reconstructed audio are compared
on a real-valued representation [..., frames, channels]:

  'stft': |STFT| (linear magnitude),  'mfcc': the MFCCs,  'cqt': |CQT| (linear magnitude).

Per example e with feature arrays Y_e, Y^_e of m elements:

  mse_e = (1 / m) sum (Y_e - Y^_e)^2     (Eq. 2.15 restricted to one example)
  l1_e  = sum |Y_e - Y^_e|                (Eq. 2.16, one value per example -> a distribution)

Every example has the same m, so the set's MSE (Eq. 2.15 over all elements of all
examples) is the mean of the mse_e. Both are computed in one jitted call per batch, and
only the per-example values (2 floats per example and feature) are kept.
"""

from __future__ import annotations

import dataclasses
import functools
import jax
import jax.numpy as jnp
import numpy as np

from spectral import features
from spectral.features import FeatureConfig

METRIC_FEATURES = ("stft", "mfcc", "cqt")


def representation(name: str, audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Real feature [..., frames, channels] of audio [..., n]: |STFT|, MFCC or |CQT|."""
    feature = features.compute(name, audio, cfg)
    return features.magnitude(feature) if features.IS_COMPLEX[name] else feature


def feature_errors(y_true: jnp.ndarray, y_pred: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(mse [B], l1 [B]) per example of features [B, ...]: mean squared and summed absolute error."""
    diff = (y_true - y_pred).reshape(y_true.shape[0], -1)
    return jnp.mean(jnp.square(diff), axis=-1), jnp.sum(jnp.abs(diff), axis=-1)


@functools.partial(jax.jit, static_argnames=("names", "cfg"))
def example_errors(true_audio: jnp.ndarray, recon_audio: jnp.ndarray, names: tuple[str, ...],
                   cfg: FeatureConfig) -> dict[str, tuple[jnp.ndarray, jnp.ndarray]]:
    """{feature: (mse [B], l1 [B])} between audio batches [B, n] (float32)."""
    return {name: feature_errors(representation(name, true_audio, cfg), representation(name, recon_audio, cfg))
            for name in names}


@dataclasses.dataclass(frozen=True, eq=False)
class SpectralErrors:
    """Per-example errors of a set: mse[feature] and l1[feature], each [n] float64."""

    mse: dict[str, np.ndarray]
    l1: dict[str, np.ndarray]

    def summary(self) -> dict[str, dict[str, float]]:
        """{feature: {'mse': set MSE (Eq. 2.15), 'l1_mean', 'l1_median', 'l1_std'}}."""
        return {name: {"mse": float(np.mean(self.mse[name])), "l1_mean": float(np.mean(self.l1[name])),
                       "l1_median": float(np.median(self.l1[name])), "l1_std": float(np.std(self.l1[name]))}
                for name in self.mse}


def batch_errors(true_audio: np.ndarray, recon_audio: np.ndarray, cfg: FeatureConfig,
                 names: tuple[str, ...] = METRIC_FEATURES, pad_to: int | None = None) -> dict[str, tuple]:
    """{feature: (mse [b], l1 [b])} as float64 numpy for audio batches [b, n].

    pad_to: zero-pad the batch to this many rows before the jitted call (so a short last
    batch reuses the compiled shape); the padding rows are dropped from the result.
    """
    b = len(true_audio)
    if pad_to is not None and b < pad_to:
        pad = ((0, pad_to - b), (0, 0))
        true_audio, recon_audio = np.pad(true_audio, pad), np.pad(recon_audio, pad)
    out = example_errors(jnp.asarray(true_audio), jnp.asarray(recon_audio), tuple(names), cfg)
    return {name: (np.asarray(mse[:b], np.float64), np.asarray(l1[:b], np.float64)) for name, (mse, l1) in out.items()}


def concatenate(batches: list[dict[str, tuple]], names: tuple[str, ...] = METRIC_FEATURES) -> SpectralErrors:
    """SpectralErrors of the set from the `batch_errors` of its batches, in order."""
    def stack(i: int, name: str) -> np.ndarray:
        return np.concatenate([b[name][i] for b in batches]) if batches else np.zeros(0, np.float64)

    return SpectralErrors({n: stack(0, n) for n in names}, {n: stack(1, n) for n in names})


def describe_settings(cfg: FeatureConfig) -> dict[str, dict]:
    """The feature settings of each metric, for the report (units in the keys)."""
    fmax = cfg.sample_rate / 2 if cfg.fmax is None else cfg.fmax
    return {
        "stft": {"representation": "|STFT| (linear magnitude)", "n_fft": cfg.n_fft, "hop_length": cfg.hop_length,
                 "window": cfg.window, "center": cfg.center, "pad_mode": cfg.pad_mode},
        "mfcc": {"representation": "MFCC (DCT-II ortho of mel power in dB)", "n_mfcc": cfg.n_mfcc,
                 "n_mels": cfg.n_mels, "fmin_hz": cfg.fmin, "fmax_hz": fmax, "top_db": cfg.top_db,
                 "n_fft": cfg.n_fft, "hop_length": cfg.hop_length},
        "cqt": {"representation": "|CQT| (linear magnitude)", "fmin_hz": cfg.cqt_fmin, "n_bins": cfg.cqt_n_bins,
                "bins_per_octave": cfg.cqt_bins_per_octave, "hop_length": cfg.cqt_hop_length,
                "filter_scale": cfg.cqt_filter_scale},
        "common": {"sample_rate_hz": cfg.sample_rate},
    }
