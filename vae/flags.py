"""The training CLI's flags: the argparse parser of the settings (`vae.presets`, `vae.settings`) and the way
back from a configuration field to its flag.

Each setting is the flag of its name with dashes (`batch_size`: --batch-size); `vae.settings.FIELD_SETTINGS`
says which setting fills a configuration field, so that a `SettingError` on a field is told as its flag
(`describe`). Run-control flags (`RUN_CONTROL`) say where and how to run, not what to train.
"""

from __future__ import annotations

import argparse
from typing import Any

from common.bounds import SettingError
from common.help import HelpFormatter, Parser
from jaxsynth import N_PARAMETERS
from spectral import features, losses
from vae import data as data_lib
from vae.config import SCHEDULES
from vae.models import OUTPUTS
from vae.presets import CASES, DEFAULTS, OBJECTIVES, SCALES, SPECTRAL_FROZEN_GROUPS
from vae.settings import Resolved, setting_of

RUN_CONTROL = ("out", "resume", "overwrite", "quiet", "devices", "data_parallel", "tensorboard")
PRESETS = ("case", "objective", "scale")


def flag(setting: str) -> str:
    """The flag of a setting ('batch_size' -> '--batch-size')."""
    return "--" + setting.replace("_", "-")


def describe(err: SettingError) -> str:
    """The error in flags: 'ModelConfig.latent_dim must be ...' -> '--latent must be ...'."""
    return err.describe(lambda field: flag(setting_of(field)))


def explicit(args: dict[str, Any]) -> dict[str, Any]:
    """The settings and preset names given on the command line (parsed flags without the run-control ones)."""
    return {k: v for k, v in args.items() if k not in RUN_CONTROL}


def expansions(resolved: Resolved) -> list[str]:
    """One line per layer of `resolved`: the flags each preset expands to, then the explicit ones."""
    return [f"explicit flags: {' '.join(to_flags(values))}" if label == "explicit"
            else f"{label} expands to: {' '.join(to_flags(values))}" for label, values in resolved.layers]


DESCRIPTION = """Train a SynthParam-VAE.

Settings resolve in layers, later winning:
  thesis defaults (shown below) < --case (a thesis case) < --objective (thesis: eqs. 4.4-4.6 as
  written; improved: what makes the model learn, results/README.md) < --scale (data, audio,
  epoch caps) < flags given explicitly.
Each layer prints the flags it expands to before training starts."""

EXAMPLES = """examples:
  %(prog)s --loss sclp --feature mfcc                           # thesis defaults (GPU-sized)
  %(prog)s --case Exp2-LMSL-ts                                  # a thesis case
  %(prog)s --case Exp1-SCLP --objective improved --scale reference  # one that learns, ~10 min on 2 cores
  %(prog)s --scale quick --loss sclp --feature mfcc --out runs/quick   # minutes on 2 CPU cores
  %(prog)s --case Exp3-MFCC --scale small --max-epochs 20       # case, then scale, then the flag
  %(prog)s --resume --out runs/quick                            # continue a stopped run exactly
  %(prog)s --scale quick --data-parallel --out runs/dp          # batch split over all devices

scales (data and audio; --scale also caps the epochs):
""" + "\n".join(f"  {name:10s}{s.n_patches:,} patches, {s.sample_rate} Hz x {s.buffer_seconds} s"
                for name, s in SCALES.items())


def _epilog() -> str:
    """EXAMPLES, then what each named objective expands to."""
    return EXAMPLES + "\n\nobjectives:\n" + "\n".join(
        f"  {name:10s}{' '.join(to_flags(flags)) or 'eqs. 4.4-4.6 as the thesis writes them'}"
        for name, flags in OBJECTIVES.items())


def _one_of(names) -> dict:
    """The metavar of a flag that names one of `names` ({a,b,c}); the configuration class checks the name."""
    return {"metavar": "{" + ",".join(names) + "}"}


# Each setting's flag: its group in --help, its help and what argparse needs beyond what the setting's default implies
# (`_options`: a bool is --x/--no-x, a list takes its items' type, a number its type).
SETTING_FLAGS: dict[str, tuple[str, str, dict]] = {
    "loss": ("loss", "spectral loss (eqs. 3.1-3.3, 4.1-4.3)", _one_of(sorted(losses.SPECTRAL_LOSSES))),
    "feature": ("loss", "audio feature of the spectral loss", _one_of(sorted(features.FEATURES))),
    "beta": ("loss", "spectral weight (default: calibrated to --ratio; 1 when fine-tuning)", {"type": float}),
    "ratio": ("loss", "beta*spectral : recon at the start of training", {}),
    "alpha": ("loss", "clamp-loss weight", {}),
    "kl_weight": ("loss", "KL weight (1: the thesis's ELBO; 0.01 = a Gaussian likelihood with sigma 0.07 per "
                          "parameter, which keeps the latent space from collapsing)", {}),
    "kl_warmup_epochs": ("loss", "epochs over which the KL weight rises linearly to --kl-weight", {}),
    "free_bits": ("loss", "nats per latent dimension the KL does not penalize", {}),
    "spectral_reduction": ("loss", "SCL/SCLP over a batch: mean of per-example ratios (which rewards silence) or the "
                                   "ratio of the batch's norms", _one_of(losses.REDUCTIONS)),
    "mss_weight": ("loss", "add this times a multi-resolution STFT loss (which silence cannot satisfy) to the "
                           "spectral term where it reaches the weights (synth head)", {}),
    "spectral_term": ("loss", "the main phase's objective has the spectral term (eq. 4.4); without it, eq. 4.5's "
                              "parameter loss (with KL and any distance term)", {}),
    "distance_weight": ("loss", "weight of the distance-preservation term: latent distances held to the sounds' "
                                "log-mel distances (needs --sound-input)", {}),
    "spectral_frozen": ("loss", "free parameters (module/param, or " + ", ".join(SPECTRAL_FROZEN_GROUPS) + ") that the "
                                "spectral gradient does not move; the parameter loss still trains them (none: every "
                                "parameter gets it)", {"metavar": "NAME"}),
    "synth_head": ("model", "render decoded parameters inside the loss with gradients (Experiment 2)", {}),
    "sound_input": ("model", "the encoder hears each patch's sound (log-mel frames of its render) instead of reading "
                             "its parameters, so any WAV can be encoded (the timbre objective)", {}),
    "hidden": ("model", "encoder hidden widths (decoder mirrors)", {}),
    "latent": ("model", "latent dimension", {}),
    "output": ("model", "decoder output activation: linear (the thesis; clamped to [0, 1] before the synth) or "
                        "sigmoid (never out of range, so the synth's gradient is never cut by clamping)",
               _one_of(OUTPUTS)),
    "pretrain_epochs": ("optimization", "> 0: Experiment 3's phase 1 (parameter loss only) for up to this many "
                                        "epochs, then fine-tuning without the parameter loss (with it: "
                                        "--finetune-recon)", {}),
    "finetune_recon": ("optimization", "keep the parameter loss in the fine-tuning phase after --pretrain-epochs "
                                       "(eq. 4.4 instead of 4.6, beta calibrated to --ratio unless --beta is given)", {}),
    "max_epochs": ("optimization", "epoch limit of the main (or fine-tuning) phase", {}),
    "patience": ("optimization", "early-stopping patience in epochs", {}),
    "batch_size": ("optimization", "patches per step (and per evaluation batch)", {}),
    "lr": ("optimization", "Adam learning rate", {}),
    "lr_schedule": ("optimization", "constant, or step: x --lr-decay-factor at --lr-decay-start, then every "
                                    "--lr-decay-every", _one_of(SCHEDULES)),
    "lr_decay_start": ("optimization", "first epoch of the step decay", {}),
    "lr_decay_every": ("optimization", "epochs between step decays", {}),
    "lr_decay_factor": ("optimization", "learning-rate factor at each step decay", {}),
    "seed": ("optimization", "init, step-RNG and data-order seed", {}),
    "checkpoint_every": ("optimization", "steps between mid-epoch checkpoints", {}),
    "data": ("data and synth", "dataset .npz/.json (default data/voice<k>_<split>_seed<s>.npz, generated if missing)",
             {}),
    "n_patches": ("data and synth", "patches generated when the dataset file is missing", {}),
    "split": ("data and synth", "patches per split (they sum to --n-patches)",
              {"nargs": 3, "metavar": ("TRAIN", "VAL", "TEST")}),
    "data_seed": ("data and synth", "seed of the patches' draw and split", {}),
    "all_params": ("data and synth", f"all {N_PARAMETERS} parameters instead of the thesis's {data_lib.n_free()}",
                   {}),
    "sample_rate": ("data and synth", "Hz", {}),
    "buffer_seconds": ("data and synth", "sound length, s", {}),
    "control_rate": ("data and synth", "Hz", {}),
}


def _options(setting: str) -> dict:
    """argparse's options of a setting's flag: from its default's type, then `SETTING_FLAGS`; help ends with the
    default (thesis defaults, `vae.presets.DEFAULTS`)."""
    default = DEFAULTS[setting]
    group, text, extra = SETTING_FLAGS[setting]
    if isinstance(default, bool):
        options = {"action": argparse.BooleanOptionalAction}
    elif isinstance(default, list):
        options = {"nargs": "+", **({"type": type(default[0])} if default else {})}
    else:
        options = {} if default is None else {"type": type(default)}
    if default not in (None, []):
        text += f" (default: {' '.join(map(str, default)) if isinstance(default, list) else default})"
    return {**options, **extra, "help": text}


def parser() -> argparse.ArgumentParser:
    """The training CLI: run control, the preset names, then one flag per setting (`SETTING_FLAGS`); absent flags
    are absent from the namespace (so presets can fill them)."""
    p = Parser(description=DESCRIPTION, epilog=_epilog(), formatter_class=HelpFormatter,
               argument_default=argparse.SUPPRESS)
    run = p.add_argument_group("run")
    run.add_argument("--case", help=f"thesis case: {', '.join(CASES)}")
    run.add_argument("--objective", help=f"named objective: {', '.join(OBJECTIVES)} (default thesis)")
    run.add_argument("--scale", help=f"data/audio/epoch scale: {', '.join(SCALES)} (default thesis)")
    run.add_argument("--out", help="run directory (default runs/<case or loss-feature>-<scale>)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    run.add_argument("--overwrite", action="store_true", help="delete an existing run in --out first")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--tensorboard", metavar="DIR", help="also log each epoch's metrics as TensorBoard scalars in "
                                                          "DIR (tensorboard --logdir DIR; the tensorboard extra)")
    run.add_argument("--devices", type=int, metavar="N",
                     help="data parallelism over N local devices (vae.sharding; batch a multiple of N)")
    run.add_argument("--data-parallel", action="store_true", help="data parallelism over all local devices")
    groups = {}
    for setting, (group, _, _) in SETTING_FLAGS.items():
        if group not in groups:
            groups[group] = p.add_argument_group(group)
        groups[group].add_argument(flag(setting), **_options(setting))
    return p


def to_flags(settings: dict[str, Any]) -> list[str]:
    """Settings -> the CLI flags that give them (parses back through `parser`)."""
    out: list[str] = []
    for key, value in settings.items():
        if isinstance(value, bool):
            out.append(flag(key) if value else "--no-" + key.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            out += [flag(key), *map(str, value)]
        elif value is not None:
            out += [flag(key), str(value)]
    return out
