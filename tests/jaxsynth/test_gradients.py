"""Gradients of a spectral loss through `render`: finite everywhere, right against finite
differences, and equal to torch.autograd through torchsynth where torch's gradient is defined."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import SynthConfig, parity, voice as voice_lib

CONFIG = SynthConfig(batch_size=8, sample_rate=16000, buffer_size_seconds=0.25, control_rate=400)


def log_spectral_distance(audio, target, n_fft=256, hop=128):
    """Mean |log(|X|^2 + 1e-7) - log(|Y|^2 + 1e-7)| over frames of [..., n] signals."""
    def power(x):
        n_frames = 1 + (x.shape[-1] - n_fft) // hop
        idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
        spec = jnp.fft.rfft(x[..., idx] * jnp.hanning(n_fft), axis=-1)
        return jnp.real(spec) ** 2 + jnp.imag(spec) ** 2

    return jnp.mean(jnp.abs(jnp.log(power(audio) + 1e-7) - jnp.log(power(target) + 1e-7)))


def loss_fn(params01, target, noise, impl):
    return log_spectral_distance(voice_lib.render(params01, noise, CONFIG, impl), target)


@functools.lru_cache(maxsize=None)
def _grad(impl):
    return jax.jit(jax.grad(loss_fn), static_argnums=3)


def _noise():
    return voice_lib.Voice(CONFIG).noise_rows[:1]


@pytest.mark.slow
@pytest.mark.parametrize("impl", voice_lib.IMPLEMENTATIONS)
def test_finite_at_random_patches_and_every_extreme(impl):
    rng = np.random.default_rng(0)
    extremes, labels = parity.extreme_patches(rng)
    params = np.concatenate([parity.random_patches(rng, 36), extremes])
    target = voice_lib.render(jnp.asarray(parity.random_patches(rng, 1)), _noise(), CONFIG, "xla")
    bad = []
    for start in range(0, len(params), 32):
        grads = np.asarray(_grad(impl)(jnp.asarray(params[start : start + 32]), target, _noise(), impl))
        bad += [start + i for i in np.nonzero(~np.isfinite(grads).all(axis=1))[0]]
    assert not bad, [labels[i - 36] if i >= 36 else f"random#{i}" for i in bad]


@pytest.mark.slow
def test_kernel_and_xla_gradients_agree():
    """The kernel's backward pass is the XLA one; only the forward audio (float32 roundings) differs."""
    params = jnp.asarray(parity.random_patches(np.random.default_rng(1), 8))
    target = voice_lib.render(params[::-1], _noise(), CONFIG)

    def mse_grad(impl):
        return np.asarray(jax.grad(lambda p: jnp.mean((voice_lib.render(p, _noise(), CONFIG, impl) - target) ** 2))(params))

    g_xla, g_kernel = mse_grad("xla"), mse_grad("cpu_kernel")
    np.testing.assert_allclose(g_kernel, g_xla, rtol=1e-3, atol=1e-5 * np.abs(g_xla).max())


SMOOTH = ["adsr_1/sustain", "mixer/vco_1", "mixer/vco_2", "vco_2/shape", "mod_matrix/adsr_1->vco_1_amp", "lfo_1/sin"]


@pytest.mark.slow
def test_matches_finite_differences():
    """Directional derivatives along smooth parameters vs central differences (float32: eps 1e-3).

    An MSE loss: a log-spectral one is too rough in float32 for differences to converge."""
    rng = np.random.default_rng(3)
    params = parity.random_patches(rng, 4) * 0.6 + 0.2
    target = jnp.asarray(voice_lib.render(jnp.asarray(parity.random_patches(rng, 1)), _noise(), CONFIG, "xla"))

    def mse(p):
        return jnp.mean((voice_lib.render(p, _noise(), CONFIG, "xla") - target) ** 2)

    f = jax.jit(mse)
    grad = np.asarray(jax.jit(jax.grad(mse))(jnp.asarray(params)))
    eps = 1e-3
    for name in SMOOTH:
        col = voice_lib.PARAMETER_NAMES.index(name)
        step = np.zeros_like(params)
        step[:, col] = eps
        numeric = (float(f(jnp.asarray(params + step))) - float(f(jnp.asarray(params - step)))) / (2 * eps)
        analytic = grad[:, col].sum()
        assert analytic == pytest.approx(numeric, rel=0.02, abs=1e-5), name


@pytest.mark.slow
def test_matches_torch_autograd(tb):
    """torchsynth's own gradient (where defined: interior values, low notes) equals ours."""
    import torch

    config = SynthConfig(batch_size=32, sample_rate=16000, buffer_size_seconds=0.25, control_rate=400)
    rng = np.random.default_rng(4)
    params = (rng.uniform(0.15, 0.85, (32, 78))).astype(np.float32)
    params[:, voice_lib.PARAMETER_NAMES.index("keyboard/midi_f0")] = rng.uniform(0.3, 0.5, 32)
    tvoice = tb.torch_voice(config)
    tb.write_params(tvoice, params)
    audio = tvoice.output()
    loss = (audio**2).mean()
    loss.backward()
    torch_grad = np.stack([p.grad.numpy() for _, p in tvoice.named_parameters()], axis=1)
    noise = jnp.asarray(tb.read_noise(tvoice, unique_rows=True))
    ours = np.asarray(jax.grad(lambda p: jnp.mean(voice_lib.render(p, noise, config, "xla") ** 2))(jnp.asarray(params)))
    finite = np.isfinite(torch_grad)
    assert finite.mean() > 0.9
    a, b = ours[finite], torch_grad[finite]
    assert np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.999
    np.testing.assert_allclose(a, b, rtol=0.02, atol=1e-3 * np.abs(b).max())
