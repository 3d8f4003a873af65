"""The whole Voice against torchsynth 1.0.2 at 44.1 kHz, 1-second sounds, both implementations.

Tolerances are those of `jaxsynth.parity` (see its docstring): every patch within 16 float32
ulps of oscillator phase, and relative RMS <= 1e-4 wherever the phase stays small enough for
float32 to allow it. We also hold the median, so a regression in the common case shows.
"""

import numpy as np
import pytest

from jaxsynth import parity, voice as voice_lib


@pytest.mark.slow
@pytest.mark.parametrize("impl", voice_lib.IMPLEMENTATIONS)
def test_random_patches(impl, tb, parity_config):
    params = parity.random_patches(np.random.default_rng(2024), 256)
    report = parity.run(params, parity_config, impl)
    assert report.passed.all(), np.nonzero(~report.passed)[0]
    assert np.median(report.rel_rms) < 4e-4
    assert np.mean(report.rel_rms <= parity.REL_RMS_TARGET) > 0.25


@pytest.mark.slow
@pytest.mark.parametrize("impl", voice_lib.IMPLEMENTATIONS)
def test_every_parameter_at_both_ends(impl, tb, parity_config):
    params, labels = parity.extreme_patches(np.random.default_rng(99))
    report = parity.run(params, parity_config, impl)
    failing = [labels[i] for i in np.nonzero(~report.passed)[0]]
    assert not failing, failing


@pytest.mark.slow
def test_tolerance_is_not_vacuous(tb, parity_config):
    """A one-semitone detune of vco_1 must fail the check."""
    params = parity.random_patches(np.random.default_rng(5), 32)
    params[:, voice_lib.PARAMETER_NAMES.index("mixer/vco_1")] = 1.0
    config = parity_config.__class__(batch_size=32, buffer_size_seconds=parity_config.buffer_size_seconds)
    reference = tb.render_torch(tb.torch_voice(config), params)
    detuned = params.copy()
    col = voice_lib.PARAMETER_NAMES.index("vco_1/tuning")
    detuned[:, col] = np.clip(detuned[:, col] + 1 / 48, 0, 1)
    ours = np.asarray(voice_lib.Voice(config, impl="xla").render(detuned, tb.read_noise(tb.torch_voice(config))))
    report = parity.compare(ours, reference, parity.phase_sensitivity(params, config))
    assert (~report.passed).mean() > 0.9


def test_cli_reports_and_exits_zero(tb, capsys):
    code = parity.main(["--patches", "32", "--seed", "1", "--batch", "32", "--seconds", "0.25", "--impl", "cpu_kernel"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert out[-1].startswith("patches=32 max_abs_err=") and "max_rel_rms=" in out[-1]
