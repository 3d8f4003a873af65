"""spectral.descriptors: pitch, brightness, noisiness and loudness of sines, a sawtooth, white noise and silence,
and what is refused as not audio."""

import numpy as np
import pytest

from spectral import descriptors


RATE = 16_000


def _tone(freq: float, amplitude: float = 0.5, seconds: float = 1.0, rate: int = RATE) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)


@pytest.mark.parametrize("freq, rate, seconds", [(440.0, 16_000, 1.0), (55.0, 16_000, 1.0), (1234.5, 44_100, 0.5),
                                                 (261.63, 4_000, 0.1)])
def test_a_sine_has_its_pitch_and_brightness_and_no_noisiness(freq, rate, seconds):
    d = descriptors.describe(_tone(freq, seconds=seconds, rate=rate), rate)
    assert d.pitch_hz[0] == pytest.approx(freq, rel=2e-3)
    assert d.pitch_midi[0] == pytest.approx(69 + 12 * np.log2(freq / 440), abs=0.05)
    assert d.brightness_hz[0] == pytest.approx(freq, rel=0.02)
    assert d.noisiness[0] < 1e-3


def test_a_sawtooth_has_its_fundamental_not_a_multiple_and_is_brighter_than_a_sine():
    t = np.arange(RATE) / RATE
    saw = 0.5 * (2 * ((220.0 * t) % 1) - 1)
    d = descriptors.describe(np.stack([saw, _tone(220.0)]), RATE)
    assert d.pitch_hz[0] == pytest.approx(220.0, rel=5e-3)
    assert d.brightness_hz[0] > 3 * d.brightness_hz[1]


def test_white_noise_is_noisy_and_unpitched_and_silence_is_undefined():
    noise = np.random.default_rng(0).normal(scale=0.1, size=RATE)
    d = descriptors.describe(np.stack([noise, np.zeros(RATE)]), RATE)
    assert d.noisiness[0] > 0.9 and np.isnan(d.pitch_hz[0])
    assert d.brightness_hz[0] == pytest.approx(RATE / 4, rel=0.05)   # flat spectrum: the centroid is mid-band
    assert d.loudness_db[1] == descriptors.SILENCE_DB
    assert np.isnan(d.pitch_hz[1]) and np.isnan(d.brightness_hz[1]) and np.isnan(d.noisiness[1])


def test_loudness_is_rms_in_dbfs():
    tone = _tone(300.0, amplitude=0.25)
    quiet, loud = descriptors.loudness_db(np.stack([tone, 2 * tone]))
    assert loud - quiet == pytest.approx(20 * np.log10(2), abs=1e-6)      # +6.02 dB for twice the amplitude
    assert descriptors.loudness_db(_tone(300.0, amplitude=1.0))[0] == pytest.approx(-3.0103, abs=1e-3)


def test_descriptors_refuse_what_is_not_audio():
    with pytest.raises(ValueError, match=r"\[n, T\]"):
        descriptors.describe(np.zeros((2, 3, 4)), RATE)
