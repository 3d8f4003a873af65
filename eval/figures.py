"""Evaluation figures (matplotlib, Agg backend), each written as one PNG.

  umap_figure               latents on the UMAP plane, plain and coloured by cluster (Figs. 5.1-5.3)
  cluster_spectra_figure    average FFT of chosen clusters + where they lie on the map (Fig. 5.9)
  waveforms_figure          stacked waveforms, e.g. an interpolation path (Figs. 5.4-5.5)
  comparison_figure         original vs reconstruction: overlaid waveforms, both spectrograms (Figs. 5.6-5.8)
  error_distributions_figure  per-example L1 errors per feature: histograms and boxplots
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from spectral import features  # noqa: E402
from common.atomic import atomic_path  # noqa: E402
from spectral.features import FeatureConfig  # noqa: E402

DPI = 110


def _save(fig, path: str | Path) -> Path:
    """Saves the figure atomically (`common.atomic`) and closes it; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI)
    plt.close(fig)
    return path


def _cluster_colours(labels: np.ndarray) -> np.ndarray:
    """RGBA [n, 4]: a repeating qualitative colour per cluster (many clusters share colours), grey noise."""
    cmap = plt.get_cmap("tab20")
    colours = cmap(np.mod(np.maximum(labels, 0), cmap.N))
    colours[labels < 0] = (0.75, 0.75, 0.75, 0.5)
    return colours


def umap_figure(embedding: np.ndarray, labels: np.ndarray, path: str | Path, title: str = "") -> Path:
    """UMAP points embedding [n, 2]: left plain, right coloured by DBSCAN labels [n] (noise grey)."""
    labels = np.asarray(labels)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    size = max(1.0, min(12.0, 3000.0 / max(len(labels), 1)))
    left.scatter(embedding[:, 0], embedding[:, 1], s=size, color="tab:blue", linewidths=0)
    left.set_title("UMAP projection")
    right.scatter(embedding[:, 0], embedding[:, 1], s=size, c=_cluster_colours(labels), linewidths=0)
    n_clusters = np.unique(labels[labels >= 0]).size
    right.set_title(f"DBSCAN: {n_clusters} clusters, {int(np.sum(labels < 0))} noise (grey)")
    for ax in (left, right):
        ax.set_xlabel("UMAP 1")
        ax.set_ylabel("UMAP 2")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def cluster_spectra_figure(spectra: dict[int, tuple[np.ndarray, np.ndarray]], embedding: np.ndarray,
                           labels: np.ndarray, path: str | Path, title: str = "") -> Path:
    """Left: mean |FFT| in dB against frequency per cluster {id: (freqs Hz, magnitude)};
    right: those clusters highlighted on the UMAP plane embedding [n, 2] (labels [n])."""
    labels = np.asarray(labels)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    right.scatter(embedding[:, 0], embedding[:, 1], s=2, color=(0.8, 0.8, 0.8), linewidths=0)
    for i, (cluster_id, (freqs, magnitude)) in enumerate(sorted(spectra.items())):
        colour = f"C{i}"
        n = int(np.sum(labels == cluster_id))
        left.plot(freqs, 20.0 * np.log10(magnitude + 1e-9), color=colour, linewidth=1,
                  label=f"cluster {cluster_id} ({n} sounds)")
        members = labels == cluster_id
        right.scatter(embedding[members, 0], embedding[members, 1], s=8, color=colour, label=f"cluster {cluster_id}")
    left.set_xlabel("frequency (Hz)")
    left.set_ylabel("mean |FFT| (dB)")
    left.set_title("average FFT per cluster")
    left.legend()
    right.set_title("cluster locations on the UMAP")
    right.set_xlabel("UMAP 1")
    right.set_ylabel("UMAP 2")
    right.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def waveforms_figure(waves: np.ndarray, sample_rate: int, titles: list[str], path: str | Path,
                     title: str = "") -> Path:
    """One row per waveform waves [m, T] (amplitude against time in s), shared axes."""
    waves = np.asarray(waves)
    fig, axes = plt.subplots(len(waves), 1, figsize=(9, 1.5 * len(waves) + 0.8), sharex=True, sharey=True,
                             squeeze=False)
    t = np.arange(waves.shape[-1]) / sample_rate
    for ax, wave, label in zip(axes[:, 0], waves, titles):
        ax.plot(t, wave, linewidth=0.6)
        ax.set_title(label, fontsize=9)
        ax.set_ylabel("amplitude")
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def spectrogram_db(audio: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """|STFT| in dB (20 log10, floored 80 dB below the peak), [frames, bins] of a clip [T]."""
    magnitude = np.asarray(features.magnitude(features.stft(np.asarray(audio, np.float32), cfg)))
    db = 20.0 * np.log10(np.maximum(magnitude, 1e-9))
    return np.maximum(db, db.max() - 80.0)


def comparison_figure(true: np.ndarray, recon: np.ndarray, cfg: FeatureConfig, path: str | Path,
                      title: str = "") -> Path:
    """Original vs reconstructed clip [T]: overlaid waveforms on top, both spectrograms below."""
    fig = plt.figure(figsize=(11, 7))
    grid = fig.add_gridspec(2, 2)
    top = fig.add_subplot(grid[0, :])
    t = np.arange(len(true)) / cfg.sample_rate
    top.plot(t, true, linewidth=0.7, label="original")
    top.plot(t, recon, linewidth=0.7, alpha=0.75, label="reconstruction")
    top.set_xlabel("time (s)")
    top.set_ylabel("amplitude")
    top.legend(loc="upper right")
    top.set_title("waveforms")
    specs = [spectrogram_db(true, cfg), spectrogram_db(recon, cfg)]
    vmin, vmax = min(s.min() for s in specs), max(s.max() for s in specs)
    extent = (0.0, len(true) / cfg.sample_rate, 0.0, cfg.sample_rate / 2.0)
    for col, (spec, label) in enumerate(zip(specs, ("original", "reconstruction"))):
        ax = fig.add_subplot(grid[1, col])
        image = ax.imshow(spec.T, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax, cmap="magma")
        ax.set_title(f"{label} spectrogram")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
        fig.colorbar(image, ax=ax, label="dB")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def error_distributions_figure(errors: dict[str, dict[str, np.ndarray]], path: str | Path, title: str = "") -> Path:
    """Per-example L1 errors {label: {feature: [n]}}: per feature a histogram (top) and boxplots (bottom)."""
    labels = list(errors)
    feature_names = list(errors[labels[0]])
    fig, axes = plt.subplots(2, len(feature_names), figsize=(4.2 * len(feature_names), 6.5), squeeze=False)
    for col, name in enumerate(feature_names):
        values = [np.asarray(errors[label][name]) for label in labels]
        hist = axes[0, col]
        pooled = np.concatenate(values)
        bins = np.histogram_bin_edges(pooled, bins=min(50, max(5, pooled.size // (4 * len(values)))))
        for label, v in zip(labels, values):
            hist.hist(v, bins=bins, alpha=0.55 if len(labels) > 1 else 0.9, label=label)
        hist.set_title(f"{name.upper()} L1 per example")
        hist.set_xlabel("L1 error (sum over feature elements)")
        hist.set_ylabel("examples")
        if len(labels) > 1:
            hist.legend(fontsize=8)
        box = axes[1, col]
        box.boxplot(values, tick_labels=labels, showfliers=True)
        box.set_ylabel("L1 error")
        box.tick_params(axis="x", labelrotation=30 if len(labels) > 2 else 0, labelsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
