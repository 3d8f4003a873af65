"""The audio-rate half of the Voice as one compiled loop per patch, the fast forward path on CPU.

XLA:CPU has no efficient sequential scan, and its `cos`/`cumsum` throughput on large buffers
is several times below torch's SLEEF kernels, so on CPU the audio-rate stage (upsampling,
both VCOs, VCAs, mixer) runs here: a numba kernel, parallel over patches, called from jitted
code through `jax.pure_callback`, with a hand-written reverse mode (`_render_row_vjp`) behind a
`jax.custom_vjp`. It computes what `voice.audio_from_targets` computes (the pure-JAX definition,
which runs on accelerators; the tests hold the two and their gradients together), with the same
float32 roundings: SLEEF's `exp2`, correctly rounded divisions, the upsampler's FMA and a
float64-accumulated phase, as torchsynth does on CPU.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numba
import numpy as np

from jaxsynth.libm import _EXP2_COEFFS
from jaxsynth.parameters import PI
from jaxsynth.upsample import upsample_weights

_F = np.float32
_C = tuple(np.float32(c) for c in _EXP2_COEFFS)
_TWO_PI = np.float32(2 * PI)
_PI = np.float32(PI)


_NJIT = dict(inline="always", error_model="numpy")


@numba.njit(**_NJIT)
def _fma(a, b, c):
    """float32 fused multiply-add via float64 (exact product, one rounding of the sum)."""
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


@numba.njit(**_NJIT)
def _pow2(n):
    """2.0 ** n for an integer-valued float n in [-32, 30], by shifting (vectorizes, unlike ldexp)."""
    return np.float64(np.int64(1) << (np.int64(n) + 32)) * 2.0**-32


@numba.njit(**_NJIT)
def _exp2(d):
    """SLEEF `exp2f_u10` with FMAs (torch's CPU exp2), float32, for |d| < 30."""
    u = np.rint(d)
    s = np.float32(d - u)
    v = _fma(_C[0], s, _C[1])
    v = _fma(v, s, _C[2])
    v = _fma(v, s, _C[3])
    v = _fma(v, s, _C[4])
    v = _fma(v, s, _C[5])
    v = _fma(v, s, np.float32(1.0))
    return np.float32(np.float64(v) * _pow2(u))


@numba.njit(**_NJIT)
def _div(a, b):
    """Correctly rounded float32 division."""
    return np.float32(np.float64(a) / np.float64(b))


@numba.njit(**_NJIT)
def _increment(midi, depth, mod, sample_rate):
    """Phase increment (rad/sample) of a VCO at pitch clamp(midi + depth * mod, 0, 127)."""
    control = np.float32(midi + np.float32(depth * mod))
    control = min(max(control, np.float32(0.0)), np.float32(127.0))
    ratio = _div(np.float32(control - np.float32(69.0)), np.float32(12.0))
    hz = np.float32(np.float32(440.0) * _exp2(ratio))
    return _div(np.float32(_TWO_PI * hz), sample_rate)


_HALF_PI = math.pi / 2
_TWO_OVER_PI = 2 / math.pi
# Taylor coefficients 1/k! with signs, for sin and cos on [-pi/4, pi/4] (error < 1e-16).
S3, S5, S7, S9, S11, S13, S15 = (-1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800, 1 / 6227020800, -1 / 1307674368000)
C2, C4, C6, C8, C10, C12, C14 = (-1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800, 1 / 479001600, -1 / 87178291200)


@numba.njit(**_NJIT)
def _sin_cos(x):
    """(sin x, cos x) of a float32 x (|x| < 2**22) in float64: branch-free so loops vectorize."""
    xd = np.float64(x)
    k = np.rint(xd * _TWO_OVER_PI)
    r = xd - k * _HALF_PI
    z = r * r
    s = r + r * z * (S3 + z * (S5 + z * (S7 + z * (S9 + z * (S11 + z * (S13 + z * S15))))))
    c = 1.0 + z * (C2 + z * (C4 + z * (C6 + z * (C8 + z * (C10 + z * (C12 + z * C14))))))
    q = k - 4.0 * np.floor(k * 0.25)
    swap = (q == 1.0) | (q == 3.0)
    a = c if swap else s
    b = s if swap else c
    sin_x = -a if q >= 2.0 else a
    cos_x = -b if (q == 1.0) | (q == 2.0) else b
    return np.float32(sin_x), np.float32(cos_x)


_LOG2E = 1.0 / math.log(2.0)
_L = math.log(2.0)
E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11 = (_L**k / math.factorial(k) for k in range(1, 12))


@numba.njit(**_NJIT)
def _tanh(x):
    """tanh of a float32 x via exp(2|x|) = 2**t in float64 (polynomial and shift, no libm call)."""
    a = min(abs(np.float64(x)), 10.0)
    t = 2.0 * a * _LOG2E
    n = np.rint(t)
    f = t - n
    p = 1.0 + f * (E1 + f * (E2 + f * (E3 + f * (E4 + f * (E5 + f * (E6 + f * (E7 + f * (E8 + f * (E9 + f * (E10 + f * E11))))))))))
    e = p * _pow2(n)
    th = (e - 1.0) / (e + 1.0)
    th = a if a < 1e-8 else th
    return np.float32(th if x >= 0 else -th)


@numba.njit(**_NJIT)
def _upsample(row, left, right, w0, w1, out):
    """Linear upsampling of one control signal into `out`, torch's fma(x0, w0, x1 * w1)."""
    for i in range(out.shape[0]):
        out[i] = _fma(row[left[i]], w0[i], np.float32(row[right[i]] * w1[i]))


@numba.njit(cache=True, error_model="numpy")
def _forward_row(tb, noise, sc, left, right, w0, w1, sample_rate, up, inc, phi, y):
    """One patch up to the mix: tb [5, Nc] control-rate targets, noise [N], sc [11] scalars ->
    up [5, N] audio-rate targets, inc [2, N] phase increments, phi [2, N] phases, y [N] mix
    before normalization. Gathers and arithmetic sit in separate loops so LLVM vectorizes."""
    n = y.shape[0]
    midi_1, depth_1, phase0_1, midi_2, depth_2, phase0_2 = sc[0], sc[1], sc[2], sc[3], sc[4], sc[5]
    partials, shape, level_1, level_2, level_n = sc[6], sc[7], sc[8], sc[9], sc[10]
    for k in range(5):
        _upsample(tb[k], left, right, w0, w1, up[k])
    for i in range(n):
        inc[0, i] = _increment(midi_1, depth_1, up[0, i], sample_rate)
        inc[1, i] = _increment(midi_2, depth_2, up[2, i], sample_rate)
    # Phases: float64 running sums rounded to float32, as torch's CPU cumsum.
    acc_1 = 0.0
    acc_2 = 0.0
    for i in range(n):
        acc_1 += np.float64(inc[0, i])
        acc_2 += np.float64(inc[1, i])
        phi[0, i] = np.float32(np.float32(acc_1) + phase0_1)
        phi[1, i] = np.float32(np.float32(acc_2) + phase0_2)
    half_shape = np.float32(np.float32(1.0) - shape / np.float32(2.0))
    steep = np.float32(_PI * partials)
    for i in range(n):
        sine = _sin_cos(phi[0, i])[1]
        sin_2, cos_2 = _sin_cos(phi[1, i])
        square = _tanh(np.float32(np.float32(steep * sin_2) / np.float32(2.0)))
        saw = np.float32(np.float32(half_shape * square) * np.float32(np.float32(1.0) + np.float32(shape * cos_2)))
        v = np.float32(level_1 * np.float32(sine * up[1, i]))
        v = np.float32(v + np.float32(level_2 * np.float32(saw * up[3, i])))
        y[i] = np.float32(v + np.float32(level_n * np.float32(noise[i] * up[4, i])))


@numba.njit(cache=True, error_model="numpy")
def _render_row(tb, noise, sc, left, right, w0, w1, sample_rate, out):
    """One patch: tb [5, Nc], noise [N], sc [11] -> out [N], normalized where it clips."""
    n = out.shape[0]
    up = np.empty((5, n), np.float32)
    inc = np.empty((2, n), np.float32)
    phi = np.empty((2, n), np.float32)
    _forward_row(tb, noise, sc, left, right, w0, w1, sample_rate, up, inc, phi, out)
    peak = np.float32(0.0)
    for i in range(n):
        peak = max(peak, abs(out[i]))
    if peak > np.float32(1.0):
        for i in range(n):
            out[i] = np.float32(out[i] / peak)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _render_rows(targets, noise, scalars, left, right, w0, w1, sample_rate, out):
    """targets [B, 5, Nc], noise [r, N] (row b uses b % r), scalars [B, 11] -> out [B, N], in parallel."""
    n_rows, n = out.shape
    for b in numba.prange(n_rows):
        _render_row(targets[b], noise[b % noise.shape[0]], scalars[b], left, right, w0, w1, sample_rate, out[b])


_LN2_OVER_12 = math.log(2.0) / 12.0


@numba.njit(cache=True, error_model="numpy")
def _render_row_vjp(tb, noise, sc, g, left, right, w0, w1, sample_rate, d_tb, d_sc):
    """Reverse mode of `_render_row` for one patch: cotangent g [N] of the output ->
    d_tb [5, Nc] (control-rate targets) and d_sc [11] (scalars). Recomputes the forward pass."""
    n = g.shape[0]
    midi_1, depth_1, phase0_1, midi_2, depth_2, phase0_2 = sc[0], sc[1], sc[2], sc[3], sc[4], sc[5]
    partials, shape, level_1, level_2, level_n = sc[6], sc[7], sc[8], sc[9], sc[10]
    up = np.empty((5, n), np.float32)
    inc = np.empty((2, n), np.float32)
    phi = np.empty((2, n), np.float32)
    y = np.empty(n, np.float32)
    _forward_row(tb, noise, sc, left, right, w0, w1, sample_rate, up, inc, phi, y)
    inc_1, inc_2, phi_1, phi_2 = inc[0], inc[1], phi[0], phi[1]
    half_shape = np.float32(np.float32(1.0) - shape / np.float32(2.0))
    steep = np.float32(_PI * partials)
    peak = 0.0
    arg = 0
    for i in range(n):
        if abs(np.float64(y[i])) > peak:
            peak = abs(np.float64(y[i]))
            arg = i
    # d out / d y: out = y / peak where peak > 1 (the peak's own derivative goes to its sample).
    dy = np.empty(n, np.float64)
    if peak > 1.0:
        dot = 0.0
        for i in range(n):
            dy[i] = np.float64(g[i]) / peak
            dot += np.float64(g[i]) * np.float64(y[i])
        dy[arg] -= dot / (peak * peak) * (1.0 if y[arg] >= 0 else -1.0)
    else:
        for i in range(n):
            dy[i] = np.float64(g[i])
    # Waveforms, VCAs and mix: per-sample terms in one branch- and reduction-free loop (so LLVM
    # vectorizes it), summed afterwards.
    terms = np.empty((5, n), np.float64)  # d level_1, d level_2, d level_n, d shape, d steep
    d_up = np.zeros((5, n), np.float64)
    d_phi_1 = np.empty(n, np.float64)
    d_phi_2 = np.empty(n, np.float64)
    hs = np.float64(half_shape)
    for i in range(n):
        s1, c1 = _sin_cos(phi_1[i])
        s2, c2 = _sin_cos(phi_2[i])
        u = np.float64(steep) * np.float64(s2) / 2.0
        square = np.float64(_tanh(np.float32(u)))
        shape_term = 1.0 + np.float64(shape) * np.float64(c2)
        saw = hs * square * shape_term
        g_i = dy[i]
        terms[0, i] = g_i * np.float64(c1) * np.float64(up[1, i])
        terms[1, i] = g_i * saw * np.float64(up[3, i])
        terms[2, i] = g_i * np.float64(noise[i]) * np.float64(up[4, i])
        d_up[1, i] = g_i * np.float64(level_1) * np.float64(c1)
        d_up[3, i] = g_i * np.float64(level_2) * saw
        d_up[4, i] = g_i * np.float64(level_n) * np.float64(noise[i])
        d_phi_1[i] = -g_i * np.float64(level_1) * np.float64(up[1, i]) * np.float64(s1)
        d_saw = g_i * np.float64(level_2) * np.float64(up[3, i])
        terms[3, i] = d_saw * (-0.5 * square * shape_term + hs * square * np.float64(c2))
        d_cos_2 = d_saw * hs * square * np.float64(shape)
        d_u = d_saw * hs * shape_term * (1.0 - square * square)
        terms[4, i] = d_u * np.float64(s2) / 2.0
        d_phi_2[i] = d_u * np.float64(steep) / 2.0 * np.float64(c2) - d_cos_2 * np.float64(s2)
    d_level_1 = np.sum(terms[0])
    d_level_2 = np.sum(terms[1])
    d_level_n = np.sum(terms[2])
    d_shape = np.sum(terms[3])
    d_steep = np.sum(terms[4])
    # Phases are running sums: their adjoint is a reverse running sum.
    d_sc[2] = np.float32(np.sum(d_phi_1))
    d_sc[5] = np.float32(np.sum(d_phi_2))
    run_1 = 0.0
    run_2 = 0.0
    d_midi_1 = 0.0
    d_depth_1 = 0.0
    d_midi_2 = 0.0
    d_depth_2 = 0.0
    for i in range(n - 1, -1, -1):
        run_1 += d_phi_1[i]
        run_2 += d_phi_2[i]
        # inc = 2 pi / sr * 440 * 2 ** ((c - 69) / 12): d inc / d c = inc * ln 2 / 12; clamped c stops it.
        raw_1 = np.float32(midi_1 + np.float32(depth_1 * up[0, i]))
        d_c = run_1 * np.float64(inc_1[i]) * _LN2_OVER_12 if (raw_1 > 0.0) & (raw_1 < 127.0) else 0.0
        d_midi_1 += d_c
        d_depth_1 += d_c * np.float64(up[0, i])
        d_up[0, i] = d_c * np.float64(depth_1)
        raw_2 = np.float32(midi_2 + np.float32(depth_2 * up[2, i]))
        d_c = run_2 * np.float64(inc_2[i]) * _LN2_OVER_12 if (raw_2 > 0.0) & (raw_2 < 127.0) else 0.0
        d_midi_2 += d_c
        d_depth_2 += d_c * np.float64(up[2, i])
        d_up[2, i] = d_c * np.float64(depth_2)
    d_sc[0] = np.float32(d_midi_1)
    d_sc[1] = np.float32(d_depth_1)
    d_sc[3] = np.float32(d_midi_2)
    d_sc[4] = np.float32(d_depth_2)
    d_sc[6] = np.float32(d_steep * _PI)
    d_sc[7] = np.float32(d_shape)
    d_sc[8] = np.float32(d_level_1)
    d_sc[9] = np.float32(d_level_2)
    d_sc[10] = np.float32(d_level_n)
    # Upsampling is linear: scatter the audio-rate cotangents back to the control samples.
    acc = np.zeros(d_tb.shape, np.float64)
    for k in range(5):
        for i in range(n):
            acc[k, left[i]] += d_up[k, i] * np.float64(w0[i])
            acc[k, right[i]] += d_up[k, i] * np.float64(w1[i])
    for k in range(5):
        for j in range(d_tb.shape[1]):
            d_tb[k, j] = np.float32(acc[k, j])


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _render_rows_vjp(targets, noise, scalars, g, left, right, w0, w1, sample_rate, d_targets, d_scalars):
    """Reverse mode of `_render_rows`, patches in parallel."""
    for b in numba.prange(g.shape[0]):
        _render_row_vjp(targets[b], noise[b % noise.shape[0]], scalars[b], g[b], left, right, w0, w1, sample_rate, d_targets[b], d_scalars[b])


@functools.lru_cache(maxsize=16)
def _weights(n_ctrl: int, n: int):
    left, right, frac = upsample_weights(n_ctrl, n)
    return left.astype(np.int64), right.astype(np.int64), (np.float32(1.0) - frac).astype(np.float32), frac.astype(np.float32)


def _flatten(targets, noise, scalars):
    """Host arrays with the batch flattened: targets [B, 5, Nc], noise [r, N], scalars [B, 11]."""
    targets = np.asarray(targets, np.float32)
    lead = targets.shape[:-2]
    n = noise.shape[-1]
    noise = np.asarray(noise, np.float32)
    if noise.ndim != 2 or len(lead) != 1 or lead[0] % noise.shape[0]:
        noise = np.broadcast_to(noise, lead + (n,))
    noise = np.ascontiguousarray(noise).reshape(-1, n)
    scalars = np.broadcast_to(np.asarray(scalars, np.float32), lead + (scalars.shape[-1],))
    return lead, np.ascontiguousarray(targets).reshape((-1,) + targets.shape[-2:]), noise, np.ascontiguousarray(scalars).reshape(-1, scalars.shape[-1])


def render_rows_host(targets, noise, scalars, sample_rate: float) -> np.ndarray:
    """Host entry of the forward kernel; leading batch dims are flattened and restored."""
    lead, targets, noise, scalars = _flatten(targets, noise, scalars)
    n = noise.shape[-1]
    out = np.empty((targets.shape[0], n), np.float32)
    _render_rows(targets, noise, scalars, *_weights(targets.shape[-1], n), np.float32(sample_rate), out)
    return out.reshape(lead + (n,))


def render_rows_vjp_host(targets, noise, scalars, g, sample_rate: float):
    """Host entry of the reverse-mode kernel: (d targets, d scalars) for output cotangent g."""
    lead, targets, noise, scalars = _flatten(targets, noise, scalars)
    g = np.ascontiguousarray(np.asarray(g, np.float32)).reshape(-1, noise.shape[-1])
    d_targets = np.empty_like(targets)
    d_scalars = np.empty_like(scalars)
    _render_rows_vjp(targets, noise, scalars, g, *_weights(targets.shape[-1], noise.shape[-1]), np.float32(sample_rate), d_targets, d_scalars)
    return d_targets.reshape(lead + targets.shape[1:]), d_scalars.reshape(lead + scalars.shape[1:])


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def render_rows(targets, noise, scalars, sample_rate: float):
    """Jittable, differentiable call of the kernel: targets [..., 5, Nc], noise [..., N] or [r, N],
    scalars [..., 11] -> audio [..., N]. Noise is treated as a constant (zero cotangent)."""
    shape = jax.ShapeDtypeStruct(targets.shape[:-2] + (noise.shape[-1],), jnp.float32)
    host = functools.partial(render_rows_host, sample_rate=sample_rate)
    return jax.pure_callback(host, shape, targets, noise, scalars, vmap_method="broadcast_all")


def _render_rows_fwd(targets, noise, scalars, sample_rate):
    return render_rows(targets, noise, scalars, sample_rate), (targets, noise, scalars)


def _render_rows_bwd(sample_rate, residuals, g):
    targets, noise, scalars = residuals
    shapes = (jax.ShapeDtypeStruct(targets.shape, jnp.float32), jax.ShapeDtypeStruct(scalars.shape, jnp.float32))
    host = functools.partial(render_rows_vjp_host, sample_rate=sample_rate)
    d_targets, d_scalars = jax.pure_callback(host, shapes, targets, noise, scalars, g, vmap_method="broadcast_all")
    return d_targets, jnp.zeros_like(noise), d_scalars


render_rows.defvjp(_render_rows_fwd, _render_rows_bwd)
