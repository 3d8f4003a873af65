"""The match figure: target and match spectrograms and waveforms, and each method's best distance
against renders spent."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common import atomic


def _spectrogram(ax, audio: np.ndarray, sample_rate: int, title: str) -> None:
    n_fft = 1 << int(np.clip(np.round(np.log2(0.032 * sample_rate)), 6, 12))
    n_fft = min(n_fft, 1 << int(np.log2(len(audio))))
    with np.errstate(divide="ignore"):  # Silent frames are -inf dB, drawn at vmin.
        ax.specgram(audio, NFFT=n_fft, Fs=sample_rate, noverlap=3 * n_fft // 4, cmap="magma", vmin=-120)
    ax.set(title=title, xlabel="time (s)", ylabel="frequency (Hz)")


def match_figure(path: str | Path, target: np.ndarray, match: np.ndarray, sample_rate: int, results) -> Path:
    """Writes the figure to path (PNG). target, match: [n] audio; results: `MatchResult`s with histories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    _spectrogram(axes[0, 0], target, sample_rate, "target")
    _spectrogram(axes[0, 1], match, sample_rate, "match")
    t = np.arange(len(target)) / sample_rate
    axes[1, 0].plot(t, target, lw=0.6, label="target")
    axes[1, 0].plot(t, match, lw=0.6, alpha=0.7, label="match")
    axes[1, 0].set(title="waveforms", xlabel="time (s)", ylabel="amplitude")
    axes[1, 0].legend(loc="upper right")
    for r in results:
        h = np.asarray(r.history)
        axes[1, 1].plot(h[:, 0], np.minimum.accumulate(h[:, 1]), label=f"{r.method}: {r.distance:.3f}")
        if r.method != "random" and np.isfinite(h[:, 2]).any():
            axes[1, 1].plot(h[:, 0], h[:, 2], lw=0.5, alpha=0.5, label=f"{r.method}: lowest loss per step")
    axes[1, 1].set(title="best spectral distance so far (and loss per iteration)", xlabel="renders",
                   ylabel="distance / loss", xscale="log")
    axes[1, 1].legend()
    path = Path(path)
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path
