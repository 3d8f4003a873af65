"""Rendered sounds by id: what the WAV and export URLs point at, bounded (least recently used dropped)."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import threading
from typing import Optional

import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class Sound:
    """One rendered patch.

    Attributes:
      id: 16 hex digits, a hash of the patch (the same patch always has the same id).
      full01: [78] all parameters in [0, 1], torchsynth's order.
      audio: [buffer_size] float32 samples at the renderer's sample rate.
      z: [latent] the latent vector it was decoded from (a match's: its encoding).
      xy: [2] its place on the map.
      origin: how it was made (e.g. 'point 12 (decoded)', 'map (0.3, 1.2)', 'latent', 'path 3/8', 'match', 'upload').
    """

    id: str
    full01: np.ndarray
    audio: np.ndarray
    z: np.ndarray
    xy: np.ndarray
    origin: str


def sound_id(full01: np.ndarray) -> str:
    """16 hex digits identifying a patch [78] (float32 bytes hashed)."""
    return hashlib.sha256(np.asarray(full01, np.float32).tobytes()).hexdigest()[:16]


class SoundCache:
    """A thread-safe map id -> Sound holding at most `size` sounds."""

    def __init__(self, size: int):
        self.size = size
        self._items: collections.OrderedDict[str, Sound] = collections.OrderedDict()
        self._lock = threading.Lock()

    def put(self, sound: Sound) -> Sound:
        with self._lock:
            self._items[sound.id] = sound
            self._items.move_to_end(sound.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return sound

    def get(self, key: str) -> Optional[Sound]:
        with self._lock:
            sound = self._items.get(key)
            if sound is not None:
                self._items.move_to_end(key)
            return sound

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
