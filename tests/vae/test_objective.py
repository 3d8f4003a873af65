"""The objective's settings beside the thesis's (KL weight, warm-up, free bits, batch-level spectral
convergence, multi-resolution term), what early stopping watches, and vae.diagnostics."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import SynthConfig, Voice
from spectral import sizing
from spectral import losses as spectral_losses
from common.bounds import SettingError
from vae import data, diagnostics, flags, losses, models, objective, presets, settings
from vae.config import LossConfig
from vae.models import ModelConfig

SYNTH = SynthConfig(batch_size=4, sample_rate=4000, buffer_size_seconds=0.1)
FEATURES = sizing.feature_config(SYNTH)


def _objective(synth_head: bool, **loss) -> objective.Objective:
    return objective.Objective(ModelConfig(63, (32, 16), 8, synth_head), SYNTH, data.parameter_subset(),
                           LossConfig("sclp", "stft", FEATURES, **loss), recon=True, spectral=True, batch_size=4)


def _batch():
    voice = Voice(SYNTH)
    x = data.parameter_subset().select(voice.random_params(jax.random.PRNGKey(2), 4))
    return x, voice.default_noise(4)


def _loss_and_grads(obj: objective.Objective, render: bool, kl_weight=1.0, beta=2.0):
    params = models.init(obj.model, 0)["params"]
    x, noise = _batch()

    def loss(p):
        terms = objective.example_terms(obj, p, x, jax.random.PRNGKey(3), noise, render=render)
        means = {k: v.mean(axis=0) for k, v in terms.items()}
        return objective.combine(obj, means, beta, kl_weight)["total"]

    return jax.value_and_grad(loss)(params)


@pytest.mark.slow
def test_experiment1_step_without_the_synth_has_the_same_gradient():
    """Experiment 1's spectral gradient is exactly 0, so skipping the synth leaves every gradient unchanged."""
    obj = _objective(synth_head=False)
    assert not obj.renders_in_step and _objective(synth_head=True).renders_in_step
    (with_synth, g1), (without, g2) = _loss_and_grads(obj, True), _loss_and_grads(obj, False)
    assert float(with_synth) > float(without)  # The value differs by beta * spectral ...
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):  # ... the gradient does not.
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_kl_weight_scales_only_the_kl_term():
    obj = _objective(synth_head=False)
    params = models.init(obj.model, 0)["params"]
    x, noise = _batch()
    terms = objective.example_terms(obj, params, x, jax.random.PRNGKey(3), noise, render=False)
    means = {k: v.mean(axis=0) for k, v in terms.items()}
    full, light = (float(objective.combine(obj, means, 0.0, w)["total"]) for w in (1.0, 0.01))
    assert full - light == pytest.approx(0.99 * float(means["kl"]), rel=1e-3)


def test_free_bits_floor_each_dimension_and_stop_its_gradient():
    kl = jnp.array([0.05, 0.5, 2.0])
    assert float(losses.free_bits_kl(kl, 0.25)) == pytest.approx(0.25 + 0.5 + 2.0)
    grad = jax.grad(lambda k: losses.free_bits_kl(k, 0.25))(kl)
    np.testing.assert_array_equal(np.asarray(grad), [0.0, 1.0, 1.0])
    obj = _objective(synth_head=False, free_bits=100.0)  # Every dimension under the floor: no KL gradient.
    means = {"recon": jnp.float32(1.0), "clamp": jnp.float32(0.0), "kl": jnp.float32(3.0),
             "kl_dims": jnp.full(8, 0.375)}
    assert float(objective.combine(obj, means, 0.0, 1.0)["total"]) == pytest.approx(1.0 + 800.0)
    assert float(objective.combine(obj, means, 0.0, 1.0, free_bits=False)["total"]) == pytest.approx(4.0)


def test_kl_warmup_is_linear_then_constant():
    loss = LossConfig(kl_weight=0.5, kl_warmup_epochs=4)
    assert [objective.kl_weight_at(loss, e) for e in range(6)] == [0.125, 0.25, 0.375, 0.5, 0.5, 0.5]
    assert objective.kl_weight_at(LossConfig(), 0) == 1.0


def test_monitored_value_leaves_out_a_spectral_term_without_gradient():
    means = {"recon": 2.0, "clamp": 0.5, "kl": 3.0, "kl_dims": np.full(8, 3.0 / 8), "spectral": 10.0}
    assert objective.monitored(_objective(synth_head=False, kl_weight=0.1), means, 4.0) == pytest.approx(2.8)
    assert objective.monitored(_objective(synth_head=True, kl_weight=0.1), means, 4.0) == pytest.approx(42.8)
    # Free bits: KL under the floor does not count against the model (0.5 nat x 8 dimensions).
    assert objective.monitored(_objective(synth_head=False, free_bits=0.5), means, 4.0) == pytest.approx(6.5)


def test_per_example_convergence_makes_silence_score_one_and_batch_reduction_weighs_energy():
    rng = np.random.default_rng(0)
    target = jnp.asarray(rng.normal(size=(4, 400)).astype(np.float32) * np.array([[1.0], [1.0], [1e-3], [1e-3]],
                                                                                   np.float32))
    silence = jnp.zeros_like(target)
    wrong = jnp.asarray(rng.normal(size=(4, 400)).astype(np.float32))  # Unrelated sounds at full level.
    d_sil, r = spectral_losses.convergence_energies("sclp", target, silence, "stft", FEATURES)
    d_wrong, _ = spectral_losses.convergence_energies("sclp", target, wrong, "stft", FEATURES)
    assert float(spectral_losses.convergence(d_sil, r, "example")) == pytest.approx(1.0, rel=1e-5)
    # The per-example mean explodes on the quiet targets; the batch ratio stays near sqrt(2).
    assert float(spectral_losses.convergence(d_wrong, r, "example")) > 100.0
    assert 1.0 < float(spectral_losses.convergence(d_wrong, r, "batch")) < 2.5
    # The example reduction from energies is the thesis's SCLP.
    np.testing.assert_allclose(float(spectral_losses.convergence(d_wrong, r, "example")),
                               float(spectral_losses.spectral_loss("sclp", target, wrong, "stft", FEATURES)), rtol=1e-5)
    with pytest.raises(ValueError, match="unknown reduction"):
        spectral_losses.convergence(d_sil, r, "median")


@pytest.mark.slow
def test_multiscale_term_ranks_silence_below_a_quieter_copy():
    rng = np.random.default_rng(1)
    target = jnp.asarray(rng.normal(size=(2, 400)).astype(np.float32))

    def mss(pred):
        return float(spectral_losses.multiscale_spectral(spectral_losses.multiscale_parts(target, pred, FEATURES)))

    assert mss(target) == pytest.approx(0.0, abs=1e-5)
    assert mss(0.5 * target) < mss(jnp.zeros_like(target))
    assert spectral_losses.multiscale_parts(target, target, FEATURES)["diff"].shape == (2, len(spectral_losses.MSS_SCALES))


@pytest.mark.slow
def test_batch_convergence_and_multiscale_reach_the_decoder_through_the_synth():
    obj = _objective(synth_head=True, spectral_reduction="batch", mss_weight=1.0)
    params = models.init(obj.model, 0)["params"]
    x, noise = _batch()
    terms = objective.example_terms(obj, params, x, jax.random.PRNGKey(3), noise)
    assert {"spectral_diff", "spectral_ref", "mss_diff", "mss_ref", "mss_log"} <= set(terms)
    value, grads = _loss_and_grads(obj, True)
    assert np.isfinite(float(value))
    assert all(np.all(np.isfinite(np.asarray(g))) for g in jax.tree.leaves(grads))


def test_loss_config_validates_its_settings():
    for bad in ({"kl_weight": 0.0}, {"kl_warmup_epochs": -1}, {"free_bits": -0.1}, {"mss_weight": -1.0},
                {"spectral_reduction": "sum"}):
        with pytest.raises(ValueError):
            LossConfig(**bad)
    assert LossConfig(spectral_reduction="batch").batch_convergence
    assert not LossConfig("logsl", spectral_reduction="batch").batch_convergence  # L1 losses: no difference.


def test_objective_layer_sits_between_case_and_scale():
    resolved = settings.resolve({"case": "Exp2-SCLP-ts", "objective": "IMPROVED", "scale": "quick", "kl_weight": 0.05})
    s = resolved.settings
    assert resolved.objective == "improved" and s["synth_head"] and s["loss"] == "sclp"
    assert (s["kl_weight"], s["spectral_reduction"], s["mss_weight"]) == (0.05, "batch", 1.0)
    assert any(line.startswith("objective improved expands to") for line in flags.expansions(resolved))
    thesis = settings.resolve({"case": "Exp2-SCLP-ts"}).settings
    assert (thesis["kl_weight"], thesis["spectral_reduction"], thesis["mss_weight"], thesis["free_bits"]) == \
        (1.0, "example", 0.0, 0.0)
    pretrained = settings.resolve({"case": "Exp2-SCLP-ts", "objective": "improved-pretrained", "scale": "quick"}).settings
    assert (pretrained["kl_weight"], pretrained["finetune_recon"], pretrained["ratio"]) == (0.01, True, 0.1)
    assert pretrained["spectral_frozen"] == ["pitch"] and thesis["spectral_frozen"] == []
    assert pretrained["pretrain_epochs"] == 30  # The objective's 500, capped by the quick scale.
    with pytest.raises(ValueError, match="unknown objective 'best'; valid: thesis, improved"):
        settings.resolve({"objective": "best"})


# ---------------------------------------------------------------- diagnostics


def test_active_units_and_kl_per_dimension():
    rng = np.random.default_rng(0)
    mu = np.stack([rng.normal(size=500), 0.05 * rng.normal(size=500), np.zeros(500)], -1)
    assert diagnostics.active_units(mu) == 1
    logvar = np.zeros_like(mu)
    np.testing.assert_allclose(diagnostics.kl_per_dim(mu, logvar), 0.5 * np.mean(mu ** 2, 0))


def test_linear_code_recovers_data_on_a_subspace():
    rng = np.random.default_rng(1)
    basis = rng.normal(size=(3, 10))
    train_x = 0.5 + 0.05 * rng.normal(size=(400, 3)) @ basis
    x = 0.5 + 0.05 * rng.normal(size=(50, 3)) @ basis
    np.testing.assert_allclose(diagnostics.linear_code(train_x, x, 3), np.clip(x, 0, 1), atol=1e-9)
    assert np.sum(diagnostics.squared_errors(x, diagnostics.linear_code(train_x, x, 1))) > 1e-4


def test_a_collapsed_model_scores_the_mean_patch_and_no_active_unit():
    config = ModelConfig(63, (32, 16), 8)
    params = models.init(config, 0)["params"]
    centre = np.full(63, 0.5, np.float32)
    # Zero every weight; the decoder's output bias is the mean patch, the encoder says the prior.
    params = jax.tree_util.tree_map_with_path(
        lambda p, v: jnp.asarray(centre) if jax.tree_util.keystr(p).endswith("['decoder']['out']['bias']")
        else jnp.zeros_like(v), params)
    rng = np.random.default_rng(2)
    train_x, x = rng.uniform(size=(300, 63)), rng.uniform(size=(100, 63)).astype(np.float32)
    d = diagnostics.diagnose(config, params, x, train_x)
    assert d.active_units == 0 and d.kl == pytest.approx(0.0, abs=1e-9)
    assert d.param_error == pytest.approx(float(np.mean(np.sum((x - 0.5) ** 2, -1))), rel=1e-5)
    assert d.param_error == pytest.approx(d.mean_patch_error, rel=0.05)
    assert d.linear_code_error < d.mean_patch_error
    record = d.as_record("val")
    assert record["val/active_units"] == 0 and len(record["val/per_param"]) == 63


@pytest.mark.slow
def test_spectral_frozen_parameters_get_no_spectral_gradient():
    """--spectral-frozen: the spectral term's value is unchanged, its gradient reaches no frozen column of
    the decoder's output (the parameter loss still does) and still reaches every other column."""
    frozen = presets.SPECTRAL_FROZEN_GROUPS["pitch"]
    names = data.parameter_subset().names
    columns = [names.index(n) for n in frozen]
    params = models.init(ModelConfig(63, (32, 16), 8, True), 0)["params"]
    out = params["decoder"]["out"]  # Decoded values near 0.5: no column clamped, so every one can get a gradient.
    params = {**params, "decoder": {**params["decoder"], "out": {"kernel": 0.01 * out["kernel"],
                                                                "bias": jnp.full_like(out["bias"], 0.5)}}}
    x, noise = _batch()

    def output_bias_grads(obj, term):
        def value(p):
            return objective.example_terms(obj, p, x, jax.random.PRNGKey(3), noise)[term].mean()
        return value(params), np.asarray(jax.grad(value)(params)["decoder"]["out"]["bias"])

    free_value, free_grad = output_bias_grads(_objective(synth_head=True), "spectral")
    value, grad = output_bias_grads(_objective(synth_head=True, spectral_frozen=frozen), "spectral")
    assert float(value) == float(free_value)
    assert np.all(grad[columns] == 0) and np.all(free_grad[columns] != 0)
    others = np.delete(np.arange(63), columns)
    np.testing.assert_allclose(grad[others], free_grad[others], rtol=1e-5, atol=1e-7)
    assert np.count_nonzero(grad[others]) > 50  # The others still learn from the sound.
    _, recon_grad = output_bias_grads(_objective(synth_head=True, spectral_frozen=frozen), "recon")
    assert np.all(recon_grad[columns] != 0)


def test_spectral_frozen_flag_expands_pitch_and_names_bad_names():
    names = data.parameter_subset().names
    assert settings.spectral_frozen_names(["pitch"], names) == ("keyboard/midi_f0", "vco_1/tuning", "vco_2/tuning")
    assert settings.spectral_frozen_names(["vco_2/tuning", "adsr_1/attack"], names) == ("adsr_1/attack", "vco_2/tuning")
    assert settings.spectral_frozen_names(["none"], names) == ()  # Overrides improved-pretrained's pitch.
    assert settings.spectral_frozen_names(["vco_9/tuning", "pitch"], names)[-1] == "vco_9/tuning"  # Refused next:
    resolved = settings.resolve({"scale": "tiny", "spectral_frozen": ["vco_9/tuning"]})
    with pytest.raises(SettingError, match="LossConfig.spectral_frozen names vco_9/tuning, which is not a free") as err:
        settings.check(resolved)
    assert flags.describe(err.value).startswith("--spectral-frozen names vco_9/tuning")
