"""spectral.features against librosa on a tone, a chirp and white noise (16 kHz, 0.5 s)."""

import dataclasses

import jax
import jax.numpy as jnp
import librosa
import numpy as np
import pytest

from spectral import features

SR = 16000
N = 8000
CFG = features.FeatureConfig(sample_rate=SR, n_fft=512, hop_length=128, n_mels=40, n_mfcc=13)
LIBROSA_KW = dict(n_fft=512, hop_length=128)


def _signals():
    t = np.arange(N) / SR
    rng = np.random.default_rng(0)
    return {
        'tone': 0.5 * np.sin(2 * np.pi * 440.0 * t),
        'chirp': 0.5 * librosa.chirp(fmin=60.0, fmax=0.45 * SR / 2, sr=SR, length=N),
        'noise': 0.3 * rng.standard_normal(N),
    }


SIGNALS = {k: v.astype(np.float32) for k, v in _signals().items()}
NAMES = sorted(SIGNALS)


def _rel_max_err(ours, ref):
    """max |ours - ref| / max |ref|."""
    return np.max(np.abs(np.asarray(ours) - ref)) / np.max(np.abs(ref))


@pytest.mark.parametrize('pad_mode', ['reflect', 'constant'])
@pytest.mark.parametrize('name', NAMES)
def test_stft_matches_librosa(name, pad_mode):
    x = SIGNALS[name]
    cfg = dataclasses.replace(CFG, pad_mode=pad_mode)
    ours = features.stft(x, cfg)
    ref = librosa.stft(x, pad_mode=pad_mode, **LIBROSA_KW).T
    assert ours.dtype == jnp.complex64 and ours.shape == ref.shape
    assert _rel_max_err(ours, ref) < 1e-4  # Measured ~1e-7 (float32 FFT rounding).


@pytest.mark.parametrize('fmin,fmax', [(0.0, None), (100.0, 6000.0)])
def test_mel_filterbank_matches_librosa(fmin, fmax):
    cfg = dataclasses.replace(CFG, fmin=fmin, fmax=fmax)
    ref = librosa.filters.mel(sr=SR, n_fft=512, n_mels=40, fmin=fmin, fmax=fmax).T
    np.testing.assert_allclose(features.mel_filterbank(cfg), ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('name', NAMES)
def test_mel_spectrogram_matches_librosa(name):
    x = SIGNALS[name]
    ref = librosa.feature.melspectrogram(y=x, sr=SR, n_mels=40, pad_mode='reflect', **LIBROSA_KW).T
    assert _rel_max_err(features.mel_spectrogram(x, CFG), ref) < 1e-4  # Measured ~2e-7.


@pytest.mark.parametrize('top_db', [80.0, None])
@pytest.mark.parametrize('name', NAMES)
def test_mfcc_matches_librosa(name, top_db):
    x = SIGNALS[name]
    cfg = dataclasses.replace(CFG, top_db=top_db)
    mel = librosa.feature.melspectrogram(y=x, sr=SR, n_mels=40, pad_mode='reflect', **LIBROSA_KW)
    ref = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=top_db), n_mfcc=13).T
    ours = np.asarray(features.mfcc(x, cfg))
    assert ours.shape == ref.shape
    # dB. With the 80 dB floor: measured <= 2e-4. Without it, mel bins ~140 dB
    # under the peak are float32 FFT rounding noise (ours and librosa's differ
    # there), which reaches the coefficients: measured <= 2.5e-2.
    np.testing.assert_allclose(ours, ref, atol=2e-3 if top_db else 5e-2)


def test_mfcc_top_db_matches_librosa_default_path():
    x = SIGNALS['chirp']
    ref = librosa.feature.mfcc(y=x, sr=SR, n_mfcc=13, n_mels=40, pad_mode='reflect', **LIBROSA_KW).T
    np.testing.assert_allclose(features.mfcc(x, CFG), ref, atol=2e-3)


CQT_CFG = features.FeatureConfig(sample_rate=SR, pad_mode='constant')  # C1, 84 bins, 12/oct.
# librosa warns when its lowest, most downsampled octaves are shorter than their FFT.
quiet_librosa = pytest.mark.filterwarnings('ignore:n_fft=.*is too large:UserWarning')


@quiet_librosa
@pytest.mark.parametrize('name', NAMES)
def test_cqt_top_octave_equals_librosa(name):
    # librosa computes the top octave at the full rate here (no early downsampling
    # at 16 kHz), so with its kernel sparsification off it is the same transform.
    x = SIGNALS[name]
    ours = np.asarray(features.cqt(x, CQT_CFG))
    ref = librosa.cqt(x, sr=SR, pad_mode='constant', sparsity=0.0).T
    assert ours.dtype == np.complex64 and ours.shape == ref.shape
    top = slice(-12, None)
    err = np.max(np.abs(ours[:, top] - ref[:, top])) / np.max(np.abs(ref))
    assert err < 1e-4  # Complex values, phase included; measured <= 2e-5.


@quiet_librosa
@pytest.mark.parametrize('name', NAMES)
def test_cqt_magnitude_close_to_librosa(name):
    # librosa.cqt halves the rate per lower octave (soxr resampler, whose roll-off
    # and edge handling differ from our single-rate filters) and drops 1% of each
    # kernel's energy. Measured here: relative Frobenius error <= 2.3e-2 and
    # max error <= 5.2e-2 of max|C| (noise, at the edge frames); 1.2e-2 / 3.4e-2 on
    # 1 s at 44.1 kHz. With pad_mode='reflect' the edge frames differ more, since
    # librosa reflects each downsampled octave separately.
    x = SIGNALS[name]
    ours = np.abs(np.asarray(features.cqt(x, CQT_CFG)))
    ref = np.abs(librosa.cqt(x, sr=SR, pad_mode='constant').T)
    assert np.linalg.norm(ours - ref) / np.linalg.norm(ref) < 3e-2
    assert _rel_max_err(ours, ref) < 8e-2


def test_cqt_rejects_filters_above_nyquist():
    with pytest.raises(ValueError, match='Nyquist'):
        features.cqt_kernel(features.FeatureConfig(sample_rate=8000))


@pytest.mark.parametrize('hop', [3, 4, 7])
def test_frame_matches_numpy(hop):
    x = np.arange(50, dtype=np.float32)
    ref = np.lib.stride_tricks.sliding_window_view(x, 8)[::hop]
    np.testing.assert_array_equal(features.frame(jnp.asarray(x), 8, hop), ref)


@pytest.mark.parametrize('feature', sorted(features.FEATURES))
def test_batched_jit_and_grad(feature):
    cfg = CQT_CFG if feature == 'cqt' else CFG
    x = np.stack([SIGNALS['tone'], SIGNALS['noise']]).reshape(2, 1, N)
    fn = jax.jit(lambda a: features.compute(feature, a, cfg))
    batched = np.asarray(fn(x))
    single = np.asarray(features.compute(feature, x[1, 0], cfg))
    np.testing.assert_allclose(batched[1, 0], single, rtol=1e-5, atol=1e-5 * np.abs(single).max())
    assert np.iscomplexobj(batched) == features.IS_COMPLEX[feature]

    def energy(a):
        return jnp.mean(features.power(features.compute(feature, a, cfg)))

    grad_fn = jax.jit(jax.grad(energy))
    for audio in (x[:, 0], np.zeros((2, N), np.float32)):
        grad = np.asarray(grad_fn(audio))
        assert grad.shape == audio.shape and np.all(np.isfinite(grad))


def test_compute_unknown_name():
    with pytest.raises(ValueError, match="'cqt', 'mfcc', 'stft'"):
        features.compute('mel', SIGNALS['tone'], CFG)


def test_safe_magnitude_and_angle_at_zero():
    z = jnp.zeros(3, jnp.complex64)
    g_mag = jax.grad(lambda v: jnp.sum(features.magnitude(v * (1 + 1j))))(jnp.zeros(3))
    g_ang = jax.grad(lambda v: jnp.sum(features.angle(v * (1 + 1j))))(jnp.zeros(3))
    assert np.all(np.asarray(g_mag) == 0) and np.all(np.asarray(g_ang) == 0)
    assert np.all(np.asarray(features.angle(z)) == 0)
    np.testing.assert_allclose(features.angle(jnp.array([-2.0, 3.0, 1j])), [np.pi, 0, np.pi / 2])


def test_config_is_hashable_and_validated():
    assert hash(CFG) == hash(dataclasses.replace(CFG))
    with pytest.raises(ValueError):
        features.FeatureConfig(pad_mode='edge')
    with pytest.raises(ValueError):
        features.FeatureConfig(n_mfcc=200)


@pytest.mark.slow
@pytest.mark.parametrize('cfg', [
    CFG,
    dataclasses.replace(CFG, pad_mode='constant'),
    dataclasses.replace(CFG, n_fft=511, hop_length=100, window='hamming'),  # Odd n_fft, hop not dividing it.
    dataclasses.replace(CFG, n_fft=400, hop_length=160, center=False),
], ids=['reflect', 'constant', 'odd-hamming', 'uncentred'])
def test_stft_energy_is_parseval_of_stft(cfg):
    x = np.stack([SIGNALS[k] for k in NAMES])
    energy_fft = lambda a: jnp.sum(features.power(features.stft(a, cfg)), axis=(-2, -1))
    got, want = features.stft_energy(x, cfg), energy_fft(x)
    assert got.shape == (len(NAMES),)
    np.testing.assert_allclose(got, want, rtol=2e-6)
    weights = jnp.asarray([1.0, 2.0, 3.0])  # A different cotangent per signal.
    grad_got = jax.grad(lambda a: jnp.sum(weights * features.stft_energy(a, cfg)))(x)
    grad_want = jax.grad(lambda a: jnp.sum(weights * energy_fft(a)))(x)
    assert _rel_max_err(grad_got, np.asarray(grad_want)) < 1e-6
