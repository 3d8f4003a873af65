"""Named settings of scripts/train.py, as data: the thesis defaults, its 15 cases, the objectives and the run scales.

A setting is one value of the training recipe, named as its flag without dashes (`vae.flags`); they resolve
in layers, later winning (`vae.settings.resolve`): thesis defaults < case (Tables 4.2-4.4, 5.1, 5.5, 5.9)
< objective < scale < settings given explicitly.

Cases: Exp1-{SCL,LogSL,LMSL,SCLP,LogSLP,LSLP} (STFT; 63-256-64-16; synth outside the model;
batch 256, lr 1e-4, patience 20); Exp2-*-ts (the same with the synth head); Exp3-{STFT,MFCC,CQT}
(SCLP on that feature; 63-128-16; phase 1 parameter loss up to 1000 epochs, then fine-tuning
with the synth head; batch 512, patience 10).

Scales shrink data, audio and epochs so that a complete run fits a small CPU:
  thesis: 140,000 patches, 44.1 kHz, 1 s, the case's epochs (default)
  small:  14,000 patches, 16 kHz, 0.5 s, <= 50 epochs (<= 100 pre-training)
  reference: 20,000 patches, 8 kHz, 0.25 s, the case's epochs (runs converge: results/README.md)
  quick:  2,000 patches, 8 kHz, 0.25 s, <= 30 epochs per phase (minutes on 2 CPU cores)
  audible: 10,000 patches, 16 kHz, 1 s, <= 200 epochs per phase (sounds to listen to; the timbre space)
  tiny:   64 patches, 4 kHz, 0.1 s, batch 16, <= 2 epochs per phase (tests)
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from jaxsynth import SynthConfig
from vae.config import LossConfig, PhaseConfig, RunConfig, ScheduleConfig
from vae.data import DataConfig
from vae.models import ModelConfig

_LOSS, _PHASE, _SCHEDULE, _MODEL, _DATA = LossConfig(), PhaseConfig(), ScheduleConfig(), ModelConfig(), DataConfig()

# Thesis defaults of every setting (Experiment 1's architecture and optimization). Those the configuration
# classes hold are their defaults; the rest are choices of the recipe that no class holds (the phases, the
# dataset file) and the synth's 1 s sounds (jaxsynth's SynthConfig defaults to torchsynth's 4 s).
DEFAULTS: dict[str, Any] = {
    "loss": _LOSS.spectral,
    "feature": _LOSS.feature,
    "synth_head": _MODEL.synth_head,
    "hidden": list(_MODEL.hidden),
    "latent": _MODEL.latent_dim,
    "output": _MODEL.output,
    "finetune_recon": False,
    "pretrain_epochs": 0,
    "max_epochs": _PHASE.max_epochs,
    "patience": _PHASE.patience,
    "batch_size": _PHASE.batch_size,
    "lr": _PHASE.learning_rate,
    "lr_schedule": _SCHEDULE.kind,
    "lr_decay_start": _SCHEDULE.decay_start,
    "lr_decay_every": _SCHEDULE.decay_every,
    "lr_decay_factor": _SCHEDULE.decay_factor,
    "beta": _PHASE.beta,
    "ratio": _LOSS.ratio,
    "alpha": _LOSS.alpha,
    "kl_weight": _LOSS.kl_weight,
    "kl_warmup_epochs": _LOSS.kl_warmup_epochs,
    "free_bits": _LOSS.free_bits,
    "spectral_reduction": _LOSS.spectral_reduction,
    "mss_weight": _LOSS.mss_weight,
    "spectral_frozen": list(_LOSS.spectral_frozen),
    "spectral_term": True,
    "sound_input": _MODEL.hears,
    "distance_weight": _LOSS.distance_weight,
    "seed": RunConfig.seed,
    "data": None,
    "n_patches": _DATA.n_patches,
    "split": list(_DATA.split),
    "data_seed": _DATA.seed,
    "all_params": _DATA.all_params,
    "sample_rate": SynthConfig.sample_rate,
    "buffer_seconds": 1.0,
    "control_rate": SynthConfig.control_rate,
    "checkpoint_every": RunConfig.checkpoint_every,
}

# Shorthands of the spectral_frozen setting: parameters the spectral gradient misleads (benchmarks/RESULTS.md,
# "Which loss gives useful gradients where": pitch is at chance beyond about a semitone).
SPECTRAL_FROZEN_GROUPS = {"pitch": ("keyboard/midi_f0", "vco_1/tuning", "vco_2/tuning")}

_EXP12 = {"feature": "stft", "hidden": [256, 64], "batch_size": 256, "lr": 1e-4, "patience": 20,
          "max_epochs": 500, "pretrain_epochs": 0}
_EXP3 = {"loss": "sclp", "hidden": [128], "synth_head": True, "batch_size": 512, "lr": 1e-4, "patience": 10,
         "pretrain_epochs": 1000, "max_epochs": 250}
_LOSS_CASES = {"SCL": "scl", "LogSL": "logsl", "LMSL": "lmsl", "SCLP": "sclp", "LogSLP": "logslp", "LSLP": "lslp"}

CASES: dict[str, dict[str, Any]] = {
    **{f"Exp1-{n}": dict(_EXP12, loss=loss, synth_head=False) for n, loss in _LOSS_CASES.items()},
    **{f"Exp2-{n}-ts": dict(_EXP12, loss=loss, synth_head=True) for n, loss in _LOSS_CASES.items()},
    **{f"Exp3-{f.upper()}": dict(_EXP3, feature=f) for f in ("stft", "mfcc", "cqt")},
}


@dataclasses.dataclass(frozen=True)
class Scale:
    """Data size, audio and epoch caps of a scale (None: leave the setting alone)."""

    n_patches: int
    split: tuple[int, int, int]
    sample_rate: int
    buffer_seconds: float
    max_epochs: Optional[int] = None
    pretrain_epochs: Optional[int] = None
    batch_size: Optional[int] = None

    def flags(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The settings this scale sets, given those resolved so far (epochs are capped, not set)."""
        out = {"n_patches": self.n_patches, "split": list(self.split), "sample_rate": self.sample_rate,
               "buffer_seconds": self.buffer_seconds}
        if self.max_epochs is not None:
            out["max_epochs"] = min(settings["max_epochs"], self.max_epochs)
        if self.pretrain_epochs is not None and settings["pretrain_epochs"] > 0:
            out["pretrain_epochs"] = min(settings["pretrain_epochs"], self.pretrain_epochs)
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        return out


SCALES: dict[str, Scale] = {
    "thesis": Scale(140_000, (100_000, 20_000, 20_000), 44_100, 1.0),
    "small": Scale(14_000, (10_000, 2_000, 2_000), 16_000, 0.5, max_epochs=50, pretrain_epochs=100),
    "reference": Scale(20_000, (16_000, 2_000, 2_000), 8_000, 0.25),
    "quick": Scale(2_000, (1_600, 200, 200), 8_000, 0.25, max_epochs=30, pretrain_epochs=30),
    "audible": Scale(10_000, (8_000, 1_000, 1_000), 16_000, 1.0, max_epochs=200, pretrain_epochs=200),
    "tiny": Scale(64, (48, 8, 8), 4_000, 0.1, max_epochs=2, pretrain_epochs=2, batch_size=16),
}

# Named objectives, a layer between the case and the scale. 'thesis' is eqs. 4.4-4.6 exactly; 'improved'
# adds what keeps this model from collapsing (measured in results/README.md): a KL weight of 0.01 (a
# Gaussian likelihood with sigma ~ 0.07 per parameter instead of the implicit sigma^2 = 1/2) and, where
# the spectral term reaches the weights, a multi-resolution STFT term that a silent output cannot satisfy.
# 'improved-pretrained' is the synth-head recipe that keeps the parameters: the improved objective after
# up to 500 epochs of parameter loss alone, with the parameter loss kept and the spectral term at 1/10 of
# it (its gradient through the synth is large and mostly uninformative; results/README.md, section 2), and
# pitch left to the parameter loss (--spectral-frozen pitch: that gradient misleads pitch most, and without
# it both the parameters and the sounds come out closer; section 2).
_IMPROVED = {"kl_weight": 0.01, "spectral_reduction": "batch", "mss_weight": 1.0}
# 'timbre' is the timbre space (results/timbre.md): the encoder hears each patch's sound (log-mel frames of
# its render, `vae.sound_input`) and its latent distances are held to the sounds' log-mel distances
# (`vae.losses.distance_preservation`), with the improved KL weight; the decoder still outputs parameters, so any
# sound can be encoded and decoded to a patch. The main phase has no spectral term (its gradient cannot reach
# the weights without the synth head, and rendering the validation set each epoch would be most of the time).
OBJECTIVES: dict[str, dict[str, Any]] = {
    "thesis": {},
    "improved": _IMPROVED,
    "improved-pretrained": {**_IMPROVED, "pretrain_epochs": 500, "finetune_recon": True, "ratio": 0.1,
                            "spectral_frozen": ["pitch"]},
    "timbre": {"kl_weight": 0.01, "sound_input": True, "distance_weight": 1.0, "spectral_term": False,
               "lr": 1e-3, "patience": 20},
}
