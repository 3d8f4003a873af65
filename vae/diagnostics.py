"""What a VAE has learned, in numbers that show posterior collapse at a glance.

- active units: latent dimensions whose encoder mean varies over the data, Var_x[mu_d(x)] >
  0.01 (Burda et al., 2016); a collapsed model has none;
- KL per latent dimension (nats, mean over the data): how much each dimension carries;
- parameter error from the posterior mean, sum over parameters of (x - clamp01(decode(mu)))^2
  per patch (the thesis's L_recon without sampling), per parameter and in total, beside two
  references on the same patches: the mean patch (the training mean for every patch: what a
  collapsed model converges to) and the best linear code of the same width (PCA of the training
  set with latent_dim components: what an ideal linear autoencoder keeps).

All functions are pure NumPy/JAX over arrays: x [n, k] in [0, 1], mu/logvar [n, latent].
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import numpy as np

from vae import models

ACTIVE_UNIT_VARIANCE = 0.01  # Var over the data of a latent mean above which the unit is active.


def kl_per_dim(mu, logvar) -> np.ndarray:
    """KL(q(z_d|x) || N(0, 1)) per latent dimension, mean over the n rows: [n, latent] -> [latent], nats."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return np.mean(0.5 * (mu ** 2 + np.exp(logvar) - logvar - 1.0), axis=0)


def active_units(mu, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """Latent dimensions whose mean varies over the data by more than `threshold` (variance): [n, latent] -> int."""
    return int(np.sum(np.var(np.asarray(mu, np.float64), axis=0) > threshold))


def squared_errors(x, x_hat) -> np.ndarray:
    """Mean over rows of (x - x_hat)^2 per parameter: [n, k], [n, k] -> [k]."""
    return np.mean(np.square(np.asarray(x, np.float64) - np.asarray(x_hat, np.float64)), axis=0)


def mean_patch(train) -> np.ndarray:
    """The mean-patch predictor: the training mean [k] of train [n, k]."""
    return np.asarray(train, np.float64).mean(axis=0)


def linear_code(train, x, width: int) -> np.ndarray:
    """x [n, k] projected on the first `width` principal axes of train and back, clipped to [0, 1]: the best
    linear autoencoder with a `width`-dimensional code (a reference, not a bound, for a nonlinear VAE)."""
    train = np.asarray(train, np.float64)
    centre = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - centre, full_matrices=False)
    axes = vt[:width]
    return np.clip(centre + (np.asarray(x, np.float64) - centre) @ axes.T @ axes, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Diagnostics:
    """Latent and reconstruction diagnostics of a model on one set of patches.

    Attributes:
      active_units: see module doc; kl_per_dim: [latent] nats.
      param_error: mean over patches of the summed squared parameter error from mu.
      mean_patch_error, linear_code_error: the same for the two references.
      per_param, per_param_mean_patch: [k] mean squared error of each parameter (model, mean patch).
    """

    active_units: int
    kl_per_dim: tuple[float, ...]
    param_error: float
    mean_patch_error: float
    linear_code_error: float
    per_param: tuple[float, ...]
    per_param_mean_patch: tuple[float, ...]

    @property
    def kl(self) -> float:
        return float(sum(self.kl_per_dim))

    def as_record(self, prefix: str) -> dict:
        """Flat JSON-ready record, keys `prefix/<name>` (lists stay lists)."""
        out = {f"{prefix}/{f.name}": (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
               for f in dataclasses.fields(self)}
        out[f"{prefix}/kl_total"] = self.kl
        return out


def diagnose(config: models.ModelConfig, params, x, train, inputs=None) -> Diagnostics:
    """Diagnostics of the model (Flax `params` of `models.VAE(config)`) on patches x [n, k] in [0, 1], whose
    encoder inputs are `inputs` (None: x itself); the references are fitted on train [m, k]."""
    x = np.asarray(x, np.float32)
    mu, logvar, x_hat = _encode_decode(config, params, x if inputs is None else np.asarray(inputs, np.float32))
    per = squared_errors(x, x_hat)
    centre = mean_patch(train)
    per_mean = squared_errors(x, np.broadcast_to(centre, x.shape))
    linear = squared_errors(x, linear_code(train, x, config.latent_dim))
    return Diagnostics(active_units(mu), tuple(float(v) for v in kl_per_dim(mu, logvar)), float(per.sum()),
                       float(per_mean.sum()), float(linear.sum()), tuple(float(v) for v in per),
                       tuple(float(v) for v in per_mean))


@functools.partial(jax.jit, static_argnames=("config",))
def _posterior_mean_reconstruction(params, inputs, *, config: models.ModelConfig):
    model = models.VAE(config)
    mu, logvar = model.apply({"params": params}, inputs, method="encode")
    return mu, logvar, models.clamp01(model.apply({"params": params}, mu, method="decode"))


def _encode_decode(config: models.ModelConfig, params, inputs):
    """(mu, logvar, clamp01(decode(mu))) of encoder inputs [n, encoder_width], as NumPy arrays."""
    return tuple(np.asarray(a) for a in _posterior_mean_reconstruction(params, inputs, config=config))
