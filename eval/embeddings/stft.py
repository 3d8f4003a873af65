"""Log-mel front end of PANNs, compatible with torchlibrosa's `Spectrogram` / `LogmelFilterBank`.

The STFT is two frozen Conv1d layers holding the windowed DFT basis
(`stft.conv_real.weight`, `stft.conv_imag.weight`, each [n_fft//2+1, 1, n_fft]) and
the mel filterbank is a frozen parameter `melW` [n_fft//2+1, n_mels] (librosa's
Slaney-normalised filters). The names and shapes are torchlibrosa's, so PANNs
checkpoints, which store these tensors, load unchanged and supply their values.
Semantics: centred frames (reflect padding of n_fft//2), periodic Hann window
padded to n_fft, power spectrogram, 10 log10(max(mel, amin)) - 10 log10(max(amin, ref)),
optional top_db floor.
"""

from __future__ import annotations

import librosa
import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F
from torch import nn


def _frozen(tensor: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.as_tensor(tensor, dtype=torch.float32), requires_grad=False)


class STFT(nn.Module):
    """Waveform [B, T] -> (real, imag), each [B, 1, frames, n_fft // 2 + 1]."""

    def __init__(self, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
                 window: str = "hann", center: bool = True, pad_mode: str = "reflect"):
        super().__init__()
        self.n_fft, self.center, self.pad_mode = n_fft, center, pad_mode
        win_length = win_length or n_fft
        self.hop_length = hop_length or win_length // 4
        fft_window = librosa.util.pad_center(scipy.signal.get_window(window, win_length, fftbins=True), size=n_fft)
        n_bins = n_fft // 2 + 1
        # DFT basis exp(-2 pi i k t / n); the exponent is reduced mod n for accuracy.
        phase = -2.0 * np.pi * (np.outer(np.arange(n_bins), np.arange(n_fft)) % n_fft) / n_fft
        self.conv_real = nn.Conv1d(1, n_bins, kernel_size=n_fft, stride=self.hop_length, bias=False)
        self.conv_imag = nn.Conv1d(1, n_bins, kernel_size=n_fft, stride=self.hop_length, bias=False)
        self.conv_real.weight = _frozen((np.cos(phase) * fft_window)[:, None, :])
        self.conv_imag.weight = _frozen((np.sin(phase) * fft_window)[:, None, :])

    def forward(self, waveform: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = waveform[:, None, :]
        if self.center:
            x = F.pad(x, (self.n_fft // 2, self.n_fft // 2), mode=self.pad_mode)
        real = self.conv_real(x)[:, None].transpose(2, 3)
        imag = self.conv_imag(x)[:, None].transpose(2, 3)
        return real, imag


class Spectrogram(nn.Module):
    """Waveform [B, T] -> |STFT|^power [B, 1, frames, n_fft // 2 + 1]."""

    def __init__(self, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None,
                 window: str = "hann", center: bool = True, pad_mode: str = "reflect", power: float = 2.0):
        super().__init__()
        self.power = power
        self.stft = STFT(n_fft, hop_length, win_length, window, center, pad_mode)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        real, imag = self.stft(waveform)
        spectrogram = real ** 2 + imag ** 2
        return spectrogram if self.power == 2.0 else spectrogram ** (self.power / 2.0)


class LogmelFilterBank(nn.Module):
    """Power spectrogram [..., n_fft // 2 + 1] -> log-mel in dB [..., n_mels]."""

    def __init__(self, sr: int = 22050, n_fft: int = 2048, n_mels: int = 64, fmin: float = 0.0,
                 fmax: float | None = None, is_log: bool = True, ref: float = 1.0, amin: float = 1e-10,
                 top_db: float | None = 80.0):
        super().__init__()
        self.is_log, self.ref, self.amin, self.top_db = is_log, ref, amin, top_db
        fmax = sr // 2 if fmax is None else fmax
        self.melW = _frozen(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).T)

    def forward(self, spectrogram: torch.Tensor) -> torch.Tensor:
        mel = spectrogram @ self.melW
        return self.power_to_db(mel) if self.is_log else mel

    def power_to_db(self, power: torch.Tensor) -> torch.Tensor:
        """10 log10(max(power, amin) / max(amin, ref)), floored at max - top_db if top_db is set."""
        db = 10.0 * torch.log10(torch.clamp(power, min=self.amin)) - 10.0 * np.log10(max(self.amin, self.ref))
        if self.top_db is not None:
            if self.top_db < 0:
                raise ValueError("top_db must be non-negative")
            db = torch.clamp(db, min=db.max().item() - self.top_db)
        return db
