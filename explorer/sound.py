"""From latent vectors to sounds: the run's decoder, then jaxsynth's Voice on one fixed noise row, and WAV bytes.

Every sound the explorer plays is `render(expand(decode(z)))`: `vae.run.decode` (clamped to [0, 1]),
the run's `ParameterSubset.expand` to all 78 parameters, and `jaxsynth.Voice(synth, noise_seed).render`
with row 0 of the voice's default noise (the row patch.json names, so torchsynth and
`matching.read_patch` reproduce it). Batches of more than one are padded to a fixed size so that a
path never compiles anew; one sound at a time is its own shape, warmed at start.
"""

from __future__ import annotations

import dataclasses
import io

import jax
import numpy as np
import soundfile as sf

from jaxsynth import SynthConfig, Voice
from vae import run as run_lib


@dataclasses.dataclass(frozen=True, eq=False)
class Renderer:
    """Decodes and renders a run's patches.

    Attributes:
      run: the loaded run.
      voice: `jaxsynth.Voice` at the run's synth settings (or the ones given) and noise seed.
      noise: [1, buffer_size] the noise row every sound uses (row 0 of the voice's default noise).
      batch: the padded size of a multi-sound render (a path).
    """

    run: run_lib.LoadedRun
    voice: Voice
    noise: jax.Array
    batch: int

    @classmethod
    def create(cls, run: run_lib.LoadedRun, batch: int, synth: SynthConfig | None = None) -> "Renderer":
        voice = Voice(synth or run.synth_config, run.config.noise_seed)
        return cls(run, voice, voice.noise_rows[:1], batch)

    @property
    def sample_rate(self) -> int:
        return self.voice.config.sample_rate

    @property
    def noise_info(self) -> dict:
        """The noise as patch.json records it."""
        return {"source": "jaxsynth.Voice", "seed": self.voice.noise_seed, "row": 0}

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latents [m, latent] -> all 78 parameters [m, 78] in [0, 1] (decoded, clamped, expanded)."""
        z = np.asarray(z, np.float32)
        sub01 = run_lib.decode(self.run, self._pad(z))[:len(z)]
        return np.asarray(self.run.subset.expand(sub01), np.float32)

    def render(self, full01: np.ndarray) -> np.ndarray:
        """Patches [m, 78] in [0, 1] -> audio [m, buffer_size] float32 at `sample_rate` Hz."""
        full01 = np.asarray(full01, np.float32)
        return np.asarray(self.voice.render(self._pad(full01), self.noise), np.float32)[:len(full01)]

    def _pad(self, rows: np.ndarray) -> np.ndarray:
        """[m, d] -> [m, d] for m == 1, else [batch, d] (last row repeated) so paths reuse one compilation."""
        if len(rows) == 1:
            return rows
        if len(rows) > self.batch:
            raise ValueError(f"at most {self.batch} sounds per render, got {len(rows)}")
        return np.concatenate([rows, np.repeat(rows[-1:], self.batch - len(rows), axis=0)])

    def warm(self) -> None:
        """Compiles the single-sound and the path shapes (the first click is then as fast as any)."""
        z = np.zeros((2, self.run.config.model.latent_dim), np.float32)
        for rows in (z[:1], z):
            self.render(self.decode(rows))


# WAV sample formats offered (the `bits` of /api/wav) -> libsndfile subtypes. "float": the samples exactly as
# rendered (what the page draws); 16 and 24: integer PCM for any audio program, clipped to [-1, 1].
WAV_SUBTYPES = {"float": "FLOAT", "16": "PCM_16", "24": "PCM_24"}


def wav_bytes(audio: np.ndarray, sample_rate: int, bits: str = "float") -> bytes:
    """Mono audio [T] -> a WAV file's bytes in the sample format `bits` (a key of WAV_SUBTYPES): 32-bit float
    as rendered (no clipping or scaling), or 16/24-bit PCM clipped to full scale."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"need a non-empty mono clip [T], got shape {audio.shape}")
    if bits not in WAV_SUBTYPES:
        raise ValueError(f"bits must be one of {sorted(WAV_SUBTYPES)}, got {bits!r:.20}")
    if bits != "float":
        audio = np.clip(audio, -1.0, 1.0)
    buffer = io.BytesIO()
    sf.write(buffer, audio, int(sample_rate), format="WAV", subtype=WAV_SUBTYPES[bits])
    return buffer.getvalue()
