"""What a patch looks like to a person: its main parameters in physical units (hover and side panel)."""

from __future__ import annotations

import numpy as np

from jaxsynth import PARAMETER_NAMES, RANGES, parameter_index

# (name, label, unit): the parameters a sound designer reads first; the note is shown as a name too.
MAIN_PARAMETERS = (
    ("keyboard/midi_f0", "note", "midi"),
    ("keyboard/duration", "note length", "s"),
    ("adsr_1/attack", "attack", "s"),
    ("adsr_1/decay", "decay", "s"),
    ("adsr_1/sustain", "sustain", ""),
    ("vco_1/tuning", "VCO 1 tuning", "st"),
    ("vco_2/tuning", "VCO 2 tuning", "st"),
    ("vco_2/shape", "VCO 2 square-saw", ""),
    ("mixer/vco_1", "sine level", ""),
    ("mixer/vco_2", "square-saw level", ""),
    ("mixer/noise", "noise level", ""),
)
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(midi: float) -> str:
    """MIDI note number -> 'A4' style name of the nearest semitone (60 is C4)."""
    m = int(round(midi))
    return f"{NOTE_NAMES[m % 12]}{m // 12 - 1}"


def physical(full01: np.ndarray) -> np.ndarray:
    """[m, 78] parameters in [0, 1] -> [m, 78] float64 physical values (torchsynth's units)."""
    full01 = np.atleast_2d(np.asarray(full01, np.float64))
    return np.stack([r.from_0to1_float64(full01[:, i]) for i, r in enumerate(RANGES)], axis=1)


def main_parameters(full01: np.ndarray) -> list[dict]:
    """[m, 78] parameters in [0, 1] -> per patch {label: value}, the MAIN_PARAMETERS rounded to 3 digits
    plus the note's name under 'pitch'."""
    values = physical(full01)
    columns = [parameter_index(name) for name, _, _ in MAIN_PARAMETERS]
    out = []
    for row in values:
        info = {"pitch": note_name(row[columns[0]])}
        info.update({(f"{label} ({unit})" if unit else label): float(f"{row[c]:.3g}")
                     for (_, label, unit), c in zip(MAIN_PARAMETERS, columns)})
        out.append(info)
    return out


def all_parameters(full01: np.ndarray) -> dict[str, dict]:
    """One patch [78] in [0, 1] -> {module/param: {'normalized', 'physical'}} (the side panel's table)."""
    full01 = np.asarray(full01, np.float64).reshape(len(PARAMETER_NAMES))
    values = physical(full01)[0]
    return {name: {"normalized": float(f"{x:.4g}"), "physical": float(f"{v:.4g}")}
            for name, x, v in zip(PARAMETER_NAMES, full01, values)}
