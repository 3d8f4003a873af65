"""Settings of a training run: resolving the presets' layers and assembling the `RunConfig` they describe.

Settings are a flat dict keyed as `vae.presets.DEFAULTS` (a key is its flag without dashes, `vae.flags`).
`resolve` layers defaults < case < objective < scale < explicit settings; `build_config` turns them into
the `RunConfig` of a dataset, whose classes check every field (`common.bounds.SettingError`); `check`
does that before the dataset exists, so that a bad setting costs no work. `FIELD_SETTINGS` says which
setting fills which field, so that an error on a field can name the setting (and its flag).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from common.bounds import SettingError, check_range
from common.help import did_you_mean
from jaxsynth import N_PARAMETERS
from spectral import sizing
from vae import data as data_lib
from vae import sound_input
from vae.config import LossConfig, PhaseConfig, RunConfig, ScheduleConfig, synth_config
from vae.models import ModelConfig
from vae.presets import CASES, DEFAULTS, OBJECTIVES, SCALES, SPECTRAL_FROZEN_GROUPS

# Configuration field -> the setting that fills it, where their names differ. Settings that no class holds
# (pretrain_epochs, finetune_recon, spectral_term) are checked here under their own names.
FIELD_SETTINGS = {
    "LossConfig.spectral": "loss", "ModelConfig.latent_dim": "latent", "ModelConfig.sound_input": "sound_input",
    "PhaseConfig.learning_rate": "lr", "ScheduleConfig.kind": "lr_schedule",
    "ScheduleConfig.decay_start": "lr_decay_start", "ScheduleConfig.decay_every": "lr_decay_every",
    "ScheduleConfig.decay_factor": "lr_decay_factor", "SynthConfig.buffer_size_seconds": "buffer_seconds",
    "DataConfig.seed": "data_seed", "RunConfig.dataset_path": "data",
}


def setting_of(field: str) -> str:
    """The setting that fills a configuration field ('ModelConfig.latent_dim' -> 'latent'; 'X.name' -> 'name')."""
    return FIELD_SETTINGS.get(field, field.rpartition(".")[2])


def lookup(kind: str, name: str, table: dict) -> str:
    """The key of `table` called `name` in any letter case; ValueError listing the valid ones."""
    for key in table:
        if key.lower() == name.lower():
            return key
    raise ValueError(f"unknown {kind} {name!r}{did_you_mean(name, table)}; valid: {', '.join(table)}")


def case_name(name: str) -> str:
    """The thesis case called `name` (any letter case); ValueError listing the valid ones."""
    return lookup("case", name, CASES)


def experiment_of(case: Optional[str]) -> Optional[str]:
    """The thesis experiment ('Exp1', 'Exp2', 'Exp3') a case belongs to; None for no case or an unknown one."""
    return case.split("-")[0] if case in CASES else None


@dataclasses.dataclass(frozen=True)
class Resolved:
    """Settings after all layers, with the preset names; layers: (label, the settings it set) in order."""

    settings: dict
    case: Optional[str]
    scale: str
    layers: tuple[tuple[str, dict], ...]
    objective: str = "thesis"


def resolve(explicit: dict[str, Any]) -> Resolved:
    """Layers defaults < case < objective < scale < explicit settings. `explicit`: settings, and the preset names
    under 'case', 'objective' and 'scale' (any letter case); ValueError for an unknown name."""
    case = lookup("case", explicit["case"], CASES) if explicit.get("case") else None
    scale = lookup("scale", explicit.get("scale", "thesis"), SCALES)
    objective = lookup("objective", explicit.get("objective", "thesis"), OBJECTIVES)
    given = {k: v for k, v in explicit.items() if k not in ("case", "objective", "scale")}
    unknown = [k for k in given if k not in DEFAULTS]
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}{did_you_mean(unknown[0], DEFAULTS)}")
    settings, layers = dict(DEFAULTS), []
    if case:
        layers.append((f"case {case}", CASES[case]))
    if OBJECTIVES[objective]:
        layers.append((f"objective {objective}", OBJECTIVES[objective]))
    for label, values in layers:
        settings.update(values)
    scale_settings = SCALES[scale].flags(settings)
    settings.update(scale_settings)
    layers.append((f"scale {scale}", scale_settings))
    settings.update(given)
    if given:
        layers.append(("explicit", given))
    return Resolved(settings, case, scale, tuple(layers), objective)


def spectral_frozen_names(given: list[str], free_names: tuple[str, ...]) -> tuple[str, ...]:
    """The spectral_frozen setting's names with its shorthands expanded ('none' adds nothing), in the run's column
    order; names that are not free parameters come last, for `RunConfig` to refuse."""
    names = {n for g in given if g != "none" for n in SPECTRAL_FROZEN_GROUPS.get(g, (g,))}
    return tuple(n for n in free_names if n in names) + tuple(sorted(names - set(free_names)))


def data_config(settings: dict[str, Any]) -> data_lib.DataConfig:
    """How the settings' dataset is drawn."""
    return data_lib.DataConfig(settings["n_patches"], tuple(settings["split"]), settings["data_seed"],
                               settings["all_params"])


def dataset_path(settings: dict[str, Any]) -> Path:
    """The dataset file of the settings: the data setting, else `vae.data.default_path` of its draw."""
    return Path(settings["data"]) if settings["data"] else data_lib.default_path(data_config(settings))


def _phases(s: dict[str, Any]) -> tuple[PhaseConfig, ...]:
    """Experiments 1 and 2: eq. 4.4 (eq. 4.5 without the spectral term); with pretraining (Experiment 3): eq. 4.5,
    then eq. 4.6 (beta 1 unless given) or, with finetune_recon, eq. 4.4."""
    check_range("pretrain_epochs", s["pretrain_epochs"], 0)
    schedule = ScheduleConfig(s["lr_schedule"], s["lr_decay_start"], s["lr_decay_every"], s["lr_decay_factor"])
    common = dict(patience=s["patience"], batch_size=s["batch_size"], learning_rate=s["lr"], schedule=schedule)
    if s["finetune_recon"] and s["pretrain_epochs"] <= 0:
        raise SettingError("finetune_recon", "keeps the parameter loss after pretraining, but there is none: give "
                                             "{pretrain_epochs} N (N > 0) or drop {finetune_recon}")
    if s["pretrain_epochs"] > 0:
        finetune_beta = s["beta"] if s["beta"] is not None or s["finetune_recon"] else 1.0
        return (PhaseConfig("pretrain", recon=True, spectral=False, beta=0.0, max_epochs=s["pretrain_epochs"],
                            **common),
                PhaseConfig("finetune", recon=s["finetune_recon"], spectral=True, beta=finetune_beta,
                            max_epochs=s["max_epochs"], **common))
    spectral = s["spectral_term"]
    return (PhaseConfig("main", recon=True, spectral=spectral, beta=s["beta"] if spectral else 0.0,
                        max_epochs=s["max_epochs"], **common),)


def _config(resolved: Resolved, data: data_lib.DataConfig, path: str | Path, free_names: tuple[str, ...],
            fixed: tuple[tuple[str, float], ...], dataset_sha256: Optional[str]) -> RunConfig:
    """The `RunConfig` of resolved settings for a dataset drawn as `data` with these parameters; each class
    checks its fields (`SettingError`)."""
    s = resolved.settings
    phases = _phases(s)
    synth = synth_config(s["batch_size"], s["sample_rate"], s["buffer_seconds"], s["control_rate"])
    feature_cfg = sizing.feature_config(synth, s["feature"])
    mel_cfg = sound_input.mel_config(feature_cfg) if s["sound_input"] else None
    return RunConfig(
        model=ModelConfig(data_lib.n_free(s["all_params"]), tuple(s["hidden"]), s["latent"], s["synth_head"],
                          s["output"], mel_cfg,
                          None if mel_cfg is None else sound_input.width(mel_cfg, synth.buffer_size)),
        synth=synth,
        loss=LossConfig(s["loss"], s["feature"], feature_cfg, s["alpha"], s["ratio"], s["kl_weight"],
                        s["kl_warmup_epochs"], s["free_bits"], s["spectral_reduction"], s["mss_weight"],
                        spectral_frozen_names(s["spectral_frozen"], free_names), s["distance_weight"]),
        phases=phases,
        data=data,
        dataset_path=str(Path(path).absolute()),
        free_names=free_names,
        fixed=fixed,
        seed=s["seed"],
        checkpoint_every=s["checkpoint_every"],
        case=resolved.case,
        scale=resolved.scale,
        objective=resolved.objective,
        dataset_sha256=dataset_sha256,
    )


def check(resolved: Resolved) -> None:
    """Builds the run's configuration from the settings alone (the dataset they would draw), so that every field
    is checked (`SettingError`) before a dataset is read or generated."""
    names = data_lib.parameter_subset(resolved.settings["all_params"]).names
    _config(resolved, data_config(resolved.settings), dataset_path(resolved.settings), names, (), None)


def build_config(resolved: Resolved, dataset: data_lib.Dataset, path: str | Path) -> RunConfig:
    """The `RunConfig` of resolved settings, training on `dataset` (stored at `path`)."""
    data_lib.check_matches(dataset, data_lib.n_free(resolved.settings["all_params"]), f"dataset {path}")
    counts = dataset.counts
    drawn = data_lib.DataConfig(sum(counts.values()), tuple(counts.values()), dataset.seed,
                                dataset.size == N_PARAMETERS)
    return _config(resolved, drawn, path, dataset.names, dataset.fixed, data_lib.fingerprint(dataset))


def default_run_dir(resolved: Resolved) -> Path:
    """runs/<case, or loss-feature>[-<objective>]-<scale>."""
    name = resolved.case or f"{resolved.settings['loss']}-{resolved.settings['feature']}"
    objective = "" if resolved.objective == "thesis" else f"-{resolved.objective}"
    return Path("runs") / f"{name}{objective}-{resolved.scale}"


def dataset_and_config(resolved: Resolved, progress: bool = True) -> tuple[data_lib.Dataset, RunConfig]:
    """The settings' dataset (loaded, or generated and saved: `vae.data.load_or_generate`) and the `RunConfig`
    that trains on it; the settings are checked (`check`) before any dataset work."""
    check(resolved)
    path = dataset_path(resolved.settings)
    dataset = data_lib.load_or_generate(path, data_config(resolved.settings), progress=progress)
    return dataset, build_config(resolved, dataset, path)
