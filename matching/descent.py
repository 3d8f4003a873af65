"""Batched gradient descent of the matching loss over an unconstrained parametrization, under a
time budget: the engine of the direct method (logits of the free parameters) and of the latent
method (z through a trained VAE's decoder)."""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from vae import models
from matching.problem import Problem, history_row


def to_params(x: jnp.ndarray, decoder: models.ModelConfig | None, variables) -> jnp.ndarray:
    """Free parameters [B, k] in [0, 1] from x [B, d]: sigmoid(x) (logits), or clamp01(decode(x)) (latents)."""
    if decoder is None:
        return jax.nn.sigmoid(x)
    return models.clamp01(models.VAE(decoder).apply(variables, x, method="decode"))


@functools.partial(jax.jit, static_argnames=("problem", "decoder", "lr", "steps"))
def descend_chunk(problem: Problem, decoder, lr: float, steps: int, carry, variables, target, noise):
    """`steps` Adam steps on every start at once (one render of each start per step).

    carry: (x [B, d], Adam state, best_x [B, d], best_distance [B]); each start keeps the point of
    its lowest spectral distance seen. Returns (carry, (best distance so far [steps], lowest loss [steps])).
    Non-finite gradients are zeroed so one bad start cannot poison the batch.
    """
    opt = optax.adam(lr)

    def objective(x):
        loss, dist = problem.terms(to_params(x, decoder, variables), target, noise)
        return jnp.sum(loss), (loss, dist)

    def step(c, _):
        x, opt_state, best_x, best_d = c
        (_, (loss, dist)), grad = jax.value_and_grad(objective, has_aux=True)(x)
        better = dist < best_d
        best_x = jnp.where(better[:, None], x, best_x)
        best_d = jnp.where(better, dist, best_d)
        updates, opt_state = opt.update(jnp.where(jnp.isfinite(grad), grad, 0.0), opt_state, x)
        return (optax.apply_updates(x, updates), opt_state, best_x, best_d), (jnp.min(best_d), jnp.min(loss))

    return jax.lax.scan(step, carry, None, length=steps)


def descend(problem: Problem, x0: np.ndarray, target: np.ndarray, noise, budget_s: float, max_steps: int,
            lr: float, chunk: int = 10, decoder: models.ModelConfig | None = None, variables=None,
            renders0: int = 0):
    """Descends from starts x0 [B, d] until budget_s seconds or max_steps steps (whole chunks; at
    least one, and none that would end past budget_s at the last chunk's pace).
    Returns (best_x [B, d], best distance [B], history rows, renders0 + renders, seconds)."""
    x0 = jnp.asarray(x0, jnp.float32)
    carry = (x0, optax.adam(lr).init(x0), x0, jnp.full(x0.shape[:1], jnp.inf, jnp.float32))
    target = jnp.asarray(target, jnp.float32)
    history, steps, start, last = [], 0, time.perf_counter(), 0.0
    while steps == 0 or (steps < max_steps and time.perf_counter() - start + last < budget_s):
        began = time.perf_counter()
        carry, (best, loss) = descend_chunk(problem, decoder, lr, chunk, carry, variables, target, noise)
        jax.block_until_ready(carry)
        last = time.perf_counter() - began  # no chunk is started that the last one says would end past budget_s
        for b, l in zip(np.asarray(best), np.asarray(loss)):
            steps += 1
            history.append(history_row(renders0 + steps * len(x0), b, l))
    return (np.asarray(carry[2]), np.asarray(carry[3]), history, renders0 + steps * len(x0), time.perf_counter() - start)
