"""Locating, fetching and reading the pretrained embedding-network checkpoints.

Search order for a file: the `weights_dir` argument (a script's --weights-dir), the
directory in $JAXSYNTH_WEIGHTS_DIR, then ~/.cache/jaxsynth/weights. When the file is
in none of them, it is fetched from its public URL into the first of those folders
(socket timeout `timeout` seconds); when that fails too, `WeightsNotFoundError` says
which file to put where.

Checkpoints are read with `torch.load(weights_only=True)`, allowing only the numpy
array types needed by torchvggish's PCA file; nothing else in a pickle is executed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

ENV_VAR = "JAXSYNTH_WEIGHTS_DIR"
DEFAULT_DIR = Path("~/.cache/jaxsynth/weights")


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """A checkpoint file name and where it is published."""

    filename: str
    url: str


KNOWN_WEIGHTS = {
    # torchvggish v0.1 release (harritaylor/torchvggish): the VGG state dict and its PCA parameters.
    "vggish": WeightsFile("vggish-10086976.pth",
                          "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth"),
    "vggish_pca": WeightsFile(
        "vggish_pca_params-970ea276.pth",
        "https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish_pca_params-970ea276.pth"),
    # PANNs (Kong et al. 2020), Zenodo record 3987831: {'model': state_dict, ...}.
    "panns_cnn14_16k": WeightsFile("Cnn14_16k_mAP=0.438.pth",
                                   "https://zenodo.org/record/3987831/files/Cnn14_16k_mAP%3D0.438.pth"),
}


class WeightsNotFoundError(FileNotFoundError):
    """A checkpoint is in none of the searched folders and could not be downloaded."""


def search_dirs(weights_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for checkpoints, in order: weights_dir, $JAXSYNTH_WEIGHTS_DIR, default."""
    dirs = [Path(weights_dir)] if weights_dir else []
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]))
    dirs.append(DEFAULT_DIR)
    return [d.expanduser() for d in dirs]


def _lookup(name: str) -> WeightsFile:
    """The entry of KNOWN_WEIGHTS for a key or file name; other names have no URL."""
    if name in KNOWN_WEIGHTS:
        return KNOWN_WEIGHTS[name]
    for entry in KNOWN_WEIGHTS.values():
        if entry.filename == name:
            return entry
    return WeightsFile(name, "")


def _download(url: str, destination: Path, timeout: float) -> None:
    """Fetch url into destination through a temporary file in the same folder."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        with tempfile.NamedTemporaryFile(dir=destination.parent, delete=False, suffix=".part") as tmp:
            try:
                shutil.copyfileobj(response, tmp)
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
    os.replace(tmp.name, destination)


def find_weights(name: str, weights_dir: str | os.PathLike | None = None, download: bool = True,
                 timeout: float = 10.0) -> Path:
    """Path of checkpoint `name` (a KNOWN_WEIGHTS key or a file name), fetching it if allowed."""
    entry = _lookup(name)
    dirs = search_dirs(weights_dir)
    for folder in dirs:
        if (folder / entry.filename).is_file():
            return folder / entry.filename

    reason = "downloading is disabled"
    if download and entry.url:
        try:
            _download(entry.url, dirs[0] / entry.filename, timeout)
            return dirs[0] / entry.filename
        except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors.
            reason = f"download from {entry.url} failed: {err}"
    elif download:
        reason = "no download URL is known for it"
    source = f" from {entry.url}" if entry.url else ""
    raise WeightsNotFoundError(
        f"Checkpoint '{entry.filename}' not found in {', '.join(str(d) for d in dirs)} ({reason}). "
        f"Download it{source} and put it in {dirs[0]} (or pass --weights-dir / set {ENV_VAR}).")


# What a pickled float ndarray needs (numpy 1.x files name the reconstructor numpy.core.*).
_NUMPY_GLOBALS = [np._core.multiarray._reconstruct,
                  (np._core.multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
                  np.ndarray, np.dtype, type(np.dtype(np.float32)), type(np.dtype(np.float64))]


class WeightsCorruptError(ValueError):
    """A checkpoint file that is there but cannot be read (empty, cut short, not a PyTorch checkpoint)."""


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The object in a checkpoint file, read on the CPU without executing arbitrary pickles (needs torch).

    A file torch cannot read raises `WeightsCorruptError` naming it and where to get a good copy (torch's
    own advice for a refused pickle, to load it with weights_only=False, is wrong for a damaged file).
    """
    import torch

    path = Path(path)
    try:
        with torch.serialization.safe_globals(_NUMPY_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - whatever torch raises for an unreadable file, say what to do.
        entry = _lookup(path.name)
        source = f" from {entry.url}" if entry.url else ""
        raise WeightsCorruptError(
            f"checkpoint {path} ({path.stat().st_size} bytes) is damaged or not a PyTorch checkpoint "
            f"({type(err).__name__}); delete it and download it again{source}, or pass --weights-dir with a good "
            "copy (or --no-fad to skip FAD)") from None
