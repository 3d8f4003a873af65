"""CDPAM (Manocha et al. 2021), the audio encoder of a contrastive perceptual metric, as a FAD backbone.

The weights ship inside the `cdpam==0.0.6` wheel (MIT, 106 MB; `pip install -e '.[fad]'`), so FAD runs
offline. Only its base encoder is used, rebuilt here (the package itself is never imported: its
`__init__` needs resampy): 16 Conv1d(k=15) + BatchNorm + LeakyReLU(0.1) layers, 64 channels doubling
and time halving every 4th layer, then the mean over time, split into an acoustic and a content
half of 512 each. As fadtk's 'cdpam-acoustic': audio at 22.05 kHz scaled to the int16 range (as
`cdpam.load_audio` does), one L2-normalized 512-d acoustic embedding per clip. The encoder is fully
convolutional, so a clip of any length >= 16 samples gives one row; clips are not padded.

The checkpoint is an old pickle that only `torch.load(weights_only=False)` reads, which can run code:
the file's sha256 is checked against `CDPAM_SHA256` first and a mismatch is refused. On a CPU the
encoder takes about 2.8 s per second of audio: size FAD sets with `--fad-sounds`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from eval.embeddings.weights import WeightsCorruptError, WeightsNotFoundError

SAMPLE_RATE = 22050
CDPAM_VERSION = "0.0.6"
CDPAM_FILE = Path("CDPAM_trained") / "scratchJNDdefault_best_model.pth"
CDPAM_SHA256 = "453c8b6edee1a94f0120236156436ff28fe4d8d884485e4a67695c8e8570bdfe"
FAD_EXTRA = f"pip install -e '.[fad]' (cdpam=={CDPAM_VERSION})"


class CdpamEncoder(nn.Module):
    """CDPAM's base encoder: waveforms [B, T] (float, [-1, 1]) at 22.05 kHz -> acoustic embeddings [B, 512]."""

    sample_rate = SAMPLE_RATE

    def __init__(self, n_layers: int = 16, filters: int = 64, kernel: int = 15):
        super().__init__()
        self.encoder, self.ebatch = nn.ModuleList(), nn.ModuleList()
        channels_in, channels = 1, filters
        for i in range(n_layers):
            if (i + 1) % 4 == 0:
                channels *= 2
            self.encoder.append(nn.Conv1d(channels_in, channels, kernel, padding=kernel // 2))
            self.ebatch.append(nn.BatchNorm1d(channels))
            channels_in = channels

    def embed_waveform(self, waveform: torch.Tensor) -> torch.Tensor:
        x = torch.round(waveform * 32768.0).unsqueeze(1)
        for i, (conv, norm) in enumerate(zip(self.encoder, self.ebatch)):
            x = F.leaky_relu(norm(conv(x)), 0.1)
            if (i + 1) % 4 == 0:
                x = x[:, :, ::2]
        acoustic = x.mean(dim=2)[:, : x.shape[1] // 2]
        return F.normalize(acoustic, dim=1)


def weights_path() -> Path:
    """The checkpoint inside the installed cdpam package (found without importing it)."""
    spec = importlib.util.find_spec("cdpam")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsNotFoundError(f"CDPAM needs the fad extra: {FAD_EXTRA}")
    path = Path(spec.submodule_search_locations[0]) / CDPAM_FILE
    if not path.is_file():
        raise WeightsNotFoundError(f"{path} is missing: reinstall with {FAD_EXTRA}")
    return path


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_cdpam(path: str | os.PathLike | None = None) -> CdpamEncoder:
    """The CDPAM encoder in eval mode; the checkpoint is unpickled only if its sha256 is `CDPAM_SHA256`."""
    path = Path(path) if path is not None else weights_path()
    found = sha256(path)
    if found != CDPAM_SHA256:
        raise WeightsCorruptError(f"refusing to unpickle {path}: its sha256 is {found}, expected {CDPAM_SHA256} "
                                  f"(cdpam=={CDPAM_VERSION}); reinstall with {FAD_EXTRA}")
    state = torch.load(path, map_location="cpu", weights_only=False)["state"]  # Checked above: the known file.
    prefix = "base_encoder."
    model = CdpamEncoder()
    model.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    return model.eval()
