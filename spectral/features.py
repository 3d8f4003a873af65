"""Differentiable audio features in JAX: STFT, mel spectrogram, MFCC and CQT.

Every transform is a pure function of `audio: [..., n_samples]` (float32) and a
static, hashable `FeatureConfig`, so it batches over leading axes, jits with the
config closed over or marked static, and differentiates end to end. Outputs are
time-major, `[..., frames, channels]` (librosa returns `[..., channels, frames]`).
Constant matrices (window, mel filterbank, DCT, CQT kernel) are built with numpy
at trace time and cached per config.

Thesis section 2.2 names the three features (STFT, MFCC via librosa, CQT) but
gives no settings; the defaults are librosa's (n_fft 2048, hop 512, 128 mels,
20 MFCCs, an 84-bin CQT from C1 at 12 bins per octave) at the thesis's sample
rate (one-second sounds of 44,100 samples, section 4.1).

| feature | dtype     | phase available   | shape                      |
|---------|-----------|-------------------|----------------------------|
| 'stft'  | complex64 | yes               | [..., frames, n_fft//2+1]  |
| 'mfcc'  | float32   | no (real, signed) | [..., frames, n_mfcc]      |
| 'cqt'   | complex64 | yes               | [..., frames, cqt_n_bins]  |

frames = 1 + n_samples // hop with center=True (the default).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal

_TINY = float(np.finfo(np.float32).tiny)  # Smallest normal float32, ~1.2e-38.
C1_HZ = 440.0 * 2.0 ** ((24 - 69) / 12)  # MIDI note 24, ~32.703 Hz.


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Every setting of every feature; frozen and hashable so it can be jit-static.

    pad_mode: 'reflect' (torch.stft and librosa < 0.10) or 'constant' (zeros,
    librosa >= 0.10's default), used with `center=True` by the STFT and the CQT.
    top_db: MFCC dB floor relative to each example's loudest mel bin, as
    librosa.power_to_db (default 80, what librosa.feature.mfcc applies); None
    disables it.
    window: analysis window of the STFT and of each CQT filter (scipy name).
    """

    sample_rate: int = 44100
    n_fft: int = 2048
    hop_length: int = 512
    window: str = 'hann'
    center: bool = True
    pad_mode: str = 'reflect'
    # Mel / MFCC.
    n_mels: int = 128
    n_mfcc: int = 20
    fmin: float = 0.0
    fmax: Optional[float] = None  # None: sample_rate / 2.
    amin: float = 1e-10
    top_db: Optional[float] = 80.0
    # Constant-Q.
    cqt_hop_length: int = 512
    cqt_fmin: float = C1_HZ
    cqt_n_bins: int = 84
    cqt_bins_per_octave: int = 12
    cqt_filter_scale: float = 1.0

    def __post_init__(self):
        if self.pad_mode not in ('reflect', 'constant'):
            raise ValueError(f"pad_mode must be 'reflect' or 'constant', got {self.pad_mode!r}")
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ValueError(f'need 0 < n_mfcc <= n_mels, got {self.n_mfcc}, {self.n_mels}')
        if self.top_db is not None and self.top_db < 0:
            raise ValueError(f'top_db must be non-negative, got {self.top_db}')


# ------------------------------------------------------------- safe elementwise


def safe_sqrt(x: jnp.ndarray) -> jnp.ndarray:
    """sqrt(x) for x >= 0 with gradient 0 (not inf/nan) where x < float32 tiny."""
    ok = x > _TINY
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


def power(x: jnp.ndarray) -> jnp.ndarray:
    """|x|^2 of a real or complex array, as float; smooth everywhere."""
    return jnp.square(jnp.real(x)) + jnp.square(jnp.imag(x))


def magnitude(x: jnp.ndarray) -> jnp.ndarray:
    """|x| of a real or complex array, with gradient 0 at x == 0 (double where)."""
    return safe_sqrt(power(x))


def angle(x: jnp.ndarray, floor: float = 0.0) -> jnp.ndarray:
    """Phase of x in [-pi, pi], radians; 0 (and gradient 0) where |x| <= floor.

    The phase of a (near-)zero bin is undefined and its gradient ~1/|x| blows up,
    so such bins are masked *before* atan2 (double-where trick). For real x this
    is 0 or pi, the sign.
    """
    ok = power(x) > max(floor * floor, _TINY)
    im = jnp.where(ok, jnp.imag(x), 0.0)
    re = jnp.where(ok, jnp.real(x), 1.0)
    return jnp.where(ok, jnp.arctan2(im, re), 0.0)


# ------------------------------------------------------------------ framing/STFT


def _blocks(x: jnp.ndarray, frame_length: int, hop_length: int):
    """x [..., n] as hop-sized blocks [..., n_blocks, hop]; frame f spans blocks f .. f + n_shifts - 1.

    Returns (blocks, n_frames, n_shifts) with n_frames = 1 + (n - frame_length) // hop and
    n_shifts = ceil(frame_length / hop); x is zero-padded at the end to whole blocks.
    """
    n = x.shape[-1]
    if n < frame_length:
        raise ValueError(f'signal of {n} samples is shorter than one frame ({frame_length})')
    n_frames = 1 + (n - frame_length) // hop_length
    n_shifts = -(-frame_length // hop_length)
    n_blocks = n_frames + n_shifts - 1
    used = n_blocks * hop_length
    if used > n:
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, used - n)])
    return x[..., :used].reshape(x.shape[:-1] + (n_blocks, hop_length)), n_frames, n_shifts


def frame(x: jnp.ndarray, frame_length: int, hop_length: int) -> jnp.ndarray:
    """Overlapping frames, [..., n] -> [..., 1 + (n - frame_length) // hop, frame_length].

    Slices ceil(frame_length / hop) block-shifted views of x reshaped into hop-sized
    blocks (a loop over window offsets, not frames): no gather, so the gradient is
    pad-and-add rather than scatter.
    """
    blocks, n_frames, n_shifts = _blocks(x, frame_length, hop_length)
    # Stacked on a new axis then merged (XLA:CPU writes this about twice as fast as a concatenate).
    frames = jnp.stack([blocks[..., j:j + n_frames, :] for j in range(n_shifts)], axis=-2)
    return frames.reshape(blocks.shape[:-2] + (n_frames, n_shifts * hop_length))[..., :frame_length]


@functools.lru_cache(maxsize=None)
def _window(name: str, length: int) -> np.ndarray:
    """Periodic ("fftbins") window as librosa/scipy build it, float32 [length]."""
    return scipy.signal.get_window(name, length, fftbins=True).astype(np.float32)


def _centred(audio, n_fft: int, cfg: FeatureConfig) -> jnp.ndarray:
    """float32 audio [..., n], padded by n_fft // 2 on both sides (cfg.pad_mode) when cfg.center."""
    audio = jnp.asarray(audio, jnp.float32)
    if not cfg.center:
        return audio
    return jnp.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode=cfg.pad_mode)


def _framed_rfft(audio, n_fft: int, hop_length: int, window: np.ndarray, cfg: FeatureConfig):
    """rfft of centred, windowed frames: [..., n] -> complex64 [..., frames, n_fft//2+1]."""
    return jnp.fft.rfft(frame(_centred(audio, n_fft, cfg), n_fft, hop_length) * window, axis=-1)


def stft(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Complex STFT, [..., n] -> complex64 [..., 1 + n // hop, n_fft // 2 + 1].

    Matches librosa.stft(..., pad_mode=cfg.pad_mode).T (unnormalized, periodic window).
    """
    return _framed_rfft(audio, cfg.n_fft, cfg.hop_length, _window(cfg.window, cfg.n_fft), cfg)


@functools.lru_cache(maxsize=None)
def _energy_weights(cfg: FeatureConfig) -> np.ndarray:
    """Window (and, for even n_fft, the window times (-1)^n) split into hop blocks, float32 [n_shifts, hop, 1 or 2]."""
    n_fft, hop = cfg.n_fft, cfg.hop_length
    n_shifts = -(-n_fft // hop)
    w = np.zeros(n_shifts * hop, np.float64)
    w[:n_fft] = _window(cfg.window, n_fft)
    rows = [w]
    if n_fft % 2 == 0:
        rows.append(w * (-1.0) ** np.arange(n_shifts * hop))
    return np.stack(rows, -1).reshape(n_shifts, hop, len(rows)).astype(np.float32)


def stft_energy(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """||stft(audio, cfg)||_F^2, the sum of |X|^2 over frames and bins, [..., n] -> [...], without an FFT.

    Parseval per windowed frame y (length N = n_fft) with rfft Y: the one-sided sum
    sum_{k<=N/2} |Y_k|^2 = (N sum_n y_n^2 + Y_0^2 + Y_{N/2}^2) / 2, where Y_0 = sum_n y_n and
    Y_{N/2} = sum_n (-1)^n y_n (that term only for even N). So the energy is a weighted sum
    of squared samples plus two dot products per frame: O(n) work instead of frames x N log N,
    and its gradient is as cheap. Equals jnp.sum(power(stft(audio, cfg)), (-2, -1)) up to
    float32 rounding; the spectral-convergence losses use it (`vae.losses`).
    """
    x = _centred(audio, cfg.n_fft, cfg)
    blocks, n_frames, n_shifts = _blocks(x, cfg.n_fft, cfg.hop_length)
    weights = _energy_weights(cfg)
    hp = jax.lax.Precision.HIGHEST
    # Per block b and shift j: sum_m block_b[m] * w_j[m] (and with (-1)^m); frame f sums shifts j at block f + j.
    dots = jnp.einsum('...bm,jmc->...bjc', blocks, weights, precision=hp)
    per_frame = sum(dots[..., j:j + n_frames, j, :] for j in range(n_shifts))  # [..., frames, 1 or 2]
    squares = jnp.einsum('...bm,jm->...bj', jnp.square(blocks), jnp.square(weights[..., 0]), precision=hp)
    windowed = sum(jnp.sum(squares[..., j:j + n_frames, j], axis=-1) for j in range(n_shifts))
    edges = jnp.sum(jnp.square(per_frame), axis=(-2, -1))
    return 0.5 * (cfg.n_fft * windowed + edges)


# ------------------------------------------------------------------- mel / MFCC


def _hz_to_mel(hz):
    """Slaney mel scale (librosa htk=False): linear below 1 kHz, log above."""
    hz = np.asarray(hz, np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step,
                    hz * 3.0 / 200.0)


def _mel_to_hz(mel):
    """Inverse of `_hz_to_mel`."""
    mel = np.asarray(mel, np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * 200.0 / 3.0)


@functools.lru_cache(maxsize=None)
def mel_filterbank(cfg: FeatureConfig) -> np.ndarray:
    """Slaney-normalised triangular mel filters, float32 [n_fft // 2 + 1, n_mels].

    Equals librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax).T (htk=False, norm='slaney').
    """
    fmax = cfg.sample_rate / 2.0 if cfg.fmax is None else cfg.fmax
    fft_hz = np.fft.rfftfreq(cfg.n_fft, 1.0 / cfg.sample_rate)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(cfg.fmin), _hz_to_mel(fmax), cfg.n_mels + 2))
    ramps = mel_hz[:, None] - fft_hz[None, :]
    widths = np.diff(mel_hz)
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.T.astype(np.float32)


def mel_spectrogram(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Mel power spectrogram |STFT|^2 @ mel, [..., n] -> float32 [..., frames, n_mels]."""
    return jnp.matmul(power(stft(audio, cfg)), mel_filterbank(cfg))


def power_to_db(s: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """10 log10(max(s, amin)) dB, floored at top_db below the max of each example.

    s: [..., frames, channels]. librosa.power_to_db(ref=1) takes the max over the
    whole array; here it is per example (over the last two axes), which is the
    same for one signal and keeps batch items independent.
    """
    db = 10.0 * jnp.log10(jnp.maximum(s, cfg.amin))
    if cfg.top_db is None:
        return db
    return jnp.maximum(db, jnp.max(db, axis=(-2, -1), keepdims=True) - cfg.top_db)


@functools.lru_cache(maxsize=None)
def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a right-multiplied matrix, float32 [n_in, n_out]."""
    n = np.arange(n_in)
    k = np.arange(n_out)
    basis = np.cos(np.pi * k[None, :] * (2 * n[:, None] + 1) / (2.0 * n_in)) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def mfcc(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """MFCCs (DCT-II ortho of log-power mel in dB), [..., n] -> float32 [..., frames, n_mfcc].

    Matches librosa.feature.mfcc(y, sr, n_mfcc, n_fft, hop_length, n_mels, ...).T.
    Real-valued: there is no phase.
    """
    log_mel = power_to_db(mel_spectrogram(audio, cfg), cfg)
    return jnp.matmul(log_mel, dct_matrix(cfg.n_mels, cfg.n_mfcc))


# ----------------------------------------------------------------------- CQT


@functools.lru_cache(maxsize=None)
def cqt_kernel(cfg: FeatureConfig) -> tuple[np.ndarray, int]:
    """Frequency-domain CQT kernel, (complex64 [n_fft_cqt // 2 + 1, n_bins], n_fft_cqt).

    librosa's filters (librosa.filters.wavelet): per bin a periodic-`window`ed
    complex sinusoid of length Q sr / f_k, Q = filter_scale / alpha with
    alpha = (2^(2/bpo) - 1) / (2^(2/bpo) + 1), L1-normalised and centred in one
    power-of-two FFT covering the longest (lowest) filter; scaled by
    L_k / n_fft / sqrt(L_k) (librosa's `scale=True`). Nothing is sparsified.
    """
    bpo = cfg.cqt_bins_per_octave
    freqs = cfg.cqt_fmin * 2.0 ** (np.arange(cfg.cqt_n_bins) / bpo)
    alpha = (2.0 ** (2.0 / bpo) - 1.0) / (2.0 ** (2.0 / bpo) + 1.0)
    q = cfg.cqt_filter_scale / alpha
    lengths = q * cfg.sample_rate / freqs
    w = _window(cfg.window, 1000).astype(np.float64)
    bandwidth = 1000 * np.sum(w ** 2) / np.sum(w) ** 2  # Equivalent noise bandwidth, bins.
    cutoff = freqs[-1] * (1.0 + 0.5 * bandwidth / q)
    if cutoff > cfg.sample_rate / 2.0:
        raise ValueError(f'CQT top filter reaches {cutoff:.0f} Hz, above Nyquist '
                         f'{cfg.sample_rate / 2.0:.0f} Hz; reduce cqt_n_bins or cqt_fmin')
    n_fft = int(2.0 ** np.ceil(np.log2(lengths.max())))
    basis = np.zeros((cfg.cqt_n_bins, n_fft), np.complex128)
    for k, (length, freq) in enumerate(zip(lengths, freqs)):
        t = np.arange(-length // 2, length // 2)
        sig = np.exp(2j * np.pi * freq / cfg.sample_rate * t) * _window(cfg.window, len(t))
        sig /= np.abs(sig).sum()
        start = (n_fft - len(t)) // 2
        basis[k, start:start + len(t)] = sig * np.sqrt(length) / n_fft
    kernel = np.fft.fft(basis, axis=-1)[:, :n_fft // 2 + 1]
    return kernel.T.astype(np.complex64), n_fft


def cqt(audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Complex constant-Q transform, [..., n] -> complex64 [..., 1 + n // cqt_hop, cqt_n_bins].

    Single-rate Brown-Puckette CQT: rectangular frames of the kernel's FFT size
    (centred, `pad_mode`), rfft, then one matmul with `cqt_kernel`. It is the
    transform librosa.cqt approximates with recursive octave downsampling, which
    differs through the resampler (soxr) roll-off and edge handling of each
    downsampled octave, and kernel sparsification (sparsity=0.01). Measured
    against librosa.cqt (C1, 84 bins, same pad_mode='constant'; tone, chirp,
    white noise), error in |C|: relative Frobenius <= 2.3e-2 and elementwise
    <= 5.2e-2 of max |C| at 16 kHz / 0.5 s (worst: noise, edge frames), 1.2e-2 and
    3.4e-2 at 44.1 kHz / 1 s; the top octave, which librosa computes at the full
    rate, equals librosa.cqt(sparsity=0) to 2e-5, phase included. With
    'reflect' the edge frames differ more (librosa reflects each octave).
    Complex, so phase-aware losses can use it.
    """
    kernel, n_fft = cqt_kernel(cfg)
    spectrum = _framed_rfft(audio, n_fft, cfg.cqt_hop_length, np.ones(n_fft, np.float32), cfg)
    return jnp.matmul(spectrum, kernel)


# ------------------------------------------------------------------ dispatch

FEATURES: dict[str, Callable[[jnp.ndarray, FeatureConfig], jnp.ndarray]] = {
        'stft': stft,
        'mfcc': mfcc,
        'cqt': cqt,
}
IS_COMPLEX = {'stft': True, 'mfcc': False, 'cqt': True}


def compute(name: str, audio: jnp.ndarray, cfg: FeatureConfig) -> jnp.ndarray:
    """Feature `name` of audio [..., n]: 'stft', 'cqt' (complex) or 'mfcc' (real)."""
    if name not in FEATURES:
        raise ValueError(f'unknown feature {name!r}; valid: {sorted(FEATURES)}')
    return FEATURES[name](audio, cfg)
