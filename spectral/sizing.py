"""Feature sizes at a synth's sample rate: one n_fft rule for training, evaluation and sound matching.

`fft_size`: the power of two nearest (in octaves) to a window of so many seconds. Training (and the
evaluation, which reads the run's config) sizes every feature with `feature_config`: librosa's 2048
points at 44.1 kHz (46 ms) scaled with the rate. Sound matching (`matching.loss`) takes 64 ms and
keeps its largest resolution (2 n_fft) inside the sound: `multiscale_config`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Optional

from common.bounds import SettingError
from jaxsynth import SynthConfig
from spectral import features
from spectral.features import FeatureConfig

ANALYSIS_SECONDS = 2048 / 44_100  # librosa's default n_fft at 44.1 kHz, s: the window of the training features.
MATCHING_SECONDS = 0.064  # Window of the matching loss, s (1024 points at 16 kHz).
MATCHING_MIN_FFT = 64  # Smallest n_fft of the matching loss.


def fft_size(sample_rate: int, seconds: float) -> int:
    """The power of two nearest to `seconds` x `sample_rate` samples (nearest in octaves)."""
    return 2 ** round(math.log2(seconds * sample_rate))


@functools.lru_cache(maxsize=16)  # The CQT search renders kernels; a run's start asks twice (check, then build).
def feature_config(synth: SynthConfig, feature: Optional[str] = None) -> FeatureConfig:
    """Feature settings for a synth: librosa's defaults at 44.1 kHz, scaled with the sample rate below.

    n_fft = `fft_size` of 46 ms (2048 at 44.1 kHz), hop n_fft / 4, n_mels <= n_fft / 8, n_mfcc <= n_mels.
    The CQT starts at C1, raised by octaves until its kernel's frame is at most twice the sound, with
    as many of its 84 bins as fit below Nyquist. feature: the one the loss uses; a `SettingError` on the
    sample rate says when its settings cannot fit (fewer than 20 MFCCs, no CQT); those of the other
    features are then left at their defaults, unused. None: every feature must fit.
    """
    sr, n = synth.sample_rate, synth.buffer_size
    n_fft = fft_size(sr, ANALYSIS_SECONDS)
    n_mels = min(128, n_fft // 8)
    cfg = FeatureConfig(sample_rate=sr, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels,
                        n_mfcc=min(FeatureConfig.n_mfcc, n_mels), cqt_hop_length=n_fft // 4)
    if feature in (None, "mfcc") and cfg.n_mfcc < FeatureConfig.n_mfcc:
        raise SettingError("SynthConfig.sample_rate",
                           f"{sr} is too low for {{feature}} mfcc: its {n_fft}-point FFT has {n_mels} mel bands, "
                           f"fewer than the {FeatureConfig.n_mfcc} MFCCs; raise {{SynthConfig.sample_rate}} or use "
                           "{feature} stft or cqt")
    fmin = cfg.cqt_fmin
    while fmin < sr / 2:
        for n_bins in range(cfg.cqt_n_bins, 0, -1):
            candidate = dataclasses.replace(cfg, cqt_fmin=fmin, cqt_n_bins=n_bins)
            try:
                _, frame = features.cqt_kernel(candidate)
            except ValueError:  # Top bin above Nyquist.
                continue
            if frame <= 2 * n:
                return candidate
            break
        fmin *= 2.0
    if feature in (None, "cqt"):
        raise SettingError("SynthConfig.sample_rate",
                           f"{sr}: no constant-Q filter fits a {n}-sample sound at {sr} Hz "
                           f"({{SynthConfig.buffer_size_seconds}} {synth.buffer_size_seconds}): raise either, or use "
                           "{feature} stft or mfcc")
    return cfg


def multiscale_config(synth: SynthConfig) -> FeatureConfig:
    """STFT settings of the matching loss: n_fft = `fft_size` of 64 ms (at least 64 points), halved until its
    largest resolution (2 n_fft) fits the sound; hop n_fft / 4."""
    n_fft = max(MATCHING_MIN_FFT, fft_size(synth.sample_rate, MATCHING_SECONDS))
    while n_fft * 2 > synth.buffer_size and n_fft > MATCHING_MIN_FFT:
        n_fft //= 2
    return FeatureConfig(sample_rate=synth.sample_rate, n_fft=n_fft, hop_length=n_fft // 4)
