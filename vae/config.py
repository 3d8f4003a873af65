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

from common import limits
from common.bounds import SettingError, check_choice, check_range
from jaxsynth import ParameterSubset, SynthConfig
from spectral import features
from spectral import losses
from vae.data import DataConfig
from spectral.features import FeatureConfig
from vae.models import ModelConfig

FORMAT = "jaxsynth-vae-run/1"
NOISE_SEED = 13  # Seed of the synth's noise rows (jaxsynth.Voice's default) that runs and matching render with.


SCHEDULES = ("constant", "step")  # Learning-rate schedules (`ScheduleConfig.kind`).


def synth_config(batch_size: int, sample_rate: int, buffer_seconds: float, control_rate: int) -> SynthConfig:
    """The synth of a run, its rates and length checked by field first (`SettingError`, up to the bounds of
    `common.limits`); jaxsynth's `SynthConfig` then checks how they fit together."""
    check_range("SynthConfig.sample_rate", sample_rate, 1, limit=limits.MAX_SAMPLE_RATE)
    check_range("SynthConfig.buffer_size_seconds", buffer_seconds, 0, above=True, limit=limits.MAX_SECONDS)
    check_range("SynthConfig.control_rate", control_rate, 1, limit=limits.MAX_SAMPLE_RATE)
    return SynthConfig(batch_size=batch_size, sample_rate=sample_rate, buffer_size_seconds=buffer_seconds,
                       control_rate=control_rate)


@dataclasses.dataclass(frozen=True)
class ScheduleConfig:
    """Learning-rate schedule: 'constant', or 'step' (x factor at decay_start, then every decay_every epochs)."""

    kind: str = "constant"
    decay_start: int = 200
    decay_every: int = 100
    decay_factor: float = 0.5

    def __post_init__(self):
        check_choice("ScheduleConfig.kind", self.kind, SCHEDULES)
        check_range("ScheduleConfig.decay_start", self.decay_start, 0)
        check_range("ScheduleConfig.decay_every", self.decay_every, 1)
        check_range("ScheduleConfig.decay_factor", self.decay_factor, 0, above=True)


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
        check_range("PhaseConfig.max_epochs", self.max_epochs, 1)
        check_range("PhaseConfig.patience", self.patience, 1)
        check_range("PhaseConfig.batch_size", self.batch_size, 1)
        check_range("PhaseConfig.learning_rate", self.learning_rate, 0, above=True)
        if self.beta is not None:
            check_range("PhaseConfig.beta", self.beta, 0)
        elif not (self.recon and self.spectral):
            raise SettingError("PhaseConfig.beta", f"can be calibrated (None) only when both recon and spectral are on "
                                                   f"(phase {self.name!r})")


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The objective's terms and weights; the defaults are the thesis's objective exactly.

    Attributes:
      spectral, feature, feature_config: spectral loss (spectral.losses) on that feature (spectral.features).
      alpha: clamp-loss weight; ratio: beta * spectral : recon at the start (section 4.3).
      kl_weight: weight of the KL term (1: the thesis's ELBO); 2 sigma^2 makes L_recon a Gaussian likelihood with
        standard deviation sigma per parameter (0.01: sigma ~ 0.07). Nothing is encoded above about 1/6, so the
        thesis's 1 collapses to the mean patch (results/README.md, section 1).
      kl_warmup_epochs: the KL weight rises linearly from kl_weight / n to kl_weight over the
        first n epochs of each phase (0: constant); early stopping waits until it is complete.
      free_bits: nats per latent dimension (batch mean) under which the KL is not penalized
        (Kingma et al. 2016; 0: off).
      spectral_reduction: how a spectral-convergence loss (SCL, SCLP) reduces a batch: 'example' (the
        mean of per-example ratios; the thesis does not say, this is our reading of its equations) or
        'batch' (ratio of the batch's norms, as auraloss and ParallelWaveGAN); other losses are sums,
        for which both are the same. Per-example ratios make silence a minimum (`spectral.losses.convergence`).
      mss_weight: weight of an added multi-resolution STFT term (`spectral.losses.multiscale_spectral`,
        which silence cannot satisfy) relative to the spectral term, in phases whose spectral
        term reaches the weights (synth head); the total spectral term is then
        beta * (spectral + mss_weight * mss). 0: off.
      spectral_frozen: free parameters (`module/param`) that the spectral gradient does not move: their
        decoded values pass `stop_gradient` on the way into the synth (the parameter loss still trains
        them). The spectral gradient misleads for pitch farther than about a semitone
        (benchmarks/RESULTS.md), so the synth head can leave pitch to the parameter loss. (): none.
      distance_weight: weight of the distance-preservation term (`vae.losses.distance_preservation`): latent
        distances between encoded sounds held to their log-mel distances, so that sounds that are close sit
        close; needs an encoder that hears (`ModelConfig.sound_input`). 0: off.
    """

    spectral: str = "sclp"
    feature: str = "stft"
    feature_config: FeatureConfig = FeatureConfig()
    alpha: float = 100.0
    ratio: float = 3.0
    kl_weight: float = 1.0
    kl_warmup_epochs: int = 0
    free_bits: float = 0.0
    spectral_reduction: str = "example"
    mss_weight: float = 0.0
    spectral_frozen: tuple[str, ...] = ()
    distance_weight: float = 0.0

    @property
    def batch_convergence(self) -> bool:
        """Whether the spectral term is a convergence loss reduced over the batch."""
        return self.spectral_reduction == "batch" and self.spectral in losses.CONVERGENCE_LOSSES

    def __post_init__(self):
        check_choice("LossConfig.spectral", self.spectral, sorted(losses.SPECTRAL_LOSSES))
        check_choice("LossConfig.feature", self.feature, sorted(features.FEATURES))
        check_choice("LossConfig.spectral_reduction", self.spectral_reduction, losses.REDUCTIONS)
        check_range("LossConfig.alpha", self.alpha, 0)
        check_range("LossConfig.ratio", self.ratio, 0, above=True)
        check_range("LossConfig.kl_weight", self.kl_weight, 0, above=True)
        for field in ("kl_warmup_epochs", "free_bits", "mss_weight", "distance_weight"):
            check_range(f"LossConfig.{field}", getattr(self, field), 0)


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (written to RUN_DIR/config.json).

    Attributes:
      model, synth, loss, phases: architecture, synth settings, loss terms, training phases.
      data: how the dataset was drawn; dataset_path: the .npz file trained on; dataset_sha256: its
        `vae.data.fingerprint`, checked on resume and evaluation (None in runs made before it was recorded).
      free_names, fixed: the parameter subset (free names in column order; frozen
        (name, value in [0, 1]) pairs).
      seed: model init, per-step RNG and data order; noise_seed: the synth's noise rows.
      checkpoint_every: steps between mid-epoch saves of the latest checkpoint.
      case, scale, objective: preset names, for the record.
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
    noise_seed: int = NOISE_SEED
    checkpoint_every: int = 200
    case: Optional[str] = None
    scale: str = "thesis"
    objective: str = "thesis"
    dataset_sha256: Optional[str] = None

    def __post_init__(self):
        unknown = [n for n in self.loss.spectral_frozen if n not in self.free_names]
        if unknown:
            raise SettingError("LossConfig.spectral_frozen",
                               f"names {', '.join(unknown)}, which is not a free parameter of this run; give free "
                               "parameters' module/param names (e.g. keyboard/midi_f0)")
        if self.loss.distance_weight and not self.model.hears:
            raise SettingError("LossConfig.distance_weight",
                               "holds latent distances to sound distances, which needs an encoder that hears the "
                               "sound: turn on {ModelConfig.sound_input} (the timbre objective does), or drop it")
        if self.model.n_params != len(self.free_names):
            raise ValueError(f"model has {self.model.n_params} inputs but {len(self.free_names)} free parameters")
        if not self.phases:
            raise ValueError("a run needs at least one phase")
        check_range("RunConfig.checkpoint_every", self.checkpoint_every, 1)

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
    """JSON value -> instance of type `tp` (dataclasses, Optional, tuples, scalars); TypeError naming the field
    and the type it needs when the value has another (a hand-edited "latent": "8" fails here, not in training)."""
    if dataclasses.is_dataclass(tp):
        _expect(value, dict, tp.__name__)
        hints = typing.get_type_hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - names
        if unknown:
            raise ValueError(f"unknown {tp.__name__} fields {sorted(unknown)}")
        built = {}
        for k, v in value.items():
            try:
                built[k] = _build(hints[k], v)
            except TypeError as e:
                raise TypeError(f"{tp.__name__}.{k}: {e}") from None
        return tp(**built)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _build(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        _expect(value, list, "list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        if len(value) != len(args):
            raise TypeError(f"expected a list of {len(args)} values, got {len(value)}")
        return tuple(_build(a, v) for a, v in zip(args, value))
    if tp is float:
        _expect(value, (int, float), "number")
        return float(value)
    if tp in (int, str, bool):
        _expect(value, tp, tp.__name__)
    return value


def _expect(value, kinds, name: str) -> None:
    if not isinstance(value, kinds) or (isinstance(value, bool) and kinds is not bool):
        raise TypeError(f"expected {name}, got {type(value).__name__} {json.dumps(value)[:40]}")
