"""spectral.losses: hand-computed cases, reductions, and safety on degenerate audio."""

import math

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

from spectral import features
from spectral import losses as spectral_losses

EPS = spectral_losses.EPS
LOSS_NAMES = sorted(spectral_losses.SPECTRAL_LOSSES)


def _all(target, pred):
    """Every spectral loss on one pair of features, as a dict of floats."""
    t, p = jnp.asarray(target), jnp.asarray(pred)
    return {k: float(fn(t, p)) for k, fn in spectral_losses.SPECTRAL_LOSSES.items()}


def test_phase_only_difference():
    # Same magnitudes [3, 4], first bin's phase flipped by pi.
    got = _all([[3 + 0j, 4j]], [[-3 + 0j, 4j]])
    for k in ('scl', 'logsl', 'lmsl'):
        assert got[k] == pytest.approx(0.0, abs=1e-6)
    assert got['sclp'] == pytest.approx(6.0 / 5.0, rel=1e-6)  # ||(6, 0)|| / ||(3, 4j)||.
    assert got['lslp'] == pytest.approx(6.0, rel=1e-6)
    assert got['logslp'] == pytest.approx(math.pi, rel=1e-6)  # |log3 + 0i - (log3 + pi i)|.


def test_magnitude_difference_real_positive():
    t = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)
    p = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    got = _all(t, p)
    assert got['scl'] == pytest.approx(math.sqrt(0 + 4 + 4 + 9) / 5.0, rel=1e-6)
    assert got['sclp'] == pytest.approx(got['scl'], rel=1e-6)
    assert got['lmsl'] == pytest.approx(7.0, rel=1e-6)
    assert got['lslp'] == pytest.approx(7.0, rel=1e-6)
    log_sl = np.sum(np.abs(np.log(t.astype(np.float64) + EPS) - np.log(p + EPS)))
    assert got['logsl'] == pytest.approx(log_sl, rel=1e-6)
    assert got['logslp'] == pytest.approx(log_sl, rel=1e-6)  # Phases all 0.


def test_real_feature_sign_is_its_phase():
    # MFCC-like real values: magnitude losses ignore the sign, P-variants do not.
    got = _all([[-1.0, 2.0]], [[1.0, 2.0]])
    assert got['scl'] == pytest.approx(0.0, abs=1e-6)
    assert got['sclp'] == pytest.approx(2.0 / math.sqrt(5.0), rel=1e-6)
    assert got['lslp'] == pytest.approx(2.0, rel=1e-6)
    assert got['logslp'] == pytest.approx(math.pi, rel=1e-6)


def test_log_slp_wraps_phase_difference():
    got = _all([[np.exp(3j)]], [[np.exp(-3j)]])  # Phases 3 and -3 are 2pi - 6 apart.
    assert got['logslp'] == pytest.approx(2 * math.pi - 6.0, rel=1e-5)


def test_complex_log_definition():
    x = jnp.array([2j, -1.0, 0.0, 1e-9], jnp.complex64)
    got = np.asarray(spectral_losses.complex_log(x, eps=1e-7))
    want = [np.log(2 + 1e-7) + 0.5j * np.pi, np.log(1 + 1e-7) + 1j * np.pi,
            np.log(1e-7), np.log(1e-9 + 1e-7)]  # Phase 0 where |x| <= eps.
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_batch_reduction_is_mean_of_examples():
    t = np.array([[[3 + 0j, 4j]], [[1 + 0j, 1 + 0j]]])
    p = np.array([[[-3 + 0j, 4j]], [[1 + 0j, 1 + 0j]]])
    assert _all(t, p)['lslp'] == pytest.approx(3.0, rel=1e-6)  # (6 + 0) / 2.
    assert _all(t, p)['sclp'] == pytest.approx(0.6, rel=1e-6)


def test_silent_target_convergence_is_finite():
    got = _all(np.zeros((1, 2)), [[0.0, 1e-3]])
    assert got['sclp'] == pytest.approx(1e-3 / EPS, rel=1e-5)


# --------------------------------------------------------- losses on audio

SR = 8000
N = 2048
CFG = features.FeatureConfig(
    sample_rate=SR, n_fft=256, hop_length=64, n_mels=32, n_mfcc=13,
    cqt_fmin=65.40639, cqt_n_bins=60, cqt_hop_length=256)


def _audio():
    t = np.arange(N) / SR
    sine = 0.5 * np.sin(2 * np.pi * 220.0 * t)
    square = np.sign(np.sin(2 * np.pi * 110.0 * t))  # Clipped: exactly +-1.
    clipped = np.clip(3.0 * sine, -1.0, 1.0)
    noise = 0.3 * np.random.default_rng(0).standard_normal(N)
    zero = np.zeros(N)
    # (target, pred, identical) pairs.
    cases = [(zero, zero, True), (zero, sine, False), (sine, zero, False),
             (square, sine, False), (sine, clipped, False), (square, square, True),
             (noise, noise, True), (clipped, noise, False)]
    target, pred, same = zip(*cases)
    return (np.asarray(target, np.float32), np.asarray(pred, np.float32), np.asarray(same))


TARGET, PRED, IDENTICAL = _audio()


def _all_losses(feature):
    """(target, pred) audio -> every spectral loss on `feature`, stacked [len(LOSS_NAMES)]."""
    return lambda t, p: jnp.stack([spectral_losses.spectral_loss(k, t, p, feature, CFG) for k in LOSS_NAMES])


@pytest.mark.slow
@pytest.mark.parametrize('feature', sorted(features.FEATURES))
def test_every_loss_finite_with_finite_grads_jit_vmap(feature):
    all_losses = _all_losses(feature)
    per_case = jax.jit(jax.vmap(lambda t, p: (all_losses(t, p), jax.jacrev(all_losses, 1)(t, p))))
    values, grads = (np.asarray(a) for a in per_case(TARGET, PRED))
    assert values.shape == (len(TARGET), len(LOSS_NAMES))
    assert grads.shape == (len(TARGET), len(LOSS_NAMES), N)
    assert np.all(np.isfinite(values)), dict(zip(LOSS_NAMES, values.T))
    assert np.all(np.isfinite(grads))
    assert np.all(values[IDENTICAL] == 0.0)  # Identical inputs: every loss is exactly 0 ...
    assert np.all(grads[IDENTICAL] == 0.0)  # ... a minimum, with (sub)gradient 0.
    assert np.all(values[~IDENTICAL] > 0.0)
    # A batch [cases, n] gives the mean of the per-example (vmapped) losses.
    batched = np.asarray(jax.jit(all_losses)(TARGET, PRED))
    np.testing.assert_allclose(batched, values.mean(axis=0), rtol=1e-5)


def test_spectral_loss_jits_with_static_names():
    loss_fn = jax.jit(spectral_losses.spectral_loss, static_argnums=(0, 3, 4))
    got = loss_fn('logslp', TARGET[3:5], PRED[3:5], 'stft', CFG)
    want = spectral_losses.log_slp(features.stft(TARGET[3:5], CFG), features.stft(PRED[3:5], CFG))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_sclp_on_mfcc_matches_eq_4_8_with_librosa():
    t, p = TARGET[3], PRED[3]  # Square vs sine.
    kw = dict(sr=SR, n_mfcc=13, n_fft=256, hop_length=64, n_mels=32, pad_mode='reflect')
    m_t, m_p = librosa.feature.mfcc(y=t, **kw), librosa.feature.mfcc(y=p, **kw)
    want = np.linalg.norm(m_t - m_p) / np.linalg.norm(m_t)
    got = jax.jit(lambda a, b: spectral_losses.spectral_loss('SCLP', a, b, 'mfcc', CFG))(t, p)
    assert float(got) == pytest.approx(want, rel=1e-4)


def test_spectral_loss_unknown_names():
    with pytest.raises(ValueError, match="'lmsl', 'logsl', 'logslp', 'lslp', 'scl', 'sclp'"):
        spectral_losses.spectral_loss('mse', TARGET, PRED, 'stft', CFG)
    with pytest.raises(ValueError, match='valid'):
        spectral_losses.spectral_loss('scl', TARGET, PRED, 'mel', CFG)


@pytest.mark.slow
def test_sclp_on_stft_takes_the_parseval_path_with_fft_values_and_gradients():
    """spectral_loss('sclp', .., 'stft') uses STFT linearity + Parseval (no FFT); same value and gradient."""
    def fft_path(t, p):
        return spectral_losses.sclp(features.stft(t, CFG), features.stft(p, CFG))

    def fast_path(t, p):
        return spectral_losses.spectral_loss('sclp', t, p, 'stft', CFG)

    for fn in (fast_path, fft_path):
        assert np.isfinite(np.asarray(jax.vmap(jax.grad(fn, 1))(TARGET, PRED))).all()
    different = ~IDENTICAL & np.any(TARGET != 0, axis=1)  # Silent targets: 1/eps scale, checked above.
    t, p = TARGET[different], PRED[different]
    np.testing.assert_allclose(jax.vmap(fast_path)(t, p), jax.vmap(fft_path)(t, p), rtol=2e-6)
    g_fast = np.asarray(jax.vmap(jax.grad(fast_path, 1))(t, p))
    g_fft = np.asarray(jax.vmap(jax.grad(fft_path, 1))(t, p))
    np.testing.assert_allclose(g_fast, g_fft, atol=1e-6 * np.abs(g_fft).max())
