"""PANNs Cnn14_16k (Kong et al. 2020, audioset_tagging_cnn `pytorch/models.py`), inference only.

16 kHz waveform -> power STFT (512-point Hann, hop 160, centred) -> 64 Slaney mel
bands 50-8000 Hz in dB -> BatchNorm over mel bins -> six conv blocks (two 3x3 conv
+ BN + ReLU each; 64, 128, 256, 512, 1024, 2048 channels; 2x2 average pooling after
the first five) -> mean over frequency -> max + mean over time -> FC 2048 + ReLU =
the 2048-d `embedding` (then FC 527 + sigmoid = AudioSet tags).

Parameter names match `Cnn14_16k_mAP=0.438.pth` (whose file holds
{'model': state_dict}), including the front end's `spectrogram_extractor.stft.conv_*`
and `logmel_extractor.melW` tensors. Training-only parts (SpecAugment, mixup) are
left out: they hold no parameters and do nothing in eval mode.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from eval.embeddings.stft import LogmelFilterBank, Spectrogram


@dataclasses.dataclass(frozen=True)
class PannsConfig:
    """Cnn14_16k front-end settings (samples and Hz) and output sizes."""

    sample_rate: int = 16000
    window_size: int = 512
    hop_size: int = 160
    mel_bins: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0
    classes_num: int = 527
    embedding_dim: int = 2048


def init_layer(layer: nn.Module) -> None:
    """Xavier-uniform weights, zero bias (PANNs' init)."""
    nn.init.xavier_uniform_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        layer.bias.data.fill_(0.0)


def init_bn(bn: nn.Module) -> None:
    """Unit scale, zero shift."""
    bn.bias.data.fill_(0.0)
    bn.weight.data.fill_(1.0)


class ConvBlock(nn.Module):
    """(3x3 conv, BN, ReLU) x 2, then pooling."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        for conv in (self.conv1, self.conv2):
            init_layer(conv)
        for bn in (self.bn1, self.bn2):
            init_bn(bn)

    def forward(self, x: torch.Tensor, pool_size: tuple[int, int] = (2, 2), pool_type: str = "avg") -> torch.Tensor:
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        if pool_type == "avg":
            return F.avg_pool2d(x, kernel_size=pool_size)
        if pool_type == "max":
            return F.max_pool2d(x, kernel_size=pool_size)
        if pool_type == "avg+max":
            return F.avg_pool2d(x, kernel_size=pool_size) + F.max_pool2d(x, kernel_size=pool_size)
        raise ValueError(f"unknown pool_type {pool_type!r}")


class Cnn14_16k(nn.Module):  # noqa: N801 - the published name.
    """Cnn14 at 16 kHz; `forward` maps waveforms [B, T] to {'clipwise_output' [B, 527], 'embedding' [B, 2048]}."""

    def __init__(self, cfg: PannsConfig = PannsConfig()):
        super().__init__()
        self.cfg = cfg
        self.embedding_dim = cfg.embedding_dim
        self.spectrogram_extractor = Spectrogram(n_fft=cfg.window_size, hop_length=cfg.hop_size,
                                                 win_length=cfg.window_size, window="hann", center=True,
                                                 pad_mode="reflect")
        self.logmel_extractor = LogmelFilterBank(sr=cfg.sample_rate, n_fft=cfg.window_size, n_mels=cfg.mel_bins,
                                                 fmin=cfg.fmin, fmax=cfg.fmax, ref=1.0, amin=1e-10, top_db=None)
        self.bn0 = nn.BatchNorm2d(cfg.mel_bins)
        channels = (1, 64, 128, 256, 512, 1024, 2048)
        for i in range(6):
            setattr(self, f"conv_block{i + 1}", ConvBlock(channels[i], channels[i + 1]))
        self.fc1 = nn.Linear(2048, cfg.embedding_dim, bias=True)
        self.fc_audioset = nn.Linear(cfg.embedding_dim, cfg.classes_num, bias=True)
        init_bn(self.bn0)
        init_layer(self.fc1)
        init_layer(self.fc_audioset)

    def forward(self, waveform: torch.Tensor, mixup_lambda: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if mixup_lambda is not None:
            raise NotImplementedError("mixup is a training-time option; this port is for inference")
        x = self.logmel_extractor(self.spectrogram_extractor(waveform))  # [B, 1, frames, mels]
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        for i in range(1, 7):
            x = getattr(self, f"conv_block{i}")(x, pool_size=(2, 2) if i < 6 else (1, 1), pool_type="avg")
            x = F.dropout(x, p=0.2, training=self.training)
        x = torch.mean(x, dim=3)  # over frequency
        x = torch.amax(x, dim=2) + torch.mean(x, dim=2)  # over time
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu_(self.fc1(x))
        embedding = F.dropout(x, p=0.5, training=self.training)
        return {"clipwise_output": torch.sigmoid(self.fc_audioset(x)), "embedding": embedding}

    def embed_waveform(self, waveform: torch.Tensor) -> torch.Tensor:
        """One 2048-d embedding per 16 kHz clip: [B, T] -> [B, 2048]."""
        return self(waveform)["embedding"]
