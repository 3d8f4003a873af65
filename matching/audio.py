"""Target sounds in: any WAV (any rate, channels, length) -> mono float32 at the synth's rate and length."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from jaxsynth import SynthConfig
from common import limits

WAV_FORMATS = ("WAV", "WAVEX", "RF64", "W64")  # libsndfile's names of the WAV family.
SILENCE = 1e-6  # Peak amplitude under which a target counts as silent (nothing to match).
MAX_PEAK = 1e3  # Peak amplitude above which a target is not audio (full scale is 1; spectra would overflow).


class TargetError(ValueError):
    """A target sound that cannot be matched (missing, not a WAV, empty, silent, NaN, too loud, too large)."""


def fit_length(audio: np.ndarray, n: int, label: str = "target") -> np.ndarray:
    """audio [m] -> [n]: trimmed (with a warning) or zero-padded at the end (with a warning)."""
    m = len(audio)
    if m > n:
        warnings.warn(f"{label} is {m} samples long; using its first {n} (the synth's buffer), cutting the rest",
                      stacklevel=2)
        return audio[:n]
    if m < n:
        warnings.warn(f"{label} is {m} samples long; padding it with silence to the synth's {n}", stacklevel=2)
        return np.concatenate([audio, np.zeros(n - m, audio.dtype)])
    return audio


def to_mono(audio: np.ndarray) -> np.ndarray:
    """[m] or [m, channels] -> [m] float32, the mean of the channels."""
    audio = np.asarray(audio, np.float32)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """[m] at rate_in Hz -> [round(m * rate_out / rate_in)] at rate_out Hz (polyphase, anti-aliased)."""
    if rate_in == rate_out:
        return audio
    import scipy.signal

    g = math.gcd(int(rate_in), int(rate_out))
    return scipy.signal.resample_poly(audio, rate_out // g, rate_in // g).astype(np.float32)


def check_audio(audio: np.ndarray, label: str) -> np.ndarray:
    """Raises `TargetError` for an empty, non-finite or silent target; returns it unchanged."""
    if audio.size == 0:
        raise TargetError(f"{label} has no samples")
    if not np.all(np.isfinite(audio)):
        raise TargetError(f"{label} has {int(np.sum(~np.isfinite(audio)))} NaN or infinite samples")
    peak = float(np.max(np.abs(audio)))
    if peak < SILENCE:
        raise TargetError(f"{label} is silent (peak below {SILENCE}); there is nothing to match")
    if peak > MAX_PEAK:
        raise TargetError(f"{label} peaks at {peak:.3g}, above {MAX_PEAK:g} (full scale is 1): it is not audio "
                          "samples; scale it to [-1, 1]")
    return audio


def check_rates(info_rate: int, config: SynthConfig, label: str) -> None:
    """Raises `TargetError` before any sample is read when the WAV's header rate or the synth's rate and length
    are outside `common.limits` (the resampling work grows with both rates)."""
    try:
        limits.check_size(f"{label}: the sample rate in its header", info_rate, limits.MAX_SAMPLE_RATE,
                          "resample it to a usual rate (8-192 kHz) first")
        limits.check_size("the synth's sample rate", config.sample_rate, limits.MAX_SAMPLE_RATE)
        limits.check_size("the synth's length (s)", config.buffer_size / config.sample_rate, limits.MAX_SECONDS)
    except limits.SizeLimitError as err:
        raise TargetError(str(err)) from None
    if info_rate < limits.MIN_WAV_RATE:
        raise TargetError(f"{label}: the sample rate in its header, {info_rate} Hz, is below {limits.MIN_WAV_RATE} Hz; "
                          "it is not a usable WAV")


def load_target(path: str | Path, config: SynthConfig) -> np.ndarray:
    """Reads a WAV file -> float32 [config.buffer_size] mono at config.sample_rate.

    Channels are averaged, the rate is converted (polyphase resampling), and the sound is trimmed
    (only the needed frames are read, so a 10-minute file costs nothing) or zero-padded to the
    synth's buffer, with a warning when it cuts or pads. Raises `TargetError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise TargetError(f"target {path} does not exist or is not a file")
    try:
        info = sf.info(str(path))
    except Exception as err:  # soundfile raises its own LibsndfileError / RuntimeError
        raise TargetError(f"target {path} is not a readable WAV file ({err})") from None
    if info.format not in WAV_FORMATS:
        raise TargetError(f"target {path} is a {info.format} file, not a WAV")
    check_rates(info.samplerate, config, f"target {path}")
    seconds = config.buffer_size / config.sample_rate
    frames = min(info.frames, int(math.ceil(seconds * info.samplerate)) + 1)
    audio, rate = sf.read(str(path), frames=frames, dtype="float32", always_2d=False)
    audio = check_audio(to_mono(audio), f"target {path}")
    if info.frames > frames:
        warnings.warn(f"target {path} is {info.frames / info.samplerate:.2f} s long; using its first {seconds:.2f} s "
                      "(the synth's buffer), cutting the rest", stacklevel=2)
    audio = resample(audio, rate, config.sample_rate)
    if len(audio) > config.buffer_size:  # the frame read past the buffer for the resampler; no warning
        audio = audio[:config.buffer_size]
    return check_audio(fit_length(audio, config.buffer_size, f"target {path}"), f"target {path}")
