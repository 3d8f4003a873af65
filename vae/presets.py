"""Named settings of scripts/train.py: the thesis's 15 cases and the run scales.

Settings are the training CLI's flags. They resolve in layers, later winning:
thesis defaults < `--case` (Tables 4.2-4.4, 5.1, 5.5, 5.9) < `--objective` < `--scale` < flags
given explicitly. Each layer prints as the flags it expands to.

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

import argparse
import dataclasses
import math
from pathlib import Path
from typing import Any, Optional

from jaxsynth import N_PARAMETERS, SynthConfig
from vae import data as data_lib
from spectral import features
from spectral import losses
from vae import sound_input
from spectral.features import FeatureConfig
from common.help import HelpFormatter, Parser, did_you_mean
from vae.models import OUTPUTS, ModelConfig
from vae.config import LossConfig, PhaseConfig, RunConfig, ScheduleConfig

# Thesis defaults of every setting (Experiment 1's architecture and optimization).
DEFAULTS: dict[str, Any] = {
    "loss": "sclp",
    "feature": "stft",
    "synth_head": False,
    "hidden": [256, 64],
    "latent": 16,
    "output": "linear",
    "finetune_recon": False,
    "pretrain_epochs": 0,
    "max_epochs": 500,
    "patience": 20,
    "batch_size": 256,
    "lr": 1e-4,
    "lr_schedule": "constant",
    "lr_decay_start": 200,
    "lr_decay_every": 100,
    "lr_decay_factor": 0.5,
    "beta": None,
    "ratio": 3.0,
    "alpha": 100.0,
    "kl_weight": 1.0,
    "kl_warmup_epochs": 0,
    "free_bits": 0.0,
    "spectral_reduction": "example",
    "mss_weight": 0.0,
    "spectral_frozen": [],
    "spectral_term": True,
    "sound_input": False,
    "distance_weight": 0.0,
    "seed": 0,
    "data": None,
    "n_patches": 140_000,
    "split": [100_000, 20_000, 20_000],
    "data_seed": 0,
    "all_params": False,
    "sample_rate": 44_100,
    "buffer_seconds": 1.0,
    "control_rate": 441,
    "checkpoint_every": 200,
}

# Shorthands of --spectral-frozen: parameters the spectral gradient misleads (benchmarks/RESULTS.md, "Which loss
# gives useful gradients where": pitch is at chance beyond about a semitone).
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

RUN_CONTROL = ("case", "objective", "scale", "out", "resume", "overwrite", "quiet", "devices", "data_parallel",
               "tensorboard")


def _lookup(kind: str, name: str, table: dict):
    """Case-insensitive lookup; unknown names list the valid ones."""
    for key in table:
        if key.lower() == name.lower():
            return key
    raise ValueError(f"unknown {kind} {name!r}{did_you_mean(name, table)}; valid: {', '.join(table)}")


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


def experiment_of(case: Optional[str]) -> Optional[str]:
    """The thesis experiment ('Exp1', 'Exp2', 'Exp3') a case belongs to; None for no case or an unknown one."""
    return case.split("-")[0] if case in CASES else None


def case_name(name: str) -> str:
    """The thesis case called `name` (any letter case); ValueError listing the valid ones."""
    return _lookup("case", name, CASES)


def parser() -> argparse.ArgumentParser:
    """The training CLI; absent flags are absent from the namespace (so presets can fill them)."""
    p = Parser(description=DESCRIPTION, epilog=_epilog(), formatter_class=HelpFormatter,
               argument_default=argparse.SUPPRESS)
    run = p.add_argument_group("run")
    run.add_argument("--case", help=f"thesis case: {', '.join(CASES)}")
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
    loss = p.add_argument_group("loss")
    loss.add_argument("--loss", choices=sorted(losses.SPECTRAL_LOSSES), help="spectral loss (eqs. 3.1-3.3, 4.1-4.3)")
    loss.add_argument("--feature", choices=sorted(features.FEATURES), help="audio feature of the spectral loss")
    loss.add_argument("--beta", type=float, help="spectral weight (default: calibrated to --ratio; 1 when fine-tuning)")
    loss.add_argument("--ratio", type=float, help="beta*spectral : recon at the start of training")
    loss.add_argument("--alpha", type=float, help="clamp-loss weight")
    loss.add_argument("--objective", help=f"named objective: {', '.join(OBJECTIVES)} (default thesis)")
    loss.add_argument("--kl-weight", type=float,
                      help="KL weight (1: the thesis's ELBO; 0.01 = a Gaussian likelihood with sigma 0.07 per "
                           "parameter, which keeps the latent space from collapsing)")
    loss.add_argument("--kl-warmup-epochs", type=int, help="epochs over which the KL weight rises linearly to --kl-weight")
    loss.add_argument("--free-bits", type=float, help="nats per latent dimension the KL does not penalize")
    loss.add_argument("--spectral-reduction", choices=list(losses.REDUCTIONS),
                      help="SCL/SCLP over a batch: mean of per-example ratios (which rewards silence) or the "
                           "ratio of the batch's norms")
    loss.add_argument("--mss-weight", type=float,
                      help="add this times a multi-resolution STFT loss (which silence cannot satisfy) to the "
                           "spectral term where it reaches the weights (synth head)")
    loss.add_argument("--spectral-term", action=argparse.BooleanOptionalAction,
                      help="the main phase's objective has the spectral term (eq. 4.4); without it, eq. 4.5's "
                           "parameter loss (with KL and any distance term)")
    loss.add_argument("--distance-weight", type=float,
                      help="weight of the distance-preservation term: latent distances held to the sounds' log-mel "
                           "distances (needs --sound-input)")
    loss.add_argument("--spectral-frozen", nargs="+", metavar="NAME",
                      help="free parameters (module/param, or " + ", ".join(SPECTRAL_FROZEN_GROUPS) +
                           ") that the spectral gradient does not move; the parameter loss still trains them "
                           "(none: every parameter gets it)")
    model = p.add_argument_group("model")
    model.add_argument("--synth-head", action=argparse.BooleanOptionalAction,
                       help="render decoded parameters inside the loss with gradients (Experiment 2)")
    model.add_argument("--sound-input", action=argparse.BooleanOptionalAction,
                       help="the encoder hears each patch's sound (log-mel frames of its render) instead of reading "
                            "its parameters, so any WAV can be encoded (the timbre objective)")
    model.add_argument("--hidden", type=int, nargs="+", help="encoder hidden widths (decoder mirrors)")
    model.add_argument("--latent", type=int, help="latent dimension")
    model.add_argument("--output", choices=list(OUTPUTS),
                       help="decoder output activation: linear (the thesis; clamped to [0, 1] before the synth) or "
                            "sigmoid (never out of range, so the synth's gradient is never cut by clamping)")
    opt = p.add_argument_group("optimization")
    opt.add_argument("--pretrain-epochs", type=int,
                     help="> 0: Experiment 3's phase 1 (parameter loss only) for up to this many epochs, "
                          "then fine-tuning without the parameter loss (with it: --finetune-recon)")
    opt.add_argument("--finetune-recon", action=argparse.BooleanOptionalAction,
                     help="keep the parameter loss in the fine-tuning phase after --pretrain-epochs (eq. 4.4 "
                          "instead of 4.6, beta calibrated to --ratio unless --beta is given)")
    opt.add_argument("--max-epochs", type=int, help="epoch limit of the main (or fine-tuning) phase")
    opt.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    opt.add_argument("--batch-size", type=int, help="patches per step (and per evaluation batch)")
    opt.add_argument("--lr", type=float, help="Adam learning rate")
    opt.add_argument("--lr-schedule", choices=["constant", "step"],
                     help="constant, or step: x --lr-decay-factor at --lr-decay-start, then every --lr-decay-every")
    opt.add_argument("--lr-decay-start", type=int, help="first epoch of the step decay")
    opt.add_argument("--lr-decay-every", type=int, help="epochs between step decays")
    opt.add_argument("--lr-decay-factor", type=float, help="learning-rate factor at each step decay")
    opt.add_argument("--seed", type=int, help="init, step-RNG and data-order seed")
    opt.add_argument("--checkpoint-every", type=int, help="steps between mid-epoch checkpoints")
    dat = p.add_argument_group("data and synth")
    dat.add_argument("--data", help="dataset .npz/.json (default data/voice<k>_<split>_seed<s>.npz, "
                                    "generated if missing)")
    dat.add_argument("--n-patches", type=int, help="patches generated when the dataset file is missing")
    dat.add_argument("--split", type=int, nargs=3, metavar=("TRAIN", "VAL", "TEST"),
                     help="patches per split (they sum to --n-patches)")
    dat.add_argument("--data-seed", type=int, help="seed of the patches' draw and split")
    dat.add_argument("--all-params", action=argparse.BooleanOptionalAction,
                     help=f"all {N_PARAMETERS} parameters instead of the thesis's {data_lib.n_free()}")
    dat.add_argument("--sample-rate", type=int, help="Hz")
    dat.add_argument("--buffer-seconds", type=float, help="sound length, s")
    dat.add_argument("--control-rate", type=int, help="Hz")
    for action in p._actions:
        if DEFAULTS.get(action.dest) not in (None, []):
            value = DEFAULTS[action.dest]
            shown = " ".join(map(str, value)) if isinstance(value, list) else value
            action.help = f"{action.help or ''} (default: {shown})".strip()
    return p


def to_flags(settings: dict[str, Any]) -> list[str]:
    """Settings -> the CLI flags that give them (parses back through `parser`)."""
    out: list[str] = []
    for key, value in settings.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            out.append(flag if value else "--no-" + key.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        elif value is not None:
            out += [flag, str(value)]
    return out


@dataclasses.dataclass(frozen=True)
class Resolved:
    """Settings after all layers, with the preset names and what each expanded to."""

    settings: dict
    case: Optional[str]
    scale: str
    expansions: tuple[str, ...]
    objective: str = "thesis"


def resolve(explicit: dict[str, Any]) -> Resolved:
    """Layers defaults < case < objective < scale < explicit flags; `explicit` is the parsed namespace as a dict."""
    case = _lookup("case", explicit["case"], CASES) if explicit.get("case") else None
    scale = _lookup("scale", explicit.get("scale", "thesis"), SCALES)
    objective = _lookup("objective", explicit.get("objective", "thesis"), OBJECTIVES)
    settings = dict(DEFAULTS)
    lines = []
    if case:
        settings.update(CASES[case])
        lines.append(f"case {case} expands to: {' '.join(to_flags(CASES[case]))}")
    if OBJECTIVES[objective]:
        settings.update(OBJECTIVES[objective])
        lines.append(f"objective {objective} expands to: {' '.join(to_flags(OBJECTIVES[objective]))}")
    scale_flags = SCALES[scale].flags(settings)
    settings.update(scale_flags)
    lines.append(f"scale {scale} expands to: {' '.join(to_flags(scale_flags))}")
    given = {k: v for k, v in explicit.items() if k not in RUN_CONTROL}
    settings.update(given)
    if given:
        lines.append(f"explicit flags: {' '.join(to_flags(given))}")
    return Resolved(settings, case, scale, tuple(lines), objective)


def feature_config_for(synth: SynthConfig, feature: Optional[str] = None) -> FeatureConfig:
    """Feature settings for a synth: librosa's defaults at 44.1 kHz, scaled with the sample rate below.

    n_fft ~ 2048 * sr / 44.1 kHz (a power of two), hop n_fft / 4, n_mels <= n_fft / 8, n_mfcc <= n_mels.
    The CQT starts at C1, raised by octaves until its kernel's frame is at most twice the sound, with
    as many of its 84 bins as fit below Nyquist. feature: the one the loss uses; a ValueError naming the
    flags says when its settings cannot fit (fewer than 20 MFCCs, no CQT); those of the other features
    are then left at their defaults, unused. None: every feature must fit.
    """
    sr, n = synth.sample_rate, synth.buffer_size
    n_fft = 2 ** round(math.log2(2048 * sr / 44_100))
    n_mels = min(128, n_fft // 8)
    cfg = FeatureConfig(sample_rate=sr, n_fft=n_fft, hop_length=n_fft // 4, n_mels=n_mels,
                        n_mfcc=min(FeatureConfig.n_mfcc, n_mels), cqt_hop_length=n_fft // 4)
    if feature in (None, "mfcc") and cfg.n_mfcc < FeatureConfig.n_mfcc:
        raise ValueError(f"--sample-rate {sr} is too low for --feature mfcc: its {n_fft}-point FFT has {n_mels} mel "
                         f"bands, fewer than the {FeatureConfig.n_mfcc} MFCCs; raise --sample-rate or use --feature "
                         "stft or cqt")
    fmin = cfg.cqt_fmin
    while fmin < sr / 2:
        for n_bins in range(cfg.cqt_n_bins, 0, -1):
            candidate = dataclasses.replace(cfg, cqt_fmin=fmin, cqt_n_bins=n_bins)
            try:
                _, frame = features.cqt_kernel(candidate)
            except ValueError:  # Top bin above Nyquist.
                continue
            if frame <= 2 * n:
                return candidate
            break
        fmin *= 2.0
    if feature in (None, "cqt"):
        raise ValueError(f"no constant-Q filter fits a {n}-sample sound at {sr} Hz (--sample-rate {sr}, "
                         f"--buffer-seconds {synth.buffer_size_seconds}): raise either, or use --feature stft or mfcc")
    return cfg


def spectral_frozen_names(given: list[str], free_names: tuple[str, ...]) -> tuple[str, ...]:
    """--spectral-frozen's names with its shorthands expanded ('none' adds nothing), in the run's column order;
    ValueError naming the flag for a name that is not a free parameter of the run."""
    names = {n for g in given if g != "none" for n in SPECTRAL_FROZEN_GROUPS.get(g, (g,))}
    unknown = sorted(names - set(free_names))
    if unknown:
        raise ValueError(f"--spectral-frozen: {', '.join(unknown)} is not a free parameter of this run; give the "
                         f"module/param name of a free parameter (e.g. keyboard/midi_f0) or "
                         f"{', '.join([*SPECTRAL_FROZEN_GROUPS, 'none'])}")
    return tuple(n for n in free_names if n in names)


def data_config(settings: dict[str, Any]) -> data_lib.DataConfig:
    return data_lib.DataConfig(settings["n_patches"], tuple(settings["split"]), settings["data_seed"],
                               settings["all_params"])


def dataset_path(settings: dict[str, Any]) -> Path:
    return Path(settings["data"]) if settings["data"] else data_lib.default_path(data_config(settings))


def build_config(resolved: Resolved, dataset: data_lib.Dataset, path: str | Path) -> RunConfig:
    """The `RunConfig` of resolved settings, training on `dataset` (stored at `path`)."""
    s = resolved.settings
    n_params = data_lib.n_free(s["all_params"])
    data_lib.check_matches(dataset, n_params, f"dataset {path}")
    synth = SynthConfig(batch_size=s["batch_size"], sample_rate=s["sample_rate"],
                        buffer_size_seconds=s["buffer_seconds"], control_rate=s["control_rate"])
    schedule = ScheduleConfig(s["lr_schedule"], s["lr_decay_start"], s["lr_decay_every"], s["lr_decay_factor"])
    common = dict(patience=s["patience"], batch_size=s["batch_size"], learning_rate=s["lr"], schedule=schedule)
    if s["finetune_recon"] and s["pretrain_epochs"] <= 0:
        raise ValueError("--finetune-recon keeps the parameter loss after pretraining, but there is none: "
                         "give --pretrain-epochs N (N > 0) or drop --finetune-recon")
    if s["pretrain_epochs"] > 0:  # Experiment 3: eq. 4.5, then eq. 4.6 (beta 1 unless given) or 4.4.
        finetune_beta = s["beta"] if s["beta"] is not None or s["finetune_recon"] else 1.0
        phases = (
            PhaseConfig("pretrain", recon=True, spectral=False, beta=0.0, max_epochs=s["pretrain_epochs"], **common),
            PhaseConfig("finetune", recon=s["finetune_recon"], spectral=True, beta=finetune_beta,
                        max_epochs=s["max_epochs"], **common),
        )
    else:  # Experiments 1 and 2: eq. 4.4 (eq. 4.5 without the spectral term).
        spectral = s["spectral_term"]
        phases = (PhaseConfig("main", recon=True, spectral=spectral, beta=s["beta"] if spectral else 0.0,
                              max_epochs=s["max_epochs"], **common),)
    feature_cfg = feature_config_for(synth, s["feature"])
    mel_cfg = sound_input.mel_config(feature_cfg) if s["sound_input"] else None
    counts = dataset.counts
    return RunConfig(
        model=ModelConfig(n_params, tuple(s["hidden"]), s["latent"], s["synth_head"], s["output"], mel_cfg,
                          None if mel_cfg is None else sound_input.width(mel_cfg, synth.buffer_size)),
        synth=synth,
        loss=LossConfig(s["loss"], s["feature"], feature_cfg, s["alpha"], s["ratio"], s["kl_weight"],
                        s["kl_warmup_epochs"], s["free_bits"], s["spectral_reduction"], s["mss_weight"],
                        spectral_frozen_names(s["spectral_frozen"], dataset.names), s["distance_weight"]),
        phases=phases,
        data=data_lib.DataConfig(sum(counts.values()), tuple(counts.values()), dataset.seed, dataset.size == N_PARAMETERS),
        dataset_path=str(Path(path).absolute()),
        free_names=dataset.names,
        fixed=dataset.fixed,
        seed=s["seed"],
        checkpoint_every=s["checkpoint_every"],
        case=resolved.case,
        scale=resolved.scale,
        objective=resolved.objective,
        dataset_sha256=data_lib.fingerprint(dataset),
    )


def default_run_dir(resolved: Resolved) -> Path:
    name = resolved.case or f"{resolved.settings['loss']}-{resolved.settings['feature']}"
    objective = "" if resolved.objective == "thesis" else f"-{resolved.objective}"
    return Path("runs") / f"{name}{objective}-{resolved.scale}"
