"""VGGish (Hershey et al. 2017) as ported by torchvggish, with its optional PCA/quantization.

Architecture: 4 conv blocks on a [1, 96, 64] log-mel example -- conv64, pool,
conv128, pool, conv256 x2, pool, conv512 x2, pool (3x3 convs, ReLU, 2x2 max pools)
-- flattened in TF's NHWC order to 512*6*4 = 12288, then FC 4096, FC 4096, FC 128.
Parameter names (`features.{0,3,6,8,11,13}`, `embeddings.{0,2,4}`) match the
`vggish-10086976.pth` state dict, which loads with `load_state_dict` as is.

Embedding choice of the `frechet-audio-distance` package (its defaults, used by the
thesis): `use_activation=False` drops the ReLU after the last FC layer, so
embeddings are the raw 128-d FC outputs; `use_pca=False` skips the postprocessor.
With `postprocess=True` the `pproc` child applies the AudioSet PCA
(`vggish_pca_params-970ea276.pth`), clips to [-2, 2] and quantizes to 0..255.
"""

from __future__ import annotations

import torch
from torch import nn

from eval.embeddings.vggish_input import VGGishLogMel, VGGishParams

_LAYERS = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M")


def make_layers() -> nn.Sequential:
    """VGGish's convolutional trunk (torchvggish's `make_layers`)."""
    layers, in_channels = [], 1
    for v in _LAYERS:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


class Postprocessor(nn.Module):
    """PCA [128, 128] with means [128, 1], clip to [quantize_min, quantize_max], quantize to 0..255."""

    def __init__(self, params: VGGishParams = VGGishParams()):
        super().__init__()
        self.params = params
        size = params.embedding_size
        self.pca_eigen_vectors = nn.Parameter(torch.eye(size), requires_grad=False)
        self.pca_means = nn.Parameter(torch.zeros(size, 1), requires_grad=False)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        p = self.params
        pca = (self.pca_eigen_vectors @ (embeddings.T - self.pca_means)).T
        clipped = torch.clamp(pca, p.quantize_min, p.quantize_max)
        return torch.round((clipped - p.quantize_min) * (255.0 / (p.quantize_max - p.quantize_min)))


class VGGish(nn.Module):
    """VGGish embedding network; `forward` maps examples [N, 1, 96, 64] to embeddings [N, 128]."""

    embedding_dim = 128

    def __init__(self, params: VGGishParams = VGGishParams(), postprocess: bool = False,
                 final_activation: bool = False):
        super().__init__()
        self.frontend = VGGishLogMel(params)
        self.features = make_layers()
        head = [nn.Linear(512 * 4 * 6, 4096), nn.ReLU(True), nn.Linear(4096, 4096), nn.ReLU(True),
                nn.Linear(4096, params.embedding_size)]
        self.embeddings = nn.Sequential(*head, *([nn.ReLU(True)] if final_activation else []))
        if postprocess:
            self.pproc = Postprocessor(params)

    def forward(self, examples: torch.Tensor) -> torch.Tensor:
        x = self.features(examples)  # [N, 512, 6, 4]
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC flattening, as the TF original
        x = self.embeddings(x)
        return self.pproc(x) if hasattr(self, "pproc") else x

    def embed_waveform(self, waveform: torch.Tensor) -> torch.Tensor:
        """Embeddings [B * n_examples, 128] of 16 kHz clips [B, T], clip-major (one per 0.96 s)."""
        examples = self.frontend(waveform)  # [B, E, 96, 64]
        return self(examples.reshape(-1, 1, *examples.shape[-2:]))
