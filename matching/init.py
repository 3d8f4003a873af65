"""Starting points from the target: pitch from an f0 estimate (librosa's pyin), envelope timing
from the target's RMS envelope. Spectral losses give poor gradients for pitch (a partial that does
not overlap its target gets none), so starts begin at the right note instead of finding it."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from jaxsynth import parameter_range
from jaxsynth.subset import ParameterSubset

LOGIT_CLIP = 0.02  # starts stay inside [0.02, 0.98] so their logits are finite and not saturated
AMP_ENVELOPES = ("adsr_1", "lfo_1_amp_adsr", "lfo_2_amp_adsr")  # the envelopes that shape loudness
PITCH_NEUTRAL = ("vco_1/tuning", "vco_2/tuning", "vco_1/mod_depth", "vco_2/mod_depth")  # 0.5 = 0 semitones


@dataclasses.dataclass(frozen=True)
class TargetCues:
    """What the starts take from the target.

    Attributes:
      midi_f0: median pyin f0 of the voiced frames as a (fractional) MIDI note, or None if unvoiced.
      voiced: fraction of frames pyin found voiced.
      attack_s: time of the RMS envelope's peak, seconds.
      duration_s: last time the RMS envelope is above 30% of its peak, seconds (the note-on length).
    """

    midi_f0: float | None
    voiced: float
    attack_s: float
    duration_s: float


def target_cues(target: np.ndarray, sample_rate: int) -> TargetCues:
    """f0 and envelope cues of a target [n] at sample_rate Hz."""
    import librosa

    target = np.asarray(target, np.float32)
    frame = 1 << int(np.clip(np.round(np.log2(0.064 * sample_rate)), 8, 12))
    frame = min(frame, 1 << int(np.log2(len(target))))
    hop = frame // 4
    fmax = min(2093.0, 0.45 * sample_rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f0, voiced, _ = librosa.pyin(target, fmin=32.7, fmax=fmax, sr=sample_rate, frame_length=frame, hop_length=hop)
    voiced = voiced & np.isfinite(f0)
    midi = float(librosa.hz_to_midi(np.median(f0[voiced]))) if voiced.any() else None
    rms = librosa.feature.rms(y=target, frame_length=frame, hop_length=hop)[0]
    times = np.arange(len(rms)) * hop / sample_rate
    peak = int(np.argmax(rms))
    above = np.nonzero(rms >= 0.3 * rms[peak])[0]
    return TargetCues(midi, float(voiced.mean()) if len(voiced) else 0.0, float(times[peak]),
                      float(max(times[above[-1]] if len(above) else 0.0, 0.01)))


def _set(x01: np.ndarray, subset: ParameterSubset, name: str, value01, rows) -> None:
    if name in subset.names:
        x01[rows, subset.names.index(name)] = value01


def initial_params(rng: np.random.Generator, n: int, subset: ParameterSubset, cues: TargetCues | None) -> np.ndarray:
    """n starts [n, k] in [LOGIT_CLIP, 1 - LOGIT_CLIP]: uniform draws, with the target's cues set.

    With cues, every start gets the estimated note (`keyboard/midi_f0`); the first half also get
    neutral oscillator pitch (tuning and pitch-modulation depth 0) and the target's attack and
    note length on the envelopes that shape loudness (`AMP_ENVELOPES`); the third quarter puts only
    vco_1 on the note and the last quarter only vco_2, the other oscillator keeping a random
    offset (octaves, fifths and sweeps the estimate cannot see), with random envelopes.
    """
    x01 = rng.uniform(size=(n, subset.size)).astype(np.float32)
    if cues is not None:
        every, half = slice(None), slice(0, max(1, n // 2))
        if cues.midi_f0 is not None:
            _set(x01, subset, "keyboard/midi_f0", parameter_range("keyboard/midi_f0").to_0to1_float64(
                np.float64(cues.midi_f0)), every)
            for name in PITCH_NEUTRAL:
                _set(x01, subset, name, 0.5, half)
            for vco, rows in (("vco_1", slice(n // 2, 3 * n // 4)), ("vco_2", slice(3 * n // 4, n))):
                for name in (f"{vco}/tuning", f"{vco}/mod_depth"):
                    _set(x01, subset, name, 0.5, rows)
        _set(x01, subset, "keyboard/duration",
             parameter_range("keyboard/duration").to_0to1_float64(np.float64(cues.duration_s)), half)
        for env in AMP_ENVELOPES:
            _set(x01, subset, f"{env}/attack",
                 parameter_range(f"{env}/attack").to_0to1_float64(np.float64(cues.attack_s)), half)
    return np.clip(x01, LOGIT_CLIP, 1.0 - LOGIT_CLIP).astype(np.float32)


def logit(x01: np.ndarray) -> np.ndarray:
    """Inverse sigmoid of values clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP]."""
    x = np.clip(np.asarray(x01, np.float64), LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return np.log(x / (1.0 - x)).astype(np.float32)
