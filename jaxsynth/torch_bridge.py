"""Moving patches between torchsynth 1.0.2 and jaxsynth (needs the `torch` extra).

torchsynth keeps each parameter as a [batch] tensor in [0, 1]; we keep one [batch, 78] array
in the same `named_parameters()` order.
"""

from __future__ import annotations

import warnings

import numpy as np

from jaxsynth.config import SynthConfig


def import_torchsynth():
    """Import torch and torchsynth's Voice, with a clear message when the extra is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch
            from torchsynth.config import SynthConfig as TorchSynthConfig
            from torchsynth.synth import Voice as TorchVoice
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "torchsynth 1.0.2 is needed for this (pip install -e '.[torch]': torch==2.13.0, "
            "torchsynth==1.0.2, pytorch-lightning<1.7, setuptools<81)"
        ) from err
    return torch, TorchSynthConfig, TorchVoice


def torch_voice(config: SynthConfig, reproducible: bool = True):
    """A torchsynth `Voice` with the same settings (batch must be a multiple of 32 if reproducible)."""
    torch, TorchSynthConfig, TorchVoice = import_torchsynth()
    tconfig = TorchSynthConfig(
        batch_size=config.batch_size,
        sample_rate=config.sample_rate,
        buffer_size_seconds=config.buffer_size_seconds,
        control_rate=config.control_rate,
        reproducible=reproducible,
        eps=config.eps,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TorchVoice(tconfig)


def parameter_names(voice) -> tuple[str, ...]:
    """`module/param` names of a torchsynth Voice in `named_parameters()` order."""
    return tuple(name.replace(".torchparameters.", "/") for name, _ in voice.named_parameters())


def read_params(voice) -> np.ndarray:
    """A torchsynth Voice's parameters as float32 [batch, 78] in [0, 1]."""
    return np.stack([p.detach().cpu().numpy() for _, p in voice.named_parameters()], axis=1).astype(np.float32)


def write_params(voice, params01: np.ndarray) -> None:
    """Set a torchsynth Voice's parameters from [batch, 78] values in [0, 1]."""
    torch = import_torchsynth()[0]
    params01 = np.asarray(params01, np.float32)
    for i, (_, p) in enumerate(voice.named_parameters()):
        p.data = torch.from_numpy(np.ascontiguousarray(params01[:, i]))


def read_noise(voice, unique_rows: bool = False) -> np.ndarray:
    """The Voice's white-noise buffer, float32 [batch, buffer_size] (or only its first 32 rows,
    which repeat over the batch in reproducible mode, with `unique_rows`)."""
    noise = voice.noise.noise.detach().cpu().numpy().astype(np.float32)
    if unique_rows and voice.synthconfig.reproducible:
        noise = noise[:32]
    return noise


def render_torch(voice, params01: np.ndarray | None = None) -> np.ndarray:
    """Render with torchsynth (optionally after setting params); float32 [batch, buffer_size]."""
    torch = import_torchsynth()[0]
    if params01 is not None:
        write_params(voice, params01)
    with torch.no_grad():
        return voice.output().detach().cpu().numpy()
