"""The loss of one training phase (thesis sections 4.3-4.6): its static description and its terms.

Objective per example, averaged over the batch (terms from `vae.losses`):
  total = [recon] L_recon(raw, x) + alpha L_clamp(raw) + beta L_spectral(audio(x), audio(raw)) + L_KL
  eq. 4.4 (Exp 1/2): recon and spectral on, beta calibrated so beta*spectral : recon = 3 : 1 on
  the initial model (`vae.steps.calibrate_beta`); eq. 4.5 (Exp 3 phase 1): spectral off; eq. 4.6
  (Exp 3 phase 2): recon off, beta = 1. Both audios are rendered by jaxsynth inside the step with the
  same noise; whether the spectral gradient reaches the weights is `ModelConfig.synth_head`
  (`models.render_pair`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth import ParameterSubset, SynthConfig
from spectral import features
from spectral import losses as spectral_losses
from vae import losses, models
from vae.config import LossConfig, PhaseConfig, RunConfig
from vae.models import ModelConfig

TERMS = ("total", "recon", "clamp", "spectral", "kl")
SPECTRAL_TERMS = ("spectral", "mss")

@dataclasses.dataclass(frozen=True)
class Objective:
    """Static description of one phase's loss (hashable: a jit-static argument).

    batch_size: patches per step (and per evaluation batch).
    impl: jaxsynth's rendering implementation, a property of the machine rather than of the run
      (None: the backend's default, `jaxsynth.voice.resolve_impl`).
    """

    model: ModelConfig
    synth: SynthConfig
    subset: ParameterSubset
    loss: LossConfig
    recon: bool
    spectral: bool
    batch_size: int
    impl: Optional[str] = None

    @property
    def renders_in_step(self) -> bool:
        """Whether the training step needs the synth: only when the spectral term's gradient reaches the
        weights (the synth head). Experiment 1's step skips it (same updates: that gradient is exactly
        0) and its spectral term is measured on the validation set only."""
        return self.spectral and self.model.synth_head


def objective(config: RunConfig, phase: PhaseConfig) -> Objective:
    """The phase's objective, rendering with the backend's default jaxsynth implementation."""
    return Objective(config.model, config.synth, config.subset(), config.loss, phase.recon, phase.spectral,
                     phase.batch_size)


def example_terms(obj: Objective, params, x, z_rng, noise, *, inputs=None, weight=None,
                  render: bool = True) -> dict[str, jax.Array]:
    """Per-example parts of the loss for patches x [B, k] in [0, 1] and noise [B, n] or rows [r, n]
    repeating over the batch (`Voice.batch_noise`); `combine` turns their means into the objective.

    'recon', 'clamp' (alpha included), 'kl' [B] and 'kl_dims' [B, latent] always; with a spectral
    term and render=True (a training step renders only when `Objective.renders_in_step`):
    'spectral' [B], the thesis's per-example loss, plus for the batch reduction of a convergence loss
    its energies 'spectral_diff', 'spectral_ref' [B], and with mss_weight the multi-resolution parts
    'mss_diff', 'mss_ref' [B, R] and 'mss_log' [B] (`spectral_losses.multiscale_parts`); with distance_weight,
    'distance' [B] (`losses.distance_preservation`; weight [B] marks real rows, None: all).
    inputs [B, encoder_width]: what the encoder reads (the sounds' log-mel frames when the model hears;
    None: x itself).
    """
    inputs = x if inputs is None else inputs
    raw, mu, logvar = models.VAE(obj.model).apply({"params": params}, inputs, z_rng)
    each = jax.vmap  # The vae.losses terms are batch means; vmapped they give one value per example.
    terms = {
        "recon": each(losses.param_reconstruction_loss)(raw, x),
        "clamp": each(functools.partial(losses.clamp_loss, alpha=obj.loss.alpha))(raw),
        "kl": each(losses.kl_divergence)(mu, logvar),
        "kl_dims": 0.5 * (jnp.square(mu) + jnp.exp(logvar) - logvar - 1.0),
    }
    if obj.loss.distance_weight:
        terms["distance"] = losses.distance_preservation(mu, inputs, weight)
    if not (obj.spectral and render):
        return terms
    if obj.loss.spectral_frozen:  # The spectral gradient does not reach these columns (LossConfig).
        frozen = np.isin(np.asarray(obj.subset.names), obj.loss.spectral_frozen)
        raw = jnp.where(frozen, jax.lax.stop_gradient(raw), raw)
    target, pred = models.render_pair(x, raw, noise, obj.subset, obj.synth, obj.model.synth_head, obj.impl)
    loss = obj.loss
    if loss.batch_convergence:
        diff, ref = spectral_losses.convergence_energies(loss.spectral, target, pred, loss.feature, loss.feature_config)
        terms.update(spectral=features.safe_sqrt(diff) / (features.safe_sqrt(ref) + spectral_losses.EPS),
                     spectral_diff=diff, spectral_ref=ref)
    else:
        terms["spectral"] = each(functools.partial(spectral_losses.spectral_loss, loss.spectral, feature_name=loss.feature,
                                                   feature_cfg=loss.feature_config))(target, pred)
    if loss.mss_weight and obj.renders_in_step:
        parts = spectral_losses.multiscale_parts(target, pred, loss.feature_config)
        terms.update(mss_diff=parts["diff"], mss_ref=parts["ref"], mss_log=parts["log"])
    return terms


def combine(obj: Objective, means: dict, beta, kl_weight, *, free_bits: bool = True,
            spectral_in_total: bool = True) -> dict[str, jax.Array]:
    """'spectral', 'mss' and 'total' from means of `example_terms` over a batch (or a whole set):

      total = [recon] + clamp + beta (spectral + mss_weight mss) + kl_weight KL + distance_weight distance

    where spectral is the batch-level ratio when LossConfig.spectral_reduction is 'batch' (else the
    mean of per-example values), and KL is floored per dimension at LossConfig.free_bits nats when
    `free_bits` (training) and that is set. spectral_in_total=False leaves the spectral terms out
    (what `monitored` needs in Experiment 1). Terms a batch lacks (no rendering) count as 0.
    """
    loss = obj.loss
    zero = jnp.zeros((), jnp.float32)
    if "spectral_diff" in means:
        spectral = spectral_losses.convergence(means["spectral_diff"], means["spectral_ref"], "batch")
    else:
        spectral = means.get("spectral", zero)
    mss = (spectral_losses.multiscale_spectral({"diff": means["mss_diff"], "ref": means["mss_ref"], "log": means["mss_log"]})
           if "mss_diff" in means else zero)
    kl = losses.free_bits_kl(means["kl_dims"], loss.free_bits) if free_bits and loss.free_bits else means["kl"]
    total = (means["recon"] if obj.recon else 0.0) + means["clamp"] + kl_weight * kl
    if "distance" in means:
        total = total + loss.distance_weight * means["distance"]
    if spectral_in_total:
        total = total + beta * (spectral + loss.mss_weight * mss)
    return {"spectral": spectral, "mss": mss, "total": total}


def logged_terms(loss: LossConfig) -> tuple[str, ...]:
    """The terms each epoch's metrics record holds for train and val: `TERMS`, then 'mss' and 'distance' where
    the loss has them."""
    return (*TERMS, *(("mss",) if loss.mss_weight else ()), *(("distance",) if loss.distance_weight else ()))


def kl_weight_at(loss: LossConfig, epoch):
    """KL weight during `epoch` (0-based) of a phase: linear warm-up over kl_warmup_epochs, then kl_weight."""
    if loss.kl_warmup_epochs == 0:
        return loss.kl_weight
    return loss.kl_weight * min(1.0, (epoch + 1) / loss.kl_warmup_epochs)


def monitored(obj: Objective, means: dict, beta: float) -> float:
    """The validation value early stopping and the best checkpoint watch: the minimized objective (free
    bits included: the KL they allow must not count against a model) at the full KL weight, without the
    spectral terms when their gradient cannot reach the weights (Experiment 1's spectral term is
    logged, never minimized, so it must not choose the model)."""
    return float(combine(obj, means, beta, obj.loss.kl_weight, spectral_in_total=obj.renders_in_step)["total"])
