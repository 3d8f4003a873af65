"""SynthParam-VAE (thesis sections 2.3.1, 4.4-4.6) in Flax linen, and its synth decoder head.

Encoder: k parameters in [0, 1] -> Dense+ReLU hidden layers -> (mu, log sigma^2), [..., latent]; or,
for the timbre objective, the scaled log-mel frames of the patch's sound (`vae.sound_input`) instead of
the parameters (`ModelConfig.sound_input`): an encoder that hears, so that any sound can be encoded.
Decoder: z -> the hidden layers mirrored -> k raw outputs: linear (unbounded; the thesis) or
sigmoid (in (0, 1); `ModelConfig.output`). The raw outputs feed the clamp loss; `clamp01(raw)` is
what reaches the synth.

  Experiments 1/2: 63 -> 256 -> 64 -> 16 (mu, logvar) -> 64 -> 256 -> 63
  Experiment 3:    63 -> 128 -> 16 (mu, logvar) -> 128 -> 63

The thesis does not name its activations; hidden layers use ReLU and the output is linear
(a squashing output would make the clamp loss of section 4.3 meaningless). The sigmoid output is
an option for the synth head: out of [0, 1], clamping cuts the synth's gradient, and only the
clamp term pulls a linear output back (results/README.md, section 2).

Gradient paths of the spectral term (`render_pair`):
  synth_head=True  (Experiment 2, Experiment 3 fine-tuning): decoder -> clamp -> jaxsynth ->
      features -> loss; d(spectral)/d(weights) flows through the synth, end to end.
  synth_head=False (Experiment 1): the synth sat outside the model, so the decoded parameters
      pass `jax.lax.stop_gradient` before rendering; the spectral term is computed and logged
      but its gradient w.r.t. every weight is exactly zero.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import flax.linen as nn
import jax
import jax.numpy as jnp

import jaxsynth
from common import limits
from common.bounds import SettingError, check_choice, check_range
from jaxsynth import ParameterSubset, SynthConfig
from vae.data import n_free
from spectral.features import FeatureConfig

OUTPUTS = {"linear": lambda raw: raw, "sigmoid": jax.nn.sigmoid}  # Decoder output activations.


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture (hashable, a jit-static argument).

    Attributes:
      n_params: k, the number of free synth parameters (input and output width).
      hidden: encoder hidden widths, input side first; the decoder mirrors them.
      latent_dim: size of z (and of mu and logvar).
      synth_head: render decoded parameters inside the loss with gradients (see module doc).
      output: the decoder's last activation, 'linear' (the thesis) or 'sigmoid' (never out of [0, 1]:
        the clamp term is 0 and the synth's gradient is never cut by clamping).
      sound_input: None: the encoder reads the k parameters (the thesis); else the mel settings of the
        sound it reads instead (`vae.sound_input`), whose flattened frames are `n_inputs` wide.
      n_inputs: encoder input width with sound_input (frames * n_mels; `vae.sound_input.width`).
    """

    n_params: int = n_free()  # the thesis's 63
    hidden: tuple[int, ...] = (256, 64)
    latent_dim: int = 16
    synth_head: bool = False
    output: str = "linear"
    sound_input: Optional[FeatureConfig] = None
    n_inputs: Optional[int] = None

    def __post_init__(self):
        check_choice("ModelConfig.output", self.output, list(OUTPUTS))
        check_range("ModelConfig.n_params", self.n_params, 1)
        check_range("ModelConfig.hidden", self.hidden, 1, limit=limits.MAX_HIDDEN)
        check_range("ModelConfig.latent_dim", self.latent_dim, 1, limit=limits.MAX_LATENT)
        if (self.sound_input is None) != (self.n_inputs is None) or (self.n_inputs is not None and self.n_inputs < 1):
            raise SettingError("ModelConfig.n_inputs", f"{self.n_inputs!r} must be positive when the encoder hears "
                                                       "(sound_input) and None when it does not")

    @property
    def hears(self) -> bool:
        """Whether the encoder reads sounds (log-mel frames) rather than parameters."""
        return self.sound_input is not None

    @property
    def encoder_width(self) -> int:
        """Width of the encoder's input: n_inputs for sound, else the k parameters."""
        return self.n_params if self.n_inputs is None else self.n_inputs


class Encoder(nn.Module):
    """[..., k] -> (mu, logvar), each [..., latent_dim]."""

    hidden: tuple[int, ...]
    latent_dim: int

    @nn.compact
    def __call__(self, x):
        for i, width in enumerate(self.hidden):
            x = nn.relu(nn.Dense(width, name=f"hidden_{i}")(x))
        return nn.Dense(self.latent_dim, name="mu")(x), nn.Dense(self.latent_dim, name="logvar")(x)


class Decoder(nn.Module):
    """[..., latent_dim] -> raw parameters [..., n_params] (`OUTPUTS[output]` of the last layer, not clamped)."""

    hidden: tuple[int, ...]
    n_params: int
    output: str = "linear"

    @nn.compact
    def __call__(self, z):
        for i, width in enumerate(reversed(self.hidden)):
            z = nn.relu(nn.Dense(width, name=f"hidden_{i}")(z))
        return OUTPUTS[self.output](nn.Dense(self.n_params, name="out")(z))


def reparameterize(rng, mu, logvar):
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1) (eq. 2.9); [..., latent] -> [..., latent]."""
    return mu + jnp.exp(0.5 * logvar) * jax.random.normal(rng, mu.shape, mu.dtype)


class VAE(nn.Module):
    """Encoder + reparameterization + decoder; `__call__(inputs, z_rng) -> (raw, mu, logvar)`, where inputs
    [..., encoder_width] are the patches themselves, or their sounds' log-mel frames (`ModelConfig.hears`)."""

    config: ModelConfig

    def setup(self):
        self.encoder = Encoder(self.config.hidden, self.config.latent_dim)
        self.decoder = Decoder(self.config.hidden, self.config.n_params, self.config.output)

    def __call__(self, x, z_rng):
        mu, logvar = self.encoder(x)
        return self.decoder(reparameterize(z_rng, mu, logvar)), mu, logvar

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        """Raw decoder outputs [..., n_params]; apply `clamp01` for parameters."""
        return self.decoder(z)


def init(config: ModelConfig, seed: int):
    """Model variables from an integer seed: same seed and config, same initial weights."""
    return _init(config, jax.random.PRNGKey(seed))


@functools.partial(jax.jit, static_argnames=("config",))
def _init(config: ModelConfig, key):
    return VAE(config).init(key, jnp.zeros((1, config.encoder_width), jnp.float32), key)


def clamp01(raw):
    """Raw decoder outputs -> synth parameters in [0, 1] (section 4.3's clamping)."""
    return jnp.clip(raw, 0.0, 1.0)


def render_pair(x01, raw, noise, subset: ParameterSubset, synth: SynthConfig, synth_head: bool,
                impl: str | None = None):
    """(reference, decoded) audio, each [B, n], of input patches x01 [B, k] and raw decoder outputs [B, k].

    Both use the same noise: [B, n], or rows [r, n] repeating over the batch; impl is jaxsynth's
    ('xla', 'cpu_kernel' for a faster pass on CPU with the same values and gradients, or None
    for the backend's default). The reference is data (no gradient). The decoded
    parameters are clamp01(raw); with synth_head=False they pass `stop_gradient` (Experiment 1,
    synth outside the model: no gradient reaches the decoder through the audio) and both are
    rendered in one synth call on a [2B, 78] batch (one copy of the synth in the compiled
    step); with synth_head=True the synth is the decoder's last, differentiable layer
    (Experiment 2), and the reference gets its own call so that the backward pass runs over
    the B decoded rows only.
    """
    decoded01 = clamp01(raw)
    reference01 = jax.lax.stop_gradient(x01)
    if synth_head:
        reference = jaxsynth.render(subset.expand(reference01), noise, synth, impl)
        return jax.lax.stop_gradient(reference), jaxsynth.render(subset.expand(decoded01), noise, synth, impl)
    params01 = subset.expand(jnp.concatenate([reference01, jax.lax.stop_gradient(decoded01)]))
    # Noise rows repeat over a batch (jaxsynth.noise.check_noise_rows), so [B, n] or [r, n] noise
    # serves the [2B] batch as it serves each half.
    audio = jaxsynth.render(params01, noise, synth, impl)
    return audio[: x01.shape[0]], audio[x01.shape[0]:]
