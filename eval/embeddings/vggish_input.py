"""VGGish's log-mel front end (the `vggish_input` / `mel_features` of torchvggish), in torch.

16 kHz waveform -> |STFT| (25 ms periodic-Hann frames, 10 ms hop, 512-point FFT)
-> 64 HTK-mel bands, 125-7500 Hz (triangles in the mel domain, DC bin zeroed)
-> log(mel + 0.01) -> non-overlapping examples of 96 frames (0.96 s) x 64 bands.
No padding: a clip gives 1 + (frames - 96) // 96 examples and must last at least
0.975 s. Computed in float64 like the numpy original and returned as float32.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class VGGishParams:
    """VGGish constants (torchvggish's `vggish_params`); times in s, frequencies in Hz."""

    sample_rate: int = 16000
    stft_window_seconds: float = 0.025
    stft_hop_seconds: float = 0.010
    num_mel_bins: int = 64
    mel_min_hz: float = 125.0
    mel_max_hz: float = 7500.0
    log_offset: float = 0.01
    example_window_seconds: float = 0.96
    example_hop_seconds: float = 0.96
    embedding_size: int = 128
    quantize_min: float = -2.0
    quantize_max: float = 2.0

    @property
    def window_length(self) -> int:
        """STFT window in samples (400)."""
        return int(round(self.sample_rate * self.stft_window_seconds))

    @property
    def hop_length(self) -> int:
        """STFT hop in samples (160)."""
        return int(round(self.sample_rate * self.stft_hop_seconds))

    @property
    def fft_length(self) -> int:
        """FFT size, the next power of two of the window (512)."""
        return 2 ** int(np.ceil(np.log2(self.window_length)))

    @property
    def example_frames(self) -> int:
        """STFT frames per example (96)."""
        return int(round(self.example_window_seconds / self.stft_hop_seconds))

    @property
    def example_hop_frames(self) -> int:
        """STFT frames between example starts (96)."""
        return int(round(self.example_hop_seconds / self.stft_hop_seconds))


def hertz_to_mel(frequencies_hz: np.ndarray) -> np.ndarray:
    """HTK mel scale, 1127 ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(frequencies_hz, dtype=np.float64) / 700.0)


def mel_matrix(params: VGGishParams = VGGishParams()) -> np.ndarray:
    """Mel weights [fft_length // 2 + 1, num_mel_bins]: triangles in the mel domain, DC row zero."""
    n_bins = params.fft_length // 2 + 1
    nyquist = params.sample_rate / 2.0
    if not 0.0 <= params.mel_min_hz < params.mel_max_hz <= nyquist:
        raise ValueError("need 0 <= mel_min_hz < mel_max_hz <= Nyquist")
    bins_mel = hertz_to_mel(np.linspace(0.0, nyquist, n_bins))[:, None]
    edges = np.linspace(hertz_to_mel(params.mel_min_hz), hertz_to_mel(params.mel_max_hz), params.num_mel_bins + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (centre - lower), (upper - bins_mel) / (upper - centre)))
    weights[0, :] = 0.0
    return weights


def periodic_hann(length: int) -> np.ndarray:
    """Periodic Hann window [length] (the TF / torchvggish one, not the symmetric np.hanning)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi / length * np.arange(length))


class VGGishLogMel(nn.Module):
    """Waveform [B, T] at 16 kHz -> log-mel examples [B, n_examples, 96, 64] (float32).

    Holds only non-persistent buffers, so it adds no keys to a state dict.
    """

    def __init__(self, params: VGGishParams = VGGishParams()):
        super().__init__()
        self.params = params
        self.register_buffer("window", torch.from_numpy(periodic_hann(params.window_length)), persistent=False)
        self.register_buffer("mel", torch.from_numpy(mel_matrix(params)), persistent=False)

    def num_examples(self, num_samples: int) -> int:
        """Examples produced from a clip of num_samples samples (0 if it is too short)."""
        p = self.params
        if num_samples < p.window_length:
            return 0
        frames = 1 + (num_samples - p.window_length) // p.hop_length
        return max(0, 1 + (frames - p.example_frames) // p.example_hop_frames)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        p = self.params
        if self.num_examples(waveform.shape[-1]) == 0:
            minimum = p.window_length + (p.example_frames - 1) * p.hop_length
            raise ValueError(f"VGGish needs clips of at least {minimum} samples at {p.sample_rate} Hz, "
                             f"got {waveform.shape[-1]}")
        frames = waveform.to(torch.float64).unfold(-1, p.window_length, p.hop_length)  # [B, F, win]
        magnitude = torch.fft.rfft(frames * self.window, n=p.fft_length).abs()  # [B, F, bins]
        log_mel = torch.log(magnitude @ self.mel + p.log_offset)  # [B, F, mels]
        examples = log_mel.unfold(1, p.example_frames, p.example_hop_frames)  # [B, E, mels, 96]
        return examples.transpose(-1, -2).to(torch.float32)
