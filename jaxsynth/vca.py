"""Voltage-controlled amplifiers, at audio or control rate: the input times a gain signal."""

from __future__ import annotations


def vca(signal, gain):
    """signal [..., n] * gain [..., n] (torchsynth's `VCA` and `ControlRateVCA`)."""
    return signal * gain
