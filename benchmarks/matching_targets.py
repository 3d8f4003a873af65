"""Targets of the sound-matching benchmark, each a float32 [n] sound at the synth's rate and length.

In domain: jaxsynth renders of held-out random patches. Out of domain (sounds no Voice patch makes
exactly): a Karplus-Strong plucked string, a two-operator FM bell, a band-passed noise burst, a
spoken word from espeak-ng (Debian's `espeak-ng` binary), and notes of sampled instruments from the
General MIDI soundfont that the `pretty-midi` wheel ships (TimGM6mb.sf2), rendered offline by
`tinysoundfont`. The last two are optional: when the binary or the packages are missing, `optional`
returns a message saying how to get them instead of the targets.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal

from matching import Problem
from matching.audio import fit_length, load_target, resample

SPOKEN_WORD = "hello"
# (name, General MIDI program, MIDI note): sampled instruments of TimGM6mb.sf2
INSTRUMENTS = (("piano-c4", 0, 60), ("violin-a4", 40, 69), ("trumpet-g4", 56, 67))


def karplus_strong(sr: int, n: int, f0: float = 196.0, decay: float = 0.996, seed: int = 0) -> np.ndarray:
    """A plucked string [n]: a noise burst circulating in a delay line of sr/f0 samples with an averaging filter."""
    rng = np.random.default_rng(seed)
    period = int(round(sr / f0))
    line = rng.uniform(-1, 1, period)
    out = np.empty(n)
    for i in range(n):
        out[i] = line[i % period]
        line[i % period] = decay * 0.5 * (line[i % period] + line[(i + 1) % period])
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def fm_bell(sr: int, n: int, f0: float = 440.0, ratio: float = 1.4, index: float = 6.0, tau: float = 0.35) -> np.ndarray:
    """A two-operator FM bell [n] (Chowning 1973): inharmonic ratio, index and amplitude decaying together."""
    t = np.arange(n) / sr
    env = np.exp(-t / tau)
    return (0.5 * env * np.sin(2 * np.pi * f0 * t + index * env * np.sin(2 * np.pi * ratio * f0 * t))).astype(np.float32)


def noise_burst(sr: int, n: int, low: float = 800.0, high: float = 2500.0, seed: int = 0) -> np.ndarray:
    """Band-passed white noise [n] with a 5 ms attack and an exponential decay (a snare-like burst)."""
    rng = np.random.default_rng(seed)
    sos = scipy.signal.butter(4, [low, min(high, 0.45 * sr)], "bandpass", fs=sr, output="sos")
    t = np.arange(n) / sr
    env = np.minimum(t / 0.005, 1.0) * np.exp(-t / 0.12)
    x = env * scipy.signal.sosfilt(sos, rng.standard_normal(n))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def in_domain(problem: Problem, seed: int, count: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """count (name, target [n], free parameters [k]) of held-out patches, midi_f0 in [36, 96]."""
    sub01 = np.array(jax.random.uniform(jax.random.PRNGKey(10_000 + seed), (count, problem.subset.size)))
    col = problem.subset.names.index("keyboard/midi_f0")
    sub01[:, col] = (36 + 60 * sub01[:, col]) / 127
    return rendered(problem, sub01, f"patch-{seed}")


def rendered(problem: Problem, sub01: np.ndarray, prefix: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(f'{prefix}-{i}', render [n], free parameters [k]) of each patch of sub01 [count, k] in [0, 1]."""
    audio = np.asarray(problem.render(jnp.asarray(sub01), problem.noise()))
    return [(f"{prefix}-{i}", audio[i], sub01[i]) for i in range(len(sub01))]


def synthetic(sr: int, n: int) -> list[tuple[str, np.ndarray]]:
    """The generated out-of-domain targets: (name, [n]) of the pluck, the bell and the noise burst."""
    return [("karplus-strong", karplus_strong(sr, n)), ("fm-bell", fm_bell(sr, n)), ("noise-burst", noise_burst(sr, n))]


def spoken_word(problem: Problem, word: str = SPOKEN_WORD) -> np.ndarray:
    """`word` spoken by espeak-ng [n], loaded like any WAV target (resampled, trimmed or padded).
    Raises FileNotFoundError when the espeak-ng binary is not on PATH."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise FileNotFoundError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "word.wav"
        subprocess.run([binary, "-w", str(wav), word], check=True, capture_output=True, timeout=60)
        audio = load_target(wav, problem.synth)
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32)


def instrument_note(sr: int, n: int, program: int, note: int, velocity: int = 100) -> np.ndarray:
    """A note [n] of General MIDI `program` from pretty-midi's TimGM6mb.sf2 via tinysoundfont: held for
    60% of the buffer, then released; mono at sr Hz, peak 0.5. Raises ImportError without the packages."""
    import pretty_midi
    import tinysoundfont

    rate = 44100  # the soundfont's samples are rendered at their own rate, then resampled like a WAV
    synth = tinysoundfont.Synth(samplerate=rate)
    font = synth.sfload(str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
    synth.program_select(0, font, 0, program)
    frames = int(np.ceil(n * rate / sr))
    synth.noteon(0, note, velocity)
    held = np.frombuffer(bytes(synth.generate(int(0.6 * frames))), np.float32)
    synth.noteoff(0, note)
    tail = np.frombuffer(bytes(synth.generate(frames - int(0.6 * frames))), np.float32)
    audio = np.concatenate([held, tail]).reshape(-1, 2).mean(axis=1)  # interleaved stereo -> mono
    audio = fit_length(resample(audio.astype(np.float32), rate, sr)[:n], n, "instrument note")
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32)


def optional(problem: Problem) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """(the optional out-of-domain targets that can be made here, a message per kind that cannot)."""
    sr, n = problem.synth.sample_rate, problem.synth.buffer_size
    targets, missing = [], []
    try:
        targets.append((f"espeak-{SPOKEN_WORD}", spoken_word(problem)))
    except FileNotFoundError as err:
        missing.append(f"no spoken-word target: {err}")
    try:
        targets += [(name, instrument_note(sr, n, program, note)) for name, program, note in INSTRUMENTS]
    except ImportError as err:
        missing.append(f"no instrument targets: {err.name or err} is missing "
                       "(pip install -e '.[bench]' installs pretty-midi, which ships TimGM6mb.sf2, and tinysoundfont)")
    return targets, missing
