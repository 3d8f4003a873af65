"""Sound descriptors: what a person hears in a clip, measured from its samples (never from synth parameters).

    d = describe(audio, sample_rate)     # audio [n, T] float -> Descriptors of n clips, each field [n]
    d.pitch_hz, d.pitch_midi             # f0 by normalized autocorrelation; NaN when unpitched or silent
    d.loudness_db                        # RMS in dBFS (a full-scale sine is -3.01 dB)
    d.brightness_hz                      # spectral centroid of the mean magnitude spectrum
    d.noisiness                          # spectral flatness of the mean power spectrum, 0 (tone) to 1 (white noise)

Pure numpy over arrays, beside `spectral.features` (the project's spectral representations) so that the explorer,
the evaluation and sound matching can all use it without the web stack or the evaluation's dependencies.

Pitch: the autocorrelation of the whole clip (mean removed, unbiased: each lag divided by its overlap,
normalized by lag 0); f0 = sample_rate / the first local maximum, at lags within [1/F_MAX_HZ, 1/f_min]
seconds, that reaches PEAK_SHARE of the highest one (the first of near-equal peaks is the period, not a
multiple of it; heights and lags refined by a parabola through each peak and its neighbours). f_min is F_MIN_HZ, or higher when the clip
holds fewer than MIN_PERIODS periods of it. A clip whose highest peak is below PERIODICITY_MIN is unpitched.
The spectra are Welch averages: Hann frames of FRAME_SECONDS (a power of two in samples, at most the clip),
half overlapping, so that white noise reads ~1 in flatness (one periodogram alone would read ~0.56).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

F_MIN_HZ = 30.0  # Lowest pitch searched (Hz); raised for short clips, see MIN_PERIODS.
F_MAX_HZ = 5000.0  # Highest pitch searched (Hz); at most sample_rate / 2.
MIN_PERIODS = 2  # Periods of f_min a clip must hold.
PEAK_SHARE = 0.8  # A peak within this share of the highest autocorrelation peak counts as the period.
PERIODICITY_MIN = 0.5  # Highest normalized autocorrelation peak below which a clip is unpitched (pitch NaN).
SILENCE_DB = -120.0  # Loudness of digital silence (dBFS); also the RMS floor of `loudness_db`.
FRAME_SECONDS = 0.064  # Frame length of the Welch spectra (s), rounded down to a power of two in samples.
A4_HZ, A4_MIDI = 440.0, 69.0


@dataclasses.dataclass(frozen=True)
class Descriptors:
    """Descriptors of n clips, each field float64 [n]: pitch_hz (Hz, NaN when unpitched or silent),
    loudness_db (RMS, dBFS), brightness_hz (spectral centroid, Hz, NaN when silent), noisiness (spectral
    flatness in [0, 1], NaN when silent)."""

    pitch_hz: np.ndarray
    loudness_db: np.ndarray
    brightness_hz: np.ndarray
    noisiness: np.ndarray

    @property
    def pitch_midi(self) -> np.ndarray:
        return hz_to_midi(self.pitch_hz)


def hz_to_midi(hz) -> np.ndarray:
    """Frequencies (Hz) -> MIDI note numbers (69 is A4 = 440 Hz); NaN stays NaN."""
    return A4_MIDI + 12.0 * np.log2(np.asarray(hz, np.float64) / A4_HZ)


def _clips(audio) -> np.ndarray:
    audio = np.asarray(audio, np.float64)
    if audio.ndim == 1:
        audio = audio[None]
    if audio.ndim != 2 or audio.shape[1] < 4:
        raise ValueError(f"audio must be [n, T] (or [T]) with T >= 4 samples, got shape {audio.shape}")
    return audio


def loudness_db(audio) -> np.ndarray:
    """RMS level (dBFS) of clips [n, T]: 20 log10(rms), floored at SILENCE_DB (2x amplitude: +6.02 dB)."""
    rms = np.sqrt(np.mean(_clips(audio) ** 2, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 10.0 ** (SILENCE_DB / 20.0)))


def frame_length(n_samples: int, sample_rate: float) -> int:
    """Welch frame length (samples): the largest power of two <= min(FRAME_SECONDS * sample_rate, n_samples)."""
    return 2 ** int(math.floor(math.log2(max(4, min(FRAME_SECONDS * sample_rate, n_samples)))))


def power_spectrum(audio, sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies [bins] in Hz, mean power spectrum [n, bins]) of clips [n, T]: Hann frames, hop half a frame."""
    audio = _clips(audio)
    size = frame_length(audio.shape[1], sample_rate)
    hop = size // 2
    frames = np.lib.stride_tricks.sliding_window_view(audio, size, axis=1)[:, ::hop]     # [n, frames, size]
    spectra = np.abs(np.fft.rfft(frames * np.hanning(size + 2)[1:-1], axis=-1)) ** 2
    return np.fft.rfftfreq(size, 1.0 / sample_rate), spectra.mean(axis=1)


def _silent(audio) -> np.ndarray:
    return loudness_db(audio) <= SILENCE_DB


def brightness_hz(audio, sample_rate: float) -> np.ndarray:
    """Spectral centroid (Hz) of clips [n, T]: the magnitude-weighted mean frequency; NaN for silence."""
    freqs, power = power_spectrum(audio, sample_rate)
    magnitude = np.sqrt(power)
    total = magnitude.sum(axis=1)
    centroid = (magnitude * freqs).sum(axis=1) / np.maximum(total, 1e-300)
    return np.where(_silent(audio), np.nan, centroid)


def noisiness(audio, sample_rate: float) -> np.ndarray:
    """Spectral flatness of clips [n, T]: geometric / arithmetic mean of the mean power spectrum (DC bin left
    out), 0 for a pure tone, ~1 for white noise; NaN for silence."""
    _, power = power_spectrum(audio, sample_rate)
    power = power[:, 1:] + 1e-300
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    return np.where(_silent(audio), np.nan, flatness)


def autocorrelation(audio) -> np.ndarray:
    """Unbiased normalized autocorrelation [n, T] of clips [n, T] (mean removed; lag 0 is 1, silence all 0)."""
    audio = _clips(audio)
    audio = audio - audio.mean(axis=1, keepdims=True)
    t = audio.shape[1]
    spectrum = np.fft.rfft(audio, n=2 * t, axis=1)
    r = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :t] / (t - np.arange(t))   # mean product at each lag
    return r / np.maximum(r[:, :1], 1e-300)


def pitch_hz(audio, sample_rate: float) -> np.ndarray:
    """Fundamental frequency (Hz) of clips [n, T] by autocorrelation (see the module doc); NaN when the
    clip is unpitched (highest peak < PERIODICITY_MIN), silent, or too short for any pitch in range."""
    audio = _clips(audio)
    t = audio.shape[1]
    f_min = max(F_MIN_HZ, MIN_PERIODS * sample_rate / t)
    lag_lo = max(2, int(math.floor(sample_rate / min(F_MAX_HZ, sample_rate / 2))))
    lag_hi = min(int(math.ceil(sample_rate / f_min)), t // MIN_PERIODS)
    out = np.full(len(audio), np.nan)
    if lag_hi <= lag_lo + 1:
        return out
    r = autocorrelation(audio)
    silent = _silent(audio)
    for i, row in enumerate(r):
        if silent[i]:
            continue
        lags = np.arange(lag_lo, lag_hi)
        peaks = lags[(row[lags] > row[lags - 1]) & (row[lags] >= row[lags + 1])]
        if not peaks.size:
            continue
        a, b, c = row[peaks - 1], row[peaks], row[peaks + 1]
        curve = np.minimum(a - 2 * b + c, -1e-12)                  # parabola through each peak and its neighbours
        shift, height = 0.5 * (a - c) / curve, b - (a - c) ** 2 / (8 * curve)
        if height.max() < PERIODICITY_MIN:
            continue
        first = np.argmax(height >= PEAK_SHARE * height.max())
        out[i] = sample_rate / (peaks[first] + shift[first])
    return out


def describe(audio, sample_rate: float) -> Descriptors:
    """All descriptors of clips [n, T] (or one clip [T]) at `sample_rate` Hz."""
    audio = _clips(audio)
    return Descriptors(pitch_hz(audio, sample_rate), loudness_db(audio), brightness_hz(audio, sample_rate),
                       noisiness(audio, sample_rate))
