"""Monophonic keyboard: the note's pitch and how long its key is held."""

from __future__ import annotations


def keyboard(midi_f0, duration):
    """Pass-through of the physical keyboard parameters: (midi_f0 [...] MIDI, duration [...] s)."""
    return midi_f0, duration
