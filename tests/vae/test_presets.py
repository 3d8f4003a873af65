"""vae.presets, vae.settings, vae.flags: the 15 thesis cases, scale layering, flags, and the configs they build."""

import dataclasses

import pytest

from jaxsynth import SynthConfig
from vae import config as config_lib
from common.bounds import SettingError
from spectral import losses, sizing
from vae import data, flags, presets, settings
from vae.models import ModelConfig
from spectral.features import FeatureConfig


def _resolve(argv):
    return settings.resolve(vars(flags.parser().parse_args(argv)))


def test_fifteen_thesis_cases():
    names = {f"Exp1-{n}" for n in ("SCL", "LogSL", "LMSL", "SCLP", "LogSLP", "LSLP")}
    names |= {f"Exp2-{n}-ts" for n in ("SCL", "LogSL", "LMSL", "SCLP", "LogSLP", "LSLP")}
    names |= {"Exp3-STFT", "Exp3-MFCC", "Exp3-CQT"}
    assert set(presets.CASES) == names


@pytest.mark.parametrize("case,expected", [
    ("Exp1-LMSL", dict(loss="lmsl", feature="stft", synth_head=False, hidden=[256, 64], batch_size=256, lr=1e-4,
                       patience=20, pretrain_epochs=0, max_epochs=500)),
    ("Exp2-LogSLP-ts", dict(loss="logslp", feature="stft", synth_head=True, hidden=[256, 64], batch_size=256)),
    ("Exp3-MFCC", dict(loss="sclp", feature="mfcc", synth_head=True, hidden=[128], batch_size=512, patience=10,
                       pretrain_epochs=1000, max_epochs=250)),
])
def test_case_expansion(case, expected):
    resolved = _resolve(["--case", case.lower()])
    assert resolved.case == case and resolved.scale == "thesis"
    assert {k: resolved.settings[k] for k in expected} == expected
    assert flags.expansions(resolved)[0].startswith(f"case {case} expands to: ")
    reparsed = vars(flags.parser().parse_args(flags.to_flags(presets.CASES[case])))
    assert reparsed == presets.CASES[case]


def test_layers_case_then_scale_then_explicit():
    s = _resolve(["--case", "Exp3-CQT", "--scale", "quick", "--patience", "3"]).settings
    assert (s["n_patches"], s["sample_rate"], s["buffer_seconds"]) == (2000, 8000, 0.25)
    assert (s["pretrain_epochs"], s["max_epochs"], s["batch_size"], s["patience"]) == (30, 30, 512, 3)
    s = _resolve(["--scale", "quick"]).settings
    assert s["pretrain_epochs"] == 0  # Scales cap epochs, they never add a phase.
    s = _resolve(["--scale", "tiny", "--batch-size", "8"]).settings
    assert s["batch_size"] == 8


def test_thesis_defaults():
    s = _resolve(["--loss", "sclp", "--feature", "mfcc"]).settings
    assert (s["n_patches"], tuple(s["split"]), s["sample_rate"], s["buffer_seconds"]) == (
        140_000, (100_000, 20_000, 20_000), 44_100, 1.0)
    assert (s["batch_size"], s["lr"], s["patience"], s["max_epochs"], s["hidden"]) == (256, 1e-4, 20, 500, [256, 64])
    assert sizing.feature_config(SynthConfig(sample_rate=44_100, buffer_size_seconds=1.0)) == FeatureConfig()


def test_scaled_feature_config_fits():
    cfg = sizing.feature_config(SynthConfig(sample_rate=8000, buffer_size_seconds=0.25))
    assert (cfg.n_fft, cfg.hop_length, cfg.n_mels) == (512, 128, 64)
    assert 0 < cfg.cqt_n_bins < 84 and cfg.cqt_fmin > 32


def test_matching_stft_is_64_ms_and_fits_the_sound():
    assert sizing.multiscale_config(SynthConfig(sample_rate=16_000, buffer_size_seconds=1.0)).n_fft == 1024
    short = sizing.multiscale_config(SynthConfig(sample_rate=16_000, buffer_size_seconds=0.1))  # 1,600 samples.
    assert (short.n_fft, short.hop_length) == (512, 128)


def test_a_field_error_names_the_field_and_its_flag():
    with pytest.raises(SettingError) as err:
        ModelConfig(latent_dim=0)
    assert str(err.value) == "ModelConfig.latent_dim must be a finite number >= 1, got 0"
    assert flags.describe(err.value) == "--latent must be a finite number >= 1, got 0"
    with pytest.raises(SettingError) as err:
        sizing.feature_config(SynthConfig(sample_rate=500, buffer_size_seconds=0.1, control_rate=100), "mfcc")
    assert flags.describe(err.value).startswith("--sample-rate 500 is too low for --feature mfcc")
    assert "raise --sample-rate or use --feature stft or cqt" in flags.describe(err.value)
    dests = {action.dest for action in flags.parser()._actions}
    assert set(settings.FIELD_SETTINGS.values()) <= set(presets.DEFAULTS) <= dests  # Every setting has its flag.


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="unknown case 'Exp4-X'; valid: Exp1-SCL, .*Exp3-CQT"):
        _resolve(["--case", "Exp4-X"])
    with pytest.raises(ValueError, match=f"unknown scale 'huge'; valid: {', '.join(presets.SCALES)}$"):
        _resolve(["--scale", "huge"])
    with pytest.raises(SettingError) as err:  # The loss's name is checked by LossConfig, named as its flag.
        settings.check(_resolve(["--loss", "sclpp", "--scale", "tiny"]))
    assert flags.describe(err.value) == "--loss 'sclpp' is unknown; did you mean sclp?; valid: " + ", ".join(
        sorted(losses.SPECTRAL_LOSSES))


@pytest.fixture(scope="module")
def tiny_dataset():
    return data.generate(data.DataConfig(16, (8, 4, 4)))


def test_build_config_phases_and_json_round_trip(tiny_dataset, tmp_path):
    exp3 = settings.build_config(_resolve(["--case", "Exp3-STFT", "--scale", "tiny"]), tiny_dataset, tmp_path / "d.npz")
    assert [(p.name, p.recon, p.spectral, p.beta) for p in exp3.phases] == [
        ("pretrain", True, False, 0.0), ("finetune", False, True, 1.0)]
    assert exp3.model.synth_head and exp3.model.hidden == (128,) and exp3.case == "Exp3-STFT"
    exp1 = settings.build_config(_resolve(["--case", "Exp1-SCL"]), tiny_dataset, tmp_path / "d.npz")
    assert len(exp1.phases) == 1 and exp1.phases[0].beta is None and not exp1.model.synth_head
    for config in (exp1, exp3):
        assert config_lib.from_json(config_lib.to_json(config)) == config
    assert exp1.subset().size == 63


def test_finetune_recon_keeps_the_parameter_loss_and_needs_pretraining(tiny_dataset, tmp_path):
    joint = settings.build_config(_resolve(["--case", "Exp3-STFT", "--scale", "tiny", "--finetune-recon",
                                           "--output", "sigmoid"]), tiny_dataset, tmp_path / "d.npz")
    assert [(p.name, p.recon, p.spectral, p.beta) for p in joint.phases] == [
        ("pretrain", True, False, 0.0), ("finetune", True, True, None)]  # beta calibrated, as in eq. 4.4
    assert joint.model.output == "sigmoid" and config_lib.from_json(config_lib.to_json(joint)) == joint
    with pytest.raises(SettingError, match="finetune_recon keeps .* pretrain_epochs") as err:
        settings.build_config(_resolve(["--case", "Exp2-SCLP-ts", "--finetune-recon"]), tiny_dataset, tmp_path / "d.npz")
    assert flags.describe(err.value).startswith("--finetune-recon keeps the parameter loss")
    assert "give --pretrain-epochs N (N > 0) or drop --finetune-recon" in flags.describe(err.value)


def test_build_config_rejects_mismatched_dataset(tiny_dataset, tmp_path):
    with pytest.raises(data.DatasetError, match="has 63 free parameters but the model expects 78"):
        settings.build_config(_resolve(["--all-params"]), tiny_dataset, tmp_path / "d.npz")
    with pytest.raises(SettingError, match="LossConfig.spectral 'l2' is unknown; valid: lmsl"):
        config_lib.LossConfig(spectral="l2")
    with pytest.raises(SettingError, match="LossConfig.feature 'mel' is unknown"):
        dataclasses.replace(config_lib.LossConfig(), feature="mel")
