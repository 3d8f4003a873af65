"""What an encoder that hears sound reads: the log-mel spectrogram of a sound, flattened and scaled.

The timbre objective's encoder reads the sound a patch makes rather than the patch (Flow
Synthesizer, Esling et al. 2019): the jaxsynth render of each patch, or any WAV at the run's sample
rate and length, becomes mel power frames in dB with an absolute floor (no per-sound normalization:
loudness is part of timbre), shifted and scaled to about unit range, flattened to [frames * n_mels].

The mel settings follow the run's feature sizing (`spectral.sizing.feature_config`: n_fft and hop
scale with the sample rate) with at most `MAX_MELS` bands; they are stored in the run's
`ModelConfig.sound_input`, so a run always reads sounds the way it was trained.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from jaxsynth import ParameterSubset, SynthConfig, Voice
from spectral import features
from spectral.features import FeatureConfig

MAX_MELS = 64  # Mel bands the encoder reads (fewer where the run's n_fft has fewer than 8 bins per band).
FLOOR_DB = -100.0  # Absolute dB floor of the mel power (1e-10): silence reads as the floor.
OFFSET_DB, SCALE_DB = 50.0, 25.0  # (dB + OFFSET_DB) / SCALE_DB maps the synth's -100..+30 dB to about -2..3.


def mel_config(feature_cfg: FeatureConfig) -> FeatureConfig:
    """The encoder's mel settings from a run's feature settings: same n_fft and hop, <= MAX_MELS bands,
    an absolute floor (top_db None)."""
    return dataclasses.replace(feature_cfg, n_mels=min(MAX_MELS, feature_cfg.n_mels), top_db=None,
                               amin=10.0 ** (FLOOR_DB / 10.0))


def width(cfg: FeatureConfig, n_samples: int) -> int:
    """Encoder input width of an n_samples sound: frames * n_mels (centred frames: 1 + n // hop)."""
    return (1 + n_samples // cfg.hop_length) * cfg.n_mels


def log_mel(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Scaled log-mel frames of audio [..., n] -> [..., frames * n_mels] float32 (jittable, differentiable)."""
    db = features.power_to_db(features.mel_spectrogram(audio, cfg), cfg)
    scaled = (db + OFFSET_DB) / SCALE_DB
    return scaled.reshape(*scaled.shape[:-2], -1)


_log_mel = jax.jit(log_mel, static_argnames=("cfg",))


def render_patches(voice: Voice, subset: ParameterSubset, x01: np.ndarray, batch_size: int) -> np.ndarray:
    """Audio [n, n_samples] float32 of patches x01 [n, k] rendered `batch_size` at a time (the last batch
    padded with copies of its last row, so every call has one shape and row i always gets noise row i % 32)."""
    x01 = np.asarray(x01, np.float32)
    out = []
    for start in range(0, len(x01), batch_size):
        part = x01[start:start + batch_size]
        padded = np.concatenate([part, np.repeat(part[-1:], batch_size - len(part), axis=0)])
        out.append(np.asarray(voice.render(subset.expand(padded)))[:len(part)])
    return np.concatenate(out) if out else np.zeros((0, voice.config.buffer_size), np.float32)


def of_audio(audio: np.ndarray, cfg: FeatureConfig, batch_size: int = 256) -> np.ndarray:
    """Encoder inputs [n, width] of sounds [n, n_samples], in jitted chunks of at most batch_size."""
    audio = np.asarray(audio, np.float32)
    return np.concatenate([np.asarray(_log_mel(audio[s:s + batch_size], cfg))
                           for s in range(0, len(audio), batch_size)]) if len(audio) else \
        np.zeros((0, width(cfg, audio.shape[-1])), np.float32)


def of_patches(x01: np.ndarray, synth: SynthConfig, subset: ParameterSubset, noise_seed: int, cfg: FeatureConfig,
               progress: bool = False, label: str = "patches") -> np.ndarray:
    """Encoder inputs [n, width] of patches x01 [n, k]: each rendered by the run's synth (its batch size and
    noise seed) and read like any sound (`of_audio`)."""
    voice = _voice(synth, noise_seed)
    batch = synth.batch_size
    chunks = range(0, len(x01), batch)
    out = [of_audio(render_patches(voice, subset, x01[s:s + batch], batch), cfg)
           for s in tqdm(chunks, desc=f"hear {label}", unit="batch", disable=not progress, leave=False)]
    return np.concatenate(out) if out else np.zeros((0, width(cfg, synth.buffer_size)), np.float32)


@functools.lru_cache(maxsize=4)
def _voice(synth: SynthConfig, noise_seed: int) -> Voice:
    return Voice(synth, noise_seed)


def encoder_inputs(config, x01: np.ndarray, progress: bool = False, label: str = "patches") -> np.ndarray:
    """What a run's encoder reads for patches x01 [n, k] (config: its `vae.config.RunConfig`): their sounds'
    log-mel frames [n, n_inputs] when the model hears (`ModelConfig.hears`), else x01 itself."""
    x01 = np.asarray(x01, np.float32)
    if not config.model.hears:
        return x01
    return of_patches(x01, config.synth, config.subset(), config.noise_seed, config.model.sound_input, progress, label)
