"""vae.models: layer shapes, seeded init, and the gradient path of each mode (Exp 1 vs synth head)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import SynthConfig, Voice
from spectral import sizing
from vae import data, models, objective
from vae.models import ModelConfig
from vae.config import LossConfig


def _kernels(tree):
    return {path: leaf.shape for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]
            if path[-1].key == "kernel"}


def _shapes(params):
    return sorted((jax.tree_util.keystr(p), s) for p, s in _kernels(params).items())


@pytest.mark.parametrize("hidden,layers", [
    ((256, 64), [(63, 256), (256, 64), (64, 16), (64, 16), (16, 64), (64, 256), (256, 63)]),
    ((128,), [(63, 128), (128, 16), (128, 16), (16, 128), (128, 63)]),
])
def test_architecture_and_shapes(hidden, layers):
    config = ModelConfig(63, hidden, 16)
    variables = models.init(config, 0)
    assert sorted(s for _, s in _shapes(variables["params"])) == sorted(layers)
    x = jnp.full((5, 63), 0.5)
    raw, mu, logvar = models.VAE(config).apply(variables, x, jax.random.PRNGKey(1))
    assert raw.shape == (5, 63) and mu.shape == logvar.shape == (5, 16)
    mu2, _ = models.VAE(config).apply(variables, x, method="encode")
    np.testing.assert_array_equal(mu, mu2)
    assert models.VAE(config).apply(variables, mu, method="decode").shape == (5, 63)


def test_same_seed_same_weights_across_modes():
    a = models.init(ModelConfig(synth_head=False), 0)
    b = models.init(ModelConfig(synth_head=True), 0)
    c = models.init(ModelConfig(), 1)
    assert jax.tree.all(jax.tree.map(lambda u, v: bool(jnp.array_equal(u, v)), a, b))
    assert not jax.tree.all(jax.tree.map(lambda u, v: bool(jnp.array_equal(u, v)), a, c))


def test_reparameterize_and_clamp():
    mu = jnp.arange(4.0)
    z = models.reparameterize(jax.random.PRNGKey(0), mu, jnp.full(4, -40.0))
    np.testing.assert_allclose(z, mu, atol=1e-6)
    np.testing.assert_array_equal(models.clamp01(jnp.array([-2.0, 0.25, 1.7])), [0.0, 0.25, 1.0])


def test_sigmoid_output_stays_in_range_and_keeps_the_linear_default():
    x = jnp.linspace(0.0, 1.0, 5 * 63).reshape(5, 63)
    linear, sigmoid = ModelConfig(63, (32,), 8), ModelConfig(63, (32,), 8, output="sigmoid")
    variables = models.init(linear, 0)  # Same weights: the activation has no parameters.
    big = jax.tree.map(lambda v: 50.0 * v, variables)  # Pushes linear outputs far out of [0, 1].
    z = models.VAE(linear).apply(big, x, method="encode")[0]
    raw_lin, raw_sig = (models.VAE(c).apply(big, z, method="decode") for c in (linear, sigmoid))
    assert float(jnp.abs(raw_lin).max()) > 1.0
    assert bool(jnp.all((raw_sig >= 0.0) & (raw_sig <= 1.0)))
    np.testing.assert_allclose(raw_sig, jax.nn.sigmoid(raw_lin), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="ModelConfig.output 'tanh' is unknown; valid: linear, sigmoid"):
        ModelConfig(output="tanh")


def _spectral_grads(synth_head: bool):
    """Gradient of the mean spectral term w.r.t. all weights, on a tiny synth (eager, no jit).

    Uses the rendering implementation training uses on this backend (jaxsynth's CPU kernel on CPU).
    """
    synth = SynthConfig(batch_size=4, sample_rate=4000, buffer_size_seconds=0.1)
    voice = Voice(synth)
    subset = data.parameter_subset()
    model = ModelConfig(63, (32, 16), 8, synth_head)
    obj = objective.Objective(model, synth, subset, LossConfig("sclp", "stft", sizing.feature_config(synth)),
                          recon=True, spectral=True, batch_size=4)
    params = models.init(model, 0)["params"]
    # Pull the decoder's raw outputs into (0, 1) so the clamp passes gradients for most outputs.
    params = jax.tree_util.tree_map_with_path(
        lambda p, v: v * 0.05 + 0.5 if "out" in jax.tree_util.keystr(p) and p[-1].key == "bias" else v, params)
    x = subset.select(voice.random_params(jax.random.PRNGKey(2), 4))

    def spectral(p):
        return objective.example_terms(obj, p, x, jax.random.PRNGKey(3), voice.default_noise(4))["spectral"].mean()

    return jax.grad(spectral)(params)


@pytest.mark.slow
def test_spectral_gradient_is_exactly_zero_without_synth_head():
    grads = _spectral_grads(synth_head=False)
    leaves = jax.tree.leaves(grads)
    assert leaves and all(bool(jnp.all(g == 0.0)) for g in leaves)


@pytest.mark.slow
def test_spectral_gradient_reaches_decoder_with_synth_head():
    grads = _spectral_grads(synth_head=True)
    for part in ("decoder", "encoder"):
        leaves = jax.tree.leaves(grads[part])
        assert all(bool(jnp.all(jnp.isfinite(g))) for g in leaves)
        assert sum(float(jnp.abs(g).sum()) for g in leaves) > 0.0, part
