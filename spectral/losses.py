"""The spectral losses of the thesis (sections 3.3, 4.3, 4.6) and a multi-resolution STFT term, in JAX.

Spectral losses take two features of equal shape `[..., frames, channels]`
(complex STFT/CQT or real MFCC, see `spectral.features`), reduce each example over
its last two axes with the norm of its equation (the L1 norm is a sum, the
Frobenius norm is over the whole spectrogram) and return the mean over all
leading (batch) axes, a float32 scalar. They are pure, jit- and vmap-safe, and
have finite values and gradients on silent, clipped and identical inputs:
|x|, the norms and the phase use double-where masks (`features.safe_sqrt`,
`features.angle`), so x == 0 gives a zero (sub)gradient instead of nan.

Magnitude losses (SCL eq. 3.1, LogSL eq. 3.2, LMSL eq. 3.3) compare |X|; the
phase-aware ones (SCLP eq. 4.1, LogSLP eq. 4.2, LSLP eq. 4.3) compare X itself.
Eq. 3.3 is printed without |.| but the text defines LMSL on magnitude STFTs,
which is what `lmsl` does (with |.| it would be LSLP, eq. 4.3).

On a real feature (MFCC) the same formulas apply with the value's sign as its
phase (0 or pi): the P-variants compare the signed coefficients, which is
exactly eq. 4.8 (SCLP on MFCC, the only MFCC loss the thesis uses), and the
magnitude variants compare |MFCC|. The thesis is silent on those; they follow
from reading |.| literally rather than from a separate definition.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Optional

import jax.numpy as jnp

from spectral import features

EPS = 1e-7  # Log floor and SC-denominator guard, in feature units.

_FEATURE_AXES = (-2, -1)


def _l1(x: jnp.ndarray) -> jnp.ndarray:
    """L1 norm sum |x| over the last two axes, [..., T, F] -> [...]; zero-safe."""
    return jnp.sum(features.magnitude(x), axis=_FEATURE_AXES)


def _convergence(diff: jnp.ndarray, ref: jnp.ndarray, eps: float) -> jnp.ndarray:
    """Batch mean of ||diff||_F / (||ref||_F + eps)."""
    return _convergence_of_energies(jnp.sum(features.power(diff), axis=_FEATURE_AXES),
                                    jnp.sum(features.power(ref), axis=_FEATURE_AXES), eps)


def _convergence_of_energies(diff_energy: jnp.ndarray, ref_energy: jnp.ndarray, eps: float) -> jnp.ndarray:
    """Batch mean of sqrt(diff_energy) / (sqrt(ref_energy) + eps), energies = squared Frobenius norms [...]."""
    return jnp.mean(features.safe_sqrt(diff_energy) / (features.safe_sqrt(ref_energy) + eps))


def complex_log(x: jnp.ndarray, eps: float = EPS) -> jnp.ndarray:
    """log(|x| + eps) + i angle(x): complex log with the modulus floored by eps.

    The phase is taken as 0 where |x| <= eps (such a bin's phase is noise and its
    gradient ~1/|x|), which caps the phase gradient at 1/eps. Real part equals
    LogSL's. The thesis writes log(X + eps); adding eps to the modulus instead of
    to X keeps the phase of small bins instead of pulling it to 0.
    """
    return jnp.log(features.magnitude(x) + eps) + 1j * features.angle(x, floor=eps)


def scl(target: jnp.ndarray, pred: jnp.ndarray, eps: float = EPS) -> jnp.ndarray:
    """Spectral convergence (eq. 3.1): || |T| - |P| ||_F / (|| |T| ||_F + eps); [..., T, F] -> []."""
    mag_t = features.magnitude(target)
    return _convergence(mag_t - features.magnitude(pred), mag_t, eps)


def log_sl(target: jnp.ndarray, pred: jnp.ndarray, eps: float = EPS) -> jnp.ndarray:
    """Log-magnitude loss LogSL (eq. 3.2): || log(|T| + eps) - log(|P| + eps) ||_1; [..., T, F] -> []."""
    log_t = jnp.log(features.magnitude(target) + eps)
    log_p = jnp.log(features.magnitude(pred) + eps)
    return jnp.mean(_l1(log_t - log_p))


def lmsl(target: jnp.ndarray, pred: jnp.ndarray) -> jnp.ndarray:
    """Linear-magnitude loss LMSL (eq. 3.3): || |T| - |P| ||_1; [..., T, F] -> []."""
    return jnp.mean(_l1(features.magnitude(target) - features.magnitude(pred)))


def sclp(target: jnp.ndarray, pred: jnp.ndarray, eps: float = EPS) -> jnp.ndarray:
    """Spectral convergence with phase (eq. 4.1): ||T - P||_F / (||T||_F + eps); [..., T, F] -> []."""
    return _convergence(target - pred, target, eps)


def log_slp(target: jnp.ndarray, pred: jnp.ndarray, eps: float = EPS) -> jnp.ndarray:
    """Log spectral loss with phase (eq. 4.2): || clog(T) - clog(P) ||_1; [..., T, F] -> [].

    clog is `complex_log`; the phase difference is wrapped to [-pi, pi] (logs of
    X are defined modulo 2 pi i), so per bin the term is
    sqrt((log(|T|+eps) - log(|P|+eps))^2 + wrap(angle T - angle P)^2).
    """
    diff = complex_log(target, eps) - complex_log(pred, eps)
    phase = jnp.imag(diff)
    phase = phase - 2.0 * math.pi * jnp.round(phase / (2.0 * math.pi))
    return jnp.mean(_l1(jnp.real(diff) + 1j * phase))


def lslp(target: jnp.ndarray, pred: jnp.ndarray) -> jnp.ndarray:
    """Linear spectral loss with phase (eq. 4.3): ||T - P||_1, complex modulus; [..., T, F] -> []."""
    return jnp.mean(_l1(target - pred))


def energies_from_audio(name: str, feature_name: str) -> bool:
    """Whether loss `name` on `feature_name` takes its norms straight from the audio (`sclp_stft`): SCLP on
    STFTs, the one loss whose feature is linear in the audio and whose norms Parseval gives without an FFT."""
    return name == "sclp" and feature_name == "stft"


def sclp_stft(target_audio: jnp.ndarray, pred_audio: jnp.ndarray, cfg: features.FeatureConfig,
              eps: float = EPS) -> jnp.ndarray:
    """SCLP on STFTs (eq. 4.1) from audio [..., n] -> [], with no FFT: the STFT is linear, so
    ||STFT(t) - STFT(p)||_F = ||STFT(t - p)||_F, and `features.stft_energy` gets ||STFT(.)||_F^2
    by Parseval. Equals sclp(stft(t), stft(p)) up to float32 rounding, at a fraction of the cost
    of the transforms and their backward pass (`spectral_loss` takes this path).
    """
    return _convergence_of_energies(features.stft_energy(target_audio - pred_audio, cfg),
                                    features.stft_energy(target_audio, cfg), eps)


CONVERGENCE_LOSSES = ("scl", "sclp")  # Ratios of Frobenius norms: the losses whose reduction matters.
REDUCTIONS = ("example", "batch")


def convergence_energies(name: str, target_audio: jnp.ndarray, pred_audio: jnp.ndarray, feature_name: str,
                         cfg: features.FeatureConfig) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(||D||_F^2, ||R||_F^2) per example [...] of a spectral-convergence loss ('scl' or 'sclp') between
    audio [..., n]: D = T - P (|T| - |P| for scl), R = T (|T|). The thesis's per-example loss is
    sqrt(D) / (sqrt(R) + eps), averaged; the batch reduction of auraloss and ParallelWaveGAN is
    sqrt(sum D) / sqrt(sum R) (`convergence`)."""
    if energies_from_audio(name, feature_name):
        return features.stft_energy(target_audio - pred_audio, cfg), features.stft_energy(target_audio, cfg)
    target = features.compute(feature_name, target_audio, cfg)
    pred = features.compute(feature_name, pred_audio, cfg)
    if name == "scl":
        target, pred = features.magnitude(target), features.magnitude(pred)
    elif name != "sclp":
        raise ValueError(f"{name!r} is not a spectral-convergence loss; valid: {list(CONVERGENCE_LOSSES)}")
    return (jnp.sum(features.power(target - pred), axis=_FEATURE_AXES),
            jnp.sum(features.power(target), axis=_FEATURE_AXES))


def convergence(diff_energy: jnp.ndarray, ref_energy: jnp.ndarray, reduction: str, eps: float = EPS) -> jnp.ndarray:
    """Spectral convergence from energies [B] (or their means): 'example' averages the per-example ratios
    (a silent prediction scores exactly 1 on every example, however quiet the target, which makes
    silence a minimum for any sound that does not match phase or pitch); 'batch' takes the ratio of
    the batch's norms, which weighs each example by its energy."""
    if reduction == "example":
        return _convergence_of_energies(diff_energy, ref_energy, eps)
    if reduction == "batch":
        return features.safe_sqrt(jnp.sum(diff_energy)) / (features.safe_sqrt(jnp.sum(ref_energy)) + eps)
    raise ValueError(f"unknown reduction {reduction!r}; valid: {list(REDUCTIONS)}")


MSS_SCALES = (4, 2, 1, 0.5)  # n_fft divisors of the multi-resolution term: n_fft/4 ... 2 n_fft.
MSS_LOG_FLOOR = 1e-5  # Magnitude floor of its log term.


def multiscale_parts(target_audio: jnp.ndarray, pred_audio: jnp.ndarray, cfg: features.FeatureConfig
                     ) -> dict[str, jnp.ndarray]:
    """Per-example parts of the multi-resolution STFT loss (Yamamoto et al. 2020; DDSP, auraloss) between
    audio [..., n]: 'diff' and 'ref' magnitude energies [..., R] for its spectral convergence and
    'log' [...], the mean over resolutions of mean |log(|T| + f) - log(|P| + f)| (f = MSS_LOG_FLOOR).
    Resolutions: n_fft = cfg.n_fft / s for s in MSS_SCALES, hop n_fft / 4. `multiscale_spectral`
    combines them; kept apart so that a batch (or a whole validation set) reduces them together."""
    diffs, refs, logs = [], [], []
    for s in MSS_SCALES:
        n_fft = int(cfg.n_fft / s)
        res = dataclasses.replace(cfg, n_fft=n_fft, hop_length=max(1, n_fft // 4))
        mag_t = features.magnitude(features.stft(target_audio, res))
        mag_p = features.magnitude(features.stft(pred_audio, res))
        diffs.append(jnp.sum(jnp.square(mag_t - mag_p), axis=_FEATURE_AXES))
        refs.append(jnp.sum(jnp.square(mag_t), axis=_FEATURE_AXES))
        logs.append(jnp.mean(jnp.abs(jnp.log(mag_t + MSS_LOG_FLOOR) - jnp.log(mag_p + MSS_LOG_FLOOR)),
                             axis=_FEATURE_AXES))
    return {"diff": jnp.stack(diffs, -1), "ref": jnp.stack(refs, -1), "log": jnp.mean(jnp.stack(logs, -1), -1)}


def multiscale_spectral(parts: dict[str, jnp.ndarray]) -> jnp.ndarray:
    """The multi-resolution STFT loss from `multiscale_parts` (per example [B, ...] or their means over a
    set): mean over resolutions of the batch-level magnitude spectral convergence, plus the mean log
    term. A silent or quiet prediction cannot satisfy it: the log term grows as |P| -> 0 where |T| is
    not, and the batch-level ratio does not score silence 1 on quiet targets (`convergence`)."""
    diff, ref = parts["diff"].reshape(-1, parts["diff"].shape[-1]), parts["ref"].reshape(-1, parts["ref"].shape[-1])
    sc = features.safe_sqrt(jnp.sum(diff, 0)) / (features.safe_sqrt(jnp.sum(ref, 0)) + EPS)
    return jnp.mean(sc) + jnp.mean(parts["log"])


SPECTRAL_LOSSES: dict[str, Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray]] = {
    'scl': scl,
    'logsl': log_sl,
    'lmsl': lmsl,
    'sclp': sclp,
    'logslp': log_slp,
    'lslp': lslp,
}


def spectral_loss(name: str,
                  target_audio: jnp.ndarray,
                  pred_audio: jnp.ndarray,
                  feature_name: str = 'stft',
                  feature_cfg: Optional[features.FeatureConfig] = None) -> jnp.ndarray:
    """Loss `name` between features of audio [..., n_samples] -> float32 scalar (batch mean).

    name is a key of SPECTRAL_LOSSES (case-insensitive, e.g. 'LogSLP');
    feature_name is 'stft', 'mfcc' or 'cqt'. Eqs. 4.7-4.9 are ('sclp', feature).
    """
    key = name.lower()
    if key not in SPECTRAL_LOSSES:
        raise ValueError(f'unknown spectral loss {name!r}; valid: {sorted(SPECTRAL_LOSSES)}')
    cfg = features.FeatureConfig() if feature_cfg is None else feature_cfg
    if energies_from_audio(key, feature_name):
        return sclp_stft(target_audio, pred_audio, cfg)
    target = features.compute(feature_name, target_audio, cfg)
    pred = features.compute(feature_name, pred_audio, cfg)
    return SPECTRAL_LOSSES[key](target, pred)
