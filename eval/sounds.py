"""WAV files of evaluation sounds (soundfile, 16-bit PCM).

Audio is written as rendered, not normalised, so loudness stays comparable between files;
samples outside [-1, 1] are clipped (the Voice mixer keeps its output inside that range).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Writes mono audio [T] (float, [-1, 1]) as 16-bit PCM WAV at sample_rate Hz; returns the path."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"need a non-empty mono clip [T], got shape {audio.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(audio, -1.0, 1.0), int(sample_rate), subtype="PCM_16")
    return path


def write_wavs(folder: str | Path, clips: dict[str, np.ndarray], sample_rate: int) -> dict[str, Path]:
    """Writes {stem: audio [T]} as folder/stem.wav; returns {stem: path}."""
    return {stem: write_wav(Path(folder) / f"{stem}.wav", audio, sample_rate) for stem, audio in clips.items()}
