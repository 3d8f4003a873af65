"""vae.losses, the VAE's own terms: parameter reconstruction, KL divergence, the clamp penalty and the spectral
weight that sets a ratio."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vae import losses


def test_param_reconstruction_loss_sums_params_means_batch():
    pred = jnp.array([[1.0, 2.0], [0.5, 0.5]])
    target = jnp.array([[0.0, 0.0], [0.5, 0.5]])
    assert float(losses.param_reconstruction_loss(pred, target)) == pytest.approx(2.5)


def test_kl_divergence():
    mu = jnp.array([[0.0, 0.0], [1.0, 2.0]])
    logvar = jnp.array([[0.0, 0.0], [0.0, math.log(2.0)]])
    want = 0.5 * (0.0 + (1 + 1 - 0 - 1) + (4 + 2 - math.log(2.0) - 1)) / 2
    assert float(losses.kl_divergence(mu, logvar)) == pytest.approx(want, rel=1e-6)


def test_clamp_loss():
    raw = jnp.array([[-0.5, 0.5, 1.25], [0.0, 1.0, 0.3]])
    assert float(losses.clamp_loss(raw)) == pytest.approx(100.0 * (0.25 + 0.0625) / 2)
    assert float(losses.clamp_loss(raw, alpha=1.0)) == pytest.approx((0.25 + 0.0625) / 2)
    grad = np.asarray(jax.grad(losses.clamp_loss)(raw))
    np.testing.assert_allclose(grad, [[-50.0, 0.0, 25.0], [0.0, 0.0, 0.0]])


def test_spectral_weight_for_ratio():
    beta = losses.spectral_weight_for_ratio(jnp.float32(2.0), 4.0)
    assert beta == pytest.approx(6.0)
    assert beta * 2.0 / 4.0 == pytest.approx(3.0)  # beta * spectral : recon = 3 : 1.
    with pytest.raises(ValueError):
        losses.spectral_weight_for_ratio(0.0, 1.0)
