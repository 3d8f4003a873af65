"""The optimizer and the jitted steps of training: Adam with a per-epoch learning-rate schedule, one
training step, the evaluation of every term over a set, and the calibration of the spectral weight beta.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from vae import losses
from vae.config import ScheduleConfig
from vae.objective import Objective, combine, example_terms, monitored

CALIBRATION_BATCHES = 4  # Training batches the initial beta is measured on.


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """Adam with a per-epoch learning-rate schedule (hashable, so equal specs share one jit)."""

    learning_rate: float
    schedule: ScheduleConfig
    steps_per_epoch: int


def learning_rate(spec: OptimizerSpec, epoch):
    """Learning rate during `epoch` (0-based, int or traced): step decay at decay_start + i*decay_every.

    Not optax.exponential_decay(staircase=True): traced it gives the same bits, but on the host (the metrics
    record) it computes decay_factor ** n with lax.pow where this uses integer_pow, so the logged lr would change
    after 4 decays of a factor that is not a power of 2; and it clips a negative transition_begin to 0.
    """
    s = spec.schedule
    if s.kind == "constant":
        return spec.learning_rate
    n_decays = jnp.where(epoch >= s.decay_start, (epoch - s.decay_start) // s.decay_every + 1, 0)
    return spec.learning_rate * s.decay_factor ** n_decays


@functools.lru_cache(maxsize=None)
def optimizer(spec: OptimizerSpec) -> optax.GradientTransformation:
    return optax.adam(lambda count: learning_rate(spec, count // spec.steps_per_epoch))


@functools.partial(jax.jit, static_argnames=("obj", "opt", "batch_sharding"))
def train_step(params, opt_state, data, inputs, order, batch_index, beta, noise, key, step, kl_weight=1.0, *,
               obj: Objective, opt: OptimizerSpec, batch_sharding=None):
    """One Adam step on batch `batch_index` of the epoch's `order` over data [n, k], whose encoder inputs are
    inputs [n, encoder_width] (the same array as data when the encoder reads parameters).

    batch_sharding: a `jax.sharding.Sharding` the batch is split with (data parallelism,
    `vae.sharding`), or None. Returns (params, opt_state, batch means of every term and the
    gradient's global norm).
    """
    batch = obj.batch_size
    rows = jax.lax.dynamic_slice_in_dim(order, batch_index * batch, batch)
    x, inp = data[rows], inputs[rows]
    if batch_sharding is not None:
        x, inp = (jax.lax.with_sharding_constraint(a, batch_sharding) for a in (x, inp))
    z_rng = jax.random.fold_in(key, step)

    def loss_fn(p):
        terms = example_terms(obj, p, x, z_rng, noise, inputs=inp, render=obj.renders_in_step)
        means = {k: v.mean(axis=0) for k, v in terms.items()}
        combined = combine(obj, means, beta, kl_weight)
        return combined["total"], {**{k: means[k] for k in ("recon", "clamp", "kl", "distance") if k in means},
                                   **combined}

    (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = optimizer(opt).update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, dict(metrics, grad_norm=optax.tree.norm(grads))


@functools.partial(jax.jit, static_argnames=("obj",))
def _eval_sums(params, x, inputs, mask, noise, key, *, obj: Objective):
    terms = example_terms(obj, params, x, key, noise, inputs=inputs, weight=mask)
    return {k: jnp.tensordot(mask, v, axes=1) for k, v in terms.items()}


def evaluate(obj: Objective, params, x, beta: float, noise, key, inputs=None) -> dict[str, float]:
    """Every term over x [n, k] (batches of obj.batch_size, the last one masked), spectral terms included
    (reduced over the whole set), at the full KL weight; 'objective' is what early stopping watches
    (`monitored`). inputs [n, encoder_width]: what the encoder reads (None: x)."""
    batch = obj.batch_size
    x = np.asarray(x, np.float32)
    inputs = x if inputs is None else np.asarray(inputs, np.float32)
    n = len(x)
    pad = lambda a: np.concatenate([a, np.zeros((-n % batch, a.shape[1]), np.float32)])  # noqa: E731
    padded, padded_inputs = pad(x), pad(inputs)
    mask = (np.arange(len(padded)) < n).astype(np.float32)
    outs = [_eval_sums(params, padded[start:start + batch], padded_inputs[start:start + batch],
                       mask[start:start + batch], noise, jax.random.fold_in(key, i), obj=obj)
            for i, start in enumerate(range(0, len(padded), batch))]
    sums = {}
    for out in jax.device_get(outs):  # One host transfer; summed in batch order, in float64.
        for k, v in out.items():
            sums[k] = sums.get(k, 0.0) + np.asarray(v, np.float64)
    means = {k: v / n for k, v in sums.items()}
    combined = combine(obj, means, beta, obj.loss.kl_weight, free_bits=False)
    out = {k: float(means[k]) for k in ("recon", "clamp", "kl", "distance") if k in means}
    out.update({k: float(v) for k, v in combined.items()})
    out["objective"] = monitored(obj, means, beta)
    return out


def calibrate_beta(obj: Objective, params, x, ratio: float, noise, key, inputs=None) -> tuple[float, dict[str, float]]:
    """beta with beta * spectral : recon = ratio : 1 on x [n, k] (section 4.3); returns (beta, terms)."""
    terms = evaluate(obj, params, x, 0.0, noise, key, inputs)
    spectral = terms["spectral"] + obj.loss.mss_weight * terms["mss"]
    return losses.spectral_weight_for_ratio(spectral, terms["recon"], ratio), terms
