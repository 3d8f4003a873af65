"""The evaluation output folder: files recorded by key with paths relative to it, JSON and WAV writing.

JSON has no NaN or infinity; such floats (e.g. the DBCV of a single cluster) are written as null.
WAVs (soundfile, 16-bit PCM) are written as rendered, not normalised, so loudness stays
comparable between files; samples outside [-1, 1] are clipped (the Voice mixer keeps its
output inside that range). Every file is written atomically (`common.atomic`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf

from common.atomic import atomic_path, write_text


class OutputDir:
    """A folder whose written files are recorded as {key: path relative to the folder}."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.recorded: dict[str, str] = {}

    def path(self, key: str, relative: str) -> Path:
        """root/relative (parent folders created), recorded under key."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.recorded[key] = relative
        return path

    def npy(self, key: str, relative: str, array: np.ndarray) -> str:
        """Saves array as root/relative (.npy); returns the relative path."""
        with atomic_path(self.path(key, relative)) as tmp:
            np.save(tmp, np.asarray(array))
        return relative

    def rel(self, path: str | Path) -> str:
        """A path under root, relative to it (posix separators)."""
        return Path(path).relative_to(self.root).as_posix()


def finite_or_none(value: float) -> Optional[float]:
    return value if math.isfinite(value) else None


def plain(tree):
    """A nested structure with numpy scalars/arrays and paths as JSON values, NaN/inf as None."""
    if isinstance(tree, dict):
        return {str(k): plain(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [plain(v) for v in tree]
    if isinstance(tree, np.ndarray):
        return plain(tree.tolist())
    if isinstance(tree, (bool, np.bool_)):
        return bool(tree)
    if isinstance(tree, (int, np.integer)):
        return int(tree)
    if isinstance(tree, (float, np.floating)):
        return finite_or_none(float(tree))
    if isinstance(tree, Path):
        return str(tree)
    return tree


def write_json(path: str | Path, data: dict) -> Path:
    """Writes `data` as JSON (`plain` values) atomically; returns the path."""
    return write_text(path, json.dumps(plain(data), indent=2, ensure_ascii=False) + "\n")


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Writes mono audio [T] (float, [-1, 1]) as 16-bit PCM WAV at sample_rate Hz; returns the path."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"need a non-empty mono clip [T], got shape {audio.shape}")
    path = Path(path)
    with atomic_path(path) as tmp:
        sf.write(tmp, np.clip(audio, -1.0, 1.0), int(sample_rate), subtype="PCM_16")
    return path


def write_wavs(folder: str | Path, clips: dict[str, np.ndarray], sample_rate: int) -> dict[str, Path]:
    """Writes {stem: audio [T]} as folder/stem.wav; returns {stem: path}."""
    return {stem: write_wav(Path(folder) / f"{stem}.wav", audio, sample_rate) for stem, audio in clips.items()}
