"""The public API: shapes, jit/vmap, bad input, frozen parameters, noise handling, config."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxsynth
from jaxsynth import ParameterError, SynthConfig, Voice

SMALL = SynthConfig(batch_size=4, sample_rate=8000, buffer_size_seconds=0.1, control_rate=200)


@pytest.fixture(scope="module")
def voice():
    return Voice(SMALL, impl="xla")


def test_render_shape_dtype_and_determinism(voice):
    params = voice.random_params(jax.random.PRNGKey(0))
    assert params.shape == (4, 78) and float(params.min()) >= 0 and float(params.max()) < 1
    audio = voice.render(params)
    assert audio.shape == (4, SMALL.buffer_size) and audio.dtype == jnp.float32
    assert np.isfinite(np.asarray(audio)).all() and float(jnp.abs(audio).max()) <= 1.0
    np.testing.assert_array_equal(np.asarray(voice.render(params)), np.asarray(audio))


def test_both_implementations_agree(voice):
    params = voice.random_params(jax.random.PRNGKey(1))
    kernel = Voice(SMALL, impl="cpu_kernel").render(params)
    np.testing.assert_allclose(np.asarray(kernel), np.asarray(voice.render(params)), atol=2e-4)


@pytest.mark.slow
def test_jit_and_vmap_of_the_pure_function(voice):
    params = voice.random_params(jax.random.PRNGKey(2), batch=6).reshape(2, 3, 78)
    noise = voice.noise_rows[0]
    for impl in jaxsynth.voice.IMPLEMENTATIONS:
        batched = jax.jit(jax.vmap(lambda p: jaxsynth.render(p, noise, SMALL, impl)))(params)
        flat = jaxsynth.render(params.reshape(6, 78), noise, SMALL, impl)
        # Same patches, so the same sound; XLA may fuse the batched graph differently, which moves
        # float32 roundings (a phase ulp at high notes), hence a tolerance rather than equality.
        np.testing.assert_allclose(np.asarray(batched).reshape(6, -1), np.asarray(flat), atol=2e-3)


def test_noise_rows_repeat_like_torchsynth(voice):
    params = voice.random_params(jax.random.PRNGKey(3), batch=4)
    params = params.at[:, voice.index("mixer/noise")].set(1.0)
    rows = voice.noise_rows[:2]
    np.testing.assert_array_equal(
        np.asarray(voice.render(params, rows)), np.asarray(voice.render(params, jnp.concatenate([rows, rows])))
    )
    with pytest.raises(ValueError, match="do not fit the batch"):
        voice.render(params, voice.noise_rows[:3])
    with pytest.raises(ValueError, match="buffer_size"):
        voice.render(params, voice.noise_rows[:, :10])


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.full((2, 77), 0.5), r"shape \[batch, 78\]"),
        (np.full((78,), 0.5), r"shape \[batch, 78\]"),
    ],
)
def test_bad_shapes(voice, bad, match):
    with pytest.raises(ParameterError, match=match):
        voice.render(bad.astype(np.float32))


def test_out_of_range_names_the_parameter_and_its_range(voice):
    params = np.full((2, 78), 0.5, np.float32)
    params[1, voice.index("vco_2/mod_depth")] = 1.5
    with pytest.raises(ParameterError, match=r"vco_2/mod_depth.*outside \[0, 1\].*\[-96, 96\].*symmetric curve 0.2"):
        voice.render(params)


def test_nan_names_the_parameter(voice):
    params = np.full((2, 78), 0.5, np.float32)
    params[0, voice.index("lfo_1/frequency")] = np.nan
    with pytest.raises(ParameterError, match=r"lfo_1/frequency.*not finite.*\[0, 20\]"):
        voice.render(params)


def test_validate_for_jitted_callers(voice):
    voice.validate(np.full((3, 78), 0.25, np.float32))
    with pytest.raises(ParameterError, match="keyboard/midi_f0"):
        voice.validate(np.full((3, 78), -0.1, np.float32))


@pytest.mark.slow
def test_frozen_parameters(voice):
    free = [n for n in voice.parameter_names if not n.startswith("mod_matrix/")] + ["mod_matrix/adsr_1->vco_1_pitch"]
    fixed = {n: 0.0 for n in voice.parameter_names if n not in free}
    subset = voice.subset(free, fixed)
    assert subset.size == 59
    sub = jax.random.uniform(jax.random.PRNGKey(4), (4, subset.size))
    full = subset.expand(sub)
    assert full.shape == (4, 78)
    np.testing.assert_array_equal(np.asarray(subset.select(full)), np.asarray(sub))
    assert float(jnp.abs(full[:, voice.index("mod_matrix/lfo_2->noise_amp")]).max()) == 0.0
    grad = jax.grad(lambda s: jnp.sum(jaxsynth.render(subset.expand(s), voice.noise_rows[0], SMALL, "xla") ** 2))(sub)
    assert grad.shape == sub.shape and np.isfinite(np.asarray(grad)).all()
    with pytest.raises(ValueError, match="neither free nor fixed"):
        voice.subset(free, {})
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        voice.subset(free, {**fixed, "mod_matrix/lfo_2->noise_amp": 2.0})
    with pytest.raises(KeyError, match="unknown parameter"):
        voice.subset(free + ["vco_3/tuning"], fixed)


def test_physical_round_trip(voice):
    params = voice.random_params(jax.random.PRNGKey(5))
    physical = voice.to_physical(params)
    assert float(physical[:, voice.index("keyboard/midi_f0")].max()) <= 127
    np.testing.assert_allclose(np.asarray(voice.to_physical(voice.to_0to1(physical))), np.asarray(physical), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sample_rate=0), "sample_rate"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(buffer_size_seconds=-1.0), "buffer_size_seconds"),
        (dict(control_rate=96000), "control_rate"),
        (dict(buffer_size_seconds=0.001), "fewer than 2 control samples"),
    ],
)
def test_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SynthConfig(**kwargs)


def test_unknown_impl():
    with pytest.raises(ValueError, match="valid: xla, cpu_kernel"):
        Voice(SMALL, impl="cuda")
