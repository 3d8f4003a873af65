"""The configuration of a training run and its JSON codec (RUN_DIR/config.json).

`RunConfig` holds everything that defines a run: model, synth settings, loss terms, training
phases, dataset and seeds; `to_json` / `from_json` write and rebuild it exactly (format
`FORMAT`). The files of a run directory are `vae.run_files`; loading a trained run, `vae.run`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Optional

from jaxsynth import ParameterSubset, SynthConfig
from vae import features, losses
from vae.data import DataConfig
from vae.features import FeatureConfig
from vae.models import ModelConfig

FORMAT = "jaxsynth-vae-run/1"


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule: 'constant', or 'step' (x factor at decay_start, then every decay_every epochs)."""

    kind: str = "constant"
    decay_start: int = 200
    decay_every: int = 100
    decay_factor: float = 0.5

    def __post_init__(self):
        if self.kind not in ("constant", "step"):
            raise ValueError(f"unknown lr schedule {self.kind!r}; valid: ['constant', 'step']")


@dataclasses.dataclass(frozen=True)
class PhaseConfig:
    """One training phase with its own optimizer, objective and early stopping.

    Attributes:
      name: label in metrics and logs ('main', 'pretrain', 'finetune').
      recon: include L_recon in the objective (eq. 4.4, 4.5; not 4.6).
      spectral: include beta * L_spectral (eq. 4.4, 4.6; not 4.5).
      beta: spectral weight; None = calibrate at the phase start so that
        beta * spectral : recon = LossConfig.ratio : 1 (section 4.3).
      max_epochs, patience: epoch limit and early-stopping patience (validation loss).
      batch_size, learning_rate, schedule: optimization (Adam).
    """

    name: str = "main"
    recon: bool = True
    spectral: bool = True
    beta: Optional[float] = None
    max_epochs: int = 500
    patience: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-4
    schedule: ScheduleConfig = ScheduleConfig()

    def __post_init__(self):
        if self.beta is None and not (self.recon and self.spectral):
            raise ValueError(f"phase {self.name!r}: beta can only be calibrated when both recon and spectral are on")
        if min(self.max_epochs, self.patience, self.batch_size) < 1 or not self.learning_rate > 0:
            raise ValueError(f"phase {self.name!r}: epochs, patience, batch size and learning rate must be positive")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Spectral loss `spectral` (vae.losses) on feature `feature` (vae.features), clamp weight alpha."""

    spectral: str = "sclp"
    feature: str = "stft"
    feature_config: FeatureConfig = FeatureConfig()
    alpha: float = 100.0
    ratio: float = 3.0

    def __post_init__(self):
        if self.spectral not in losses.SPECTRAL_LOSSES:
            raise ValueError(f"unknown spectral loss {self.spectral!r}; valid: {sorted(losses.SPECTRAL_LOSSES)}")
        if self.feature not in features.FEATURES:
            raise ValueError(f"unknown feature {self.feature!r}; valid: {sorted(features.FEATURES)}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (written to RUN_DIR/config.json).

    Attributes:
      model, synth, loss, phases: architecture, synth settings, loss terms, training phases.
      data: how the dataset was drawn; dataset_path: the .npz file trained on.
      free_names, fixed: the parameter subset (free names in column order; frozen
        (name, value in [0, 1]) pairs).
      seed: model init, per-step RNG and data order; noise_seed: the synth's noise rows.
      checkpoint_every: steps between mid-epoch saves of the latest checkpoint.
      case, scale: preset names, for the record.
    """

    model: ModelConfig
    synth: SynthConfig
    loss: LossConfig
    phases: tuple[PhaseConfig, ...]
    data: DataConfig
    dataset_path: str
    free_names: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    seed: int = 0
    noise_seed: int = 13
    checkpoint_every: int = 200
    case: Optional[str] = None
    scale: str = "thesis"

    def __post_init__(self):
        if self.model.n_params != len(self.free_names):
            raise ValueError(f"model has {self.model.n_params} inputs but {len(self.free_names)} free parameters")
        if not self.phases:
            raise ValueError("a run needs at least one phase")
        if self.checkpoint_every < 1:
            raise ValueError("checkpoint_every must be >= 1 step")

    def subset(self) -> ParameterSubset:
        """The `ParameterSubset` of the free names and frozen values."""
        return ParameterSubset.create(self.free_names, dict(self.fixed))


# ------------------------------------------------------------------------- JSON


def to_json(config: RunConfig) -> str:
    return json.dumps({"format": FORMAT, **dataclasses.asdict(config)}, indent=2)


def from_json(text: str) -> RunConfig:
    doc = json.loads(text)
    if doc.pop("format", None) != FORMAT:
        raise ValueError(f"not a run config of format {FORMAT!r}")
    return _build(RunConfig, doc)


def _build(tp, value):
    """JSON value -> instance of type `tp` (dataclasses, Optional, tuples, scalars)."""
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"unknown {tp.__name__} fields {sorted(unknown)}")
        return tp(**{k: _build(hints[k], v) for k, v in value.items()})
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _build(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(args, value))
    if tp is float:
        return float(value)
    return value
