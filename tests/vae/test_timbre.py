"""The timbre space: an encoder that hears (vae.sound_input), the distance term, encode_audio, exported runs
(the organization measure: tests/eval/test_organization.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import SynthConfig
from vae import losses, pretrained, sound_input
from vae import run as run_lib
from vae.cli import train_main
from spectral.features import FeatureConfig
from spectral.sizing import feature_config

from tests.checkout import run_cli

MEL = sound_input.mel_config(feature_config(SynthConfig(batch_size=4, sample_rate=8000, buffer_size_seconds=0.25),
                                                "stft"))


def test_log_mel_width_floor_and_loudness():
    n = 2000
    t = np.arange(n) / 8000.0
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    feats = sound_input.of_audio(np.stack([np.zeros(n, np.float32), tone, 0.25 * tone]), MEL)
    assert feats.shape == (3, sound_input.width(MEL, n))
    floor = (sound_input.FLOOR_DB + sound_input.OFFSET_DB) / sound_input.SCALE_DB
    np.testing.assert_allclose(feats[0], floor, rtol=0, atol=1e-6)      # silence reads as the floor
    frames = feats.reshape(3, -1, MEL.n_mels)
    loud = frames[1].max(axis=0)
    quiet = frames[2].max(axis=0)
    peak = int(np.argmax(loud))
    # A quarter of the amplitude is 12.04 dB less power in every band above the floor.
    np.testing.assert_allclose((loud[peak] - quiet[peak]) * sound_input.SCALE_DB, 20 * np.log10(4), atol=1e-3)


def test_distance_preservation_is_zero_for_a_scaled_copy_and_ignores_padding():
    sound = jax.random.normal(jax.random.PRNGKey(0), (6, 40))
    mu = 3.0 * sound[:, :1]                    # 1-D sounds: their L1 distance is |difference|, the latent's is 3x
    stress = losses.distance_preservation(mu, sound[:, :1])
    np.testing.assert_allclose(stress, 0.0, atol=1e-6)
    shuffled = losses.distance_preservation(mu[::-1] * jnp.arange(1, 7)[:, None], sound[:, :1])
    assert float(shuffled.mean()) > 0.01
    # Padding rows (weight 0) change nothing for the real rows.
    padded_mu = jnp.concatenate([mu, jnp.zeros((2, 1))])
    padded_sound = jnp.concatenate([sound[:, :1], 5 + jnp.zeros((2, 1))])
    w = jnp.array([1.0] * 6 + [0.0] * 2)
    np.testing.assert_allclose(losses.distance_preservation(padded_mu, padded_sound, w)[:6], stress, atol=1e-6)
    # The gradient reaches mu, never the (data) sound features.
    g_mu, g_sound = jax.grad(lambda m, s: losses.distance_preservation(m, s).mean(), argnums=(0, 1))(
        mu[::-1] * 2.0, sound[:, :1])
    assert float(jnp.abs(g_mu).sum()) > 0 and float(jnp.abs(g_sound).sum()) == 0


def test_distance_weight_needs_an_encoder_that_hears(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(train_main, ["--scale", "tiny", "--distance-weight", "1", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "--distance-weight" in err and "--sound-input" in err
    assert not (tmp_path / "r").exists()


def test_timbre_run_encodes_sounds_and_exports(tiny_timbre_run, tiny_run, tmp_path):
    run = run_lib.load_run(tiny_timbre_run)
    assert run_lib.hears_audio(run) and run.config.model.encoder_width == run.config.model.n_inputs
    x = run.dataset.test
    from eval.reconstruct import make_voice, render_rows
    audio = render_rows(make_voice(run), run, x, run.synth_config.batch_size)
    mu_patches, _ = run_lib.encode(run, x)
    mu_audio, _ = run_lib.encode_audio(run, audio)
    np.testing.assert_allclose(mu_patches, mu_audio, atol=1e-5)   # a patch and its sound land on the same code
    with pytest.raises(ValueError, match="encodes synth parameters"):
        run_lib.encode_audio(run_lib.load_run(tiny_run), audio)
    with pytest.raises(ValueError, match="audio must have shape"):
        run_lib.encode_audio(run, audio[:, :-1])
    exported = pretrained.export(tiny_timbre_run, tmp_path / "exported")
    again = run_lib.load_run(exported)
    assert again.config.dataset_path == pretrained.DATASET_FILE and again.step == run.step
    np.testing.assert_array_equal(run_lib.encode_audio(again, audio)[0], mu_audio)
    with pytest.raises(FileExistsError):
        pretrained.export(tiny_timbre_run, exported)


@pytest.mark.slow
def test_shipped_model_loads_and_hears():
    run = run_lib.load_run(pretrained.DEFAULT_RUN)
    assert run_lib.hears_audio(run)
    assert (run.synth_config.sample_rate, run.synth_config.buffer_size_seconds) == (16000, 1.0)
    mu, _ = run_lib.encode(run, run.dataset.test[:8])
    assert mu.shape == (8, run.config.model.latent_dim) and np.all(np.isfinite(mu))
    # Its evaluation's map ships with it and fits the weights, so the explorer opens without computing UMAP.
    from explorer import space
    shipped = space.load_map(run, None, 2000, 0, progress=False)
    assert shipped.source == "evaluation" and len(shipped.xy) >= 500
