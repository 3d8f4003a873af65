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

from jaxsynth.kernel_scalars import (DEPTH_1, DEPTH_2, LEVEL_1, LEVEL_2, LEVEL_NOISE, N_SCALARS, PARTIALS, PHASE0_1,
                                     PHASE0_2, PITCH_1, PITCH_2, SHAPE)
from jaxsynth.libm import EXP2_COEFFS
from jaxsynth.parameters import PI
from jaxsynth.upsample import block_plan

_C = tuple(np.float32(c) for c in EXP2_COEFFS)
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
_F32 = np.float32
# Taylor coefficients for sin and cos on [-pi/4, pi/4], float32 (truncation < 2e-10 there).
S3, S5, S7, S9 = _F32(-1 / 6), _F32(1 / 120), _F32(-1 / 5040), _F32(1 / 362880)
C2, C4, C6, C8, C10 = _F32(-1 / 2), _F32(1 / 24), _F32(-1 / 720), _F32(1 / 40320), _F32(-1 / 3628800)


@numba.njit(**_NJIT)
def _sin_cos(x):
    """(sin x, cos x) of a float32 x (|x| < 2**22) to ~1 ulp: the reduction by pi/2 in float64
    (phases reach 1e5 rad), the polynomials in float32; branch-free so loops vectorize."""
    xd = np.float64(x)
    k = np.rint(xd * _TWO_OVER_PI)
    r = np.float32(xd - k * _HALF_PI)
    z = r * r
    s = r + r * z * (S3 + z * (S5 + z * (S7 + z * S9)))
    c = _F32(1.0) + z * (C2 + z * (C4 + z * (C6 + z * (C8 + z * C10))))
    q = k - 4.0 * np.floor(k * 0.25)
    swap = (q == 1.0) | (q == 3.0)
    a = c if swap else s
    b = s if swap else c
    sin_x = -a if q >= 2.0 else a
    cos_x = -b if (q == 1.0) | (q == 2.0) else b
    return sin_x, cos_x


_LOG2E = _F32(1.0 / math.log(2.0))
_L = math.log(2.0)
E1, E2, E3, E4, E5, E6, E7 = (_F32(_L**k / math.factorial(k)) for k in range(1, 8))


@numba.njit(**_NJIT)
def _tanh(x):
    """tanh of a float32 x to a few ulps: (e - 1) / (e + 1) with e = 2**(2|x| log2 e) from a
    polynomial and a shift, an odd series near 0; no libm call, so loops vectorize."""
    a = min(abs(x), _F32(9.0))
    t = _F32(2.0) * a * _LOG2E
    n = np.rint(t)
    f = t - n
    p = _F32(1.0) + f * (E1 + f * (E2 + f * (E3 + f * (E4 + f * (E5 + f * (E6 + f * E7))))))
    e = p * np.float32(_pow2(n))
    th = (e - _F32(1.0)) / (e + _F32(1.0))
    a2 = a * a
    series = a * (_F32(1.0) + a2 * (_F32(-1 / 3) + a2 * (_F32(2 / 15) + a2 * _F32(-17 / 315))))
    th = series if a < _F32(0.05) else th
    return th if x >= 0 else -th


@numba.njit(**_NJIT)
def _upsample(row, base, split, w0, w1, out):
    """Linear upsampling of one control signal into `out`, torch's fma(x0, w0, x1 * w1), laid out
    in blocks (`upsample.block_plan`): the first split[m] samples of block m interpolate
    row[base], row[base + 1], the rest row[base + 1], row[base + 2] (clamped at the end), so the
    inner loops are gather-free and vectorize."""
    n, n_in = out.shape[0], row.shape[0]
    block = w0.shape[1]
    for m in range(base.shape[0]):
        b = base[m]
        x0, x1, x2 = row[b], row[min(b + 1, n_in - 1)], row[min(b + 2, n_in - 1)]
        start = m * block
        stop = min(block, n - start)
        mid = min(split[m], stop)
        for j in range(mid):
            out[start + j] = _fma(x0, w0[m, j], np.float32(x1 * w1[m, j]))
        for j in range(mid, stop):
            out[start + j] = _fma(x1, w0[m, j], np.float32(x2 * w1[m, j]))


@numba.njit(**_NJIT)
def _unpack(sc):
    """The scalars row [N_SCALARS] by name (`kernel_scalars`): (pitch_1, depth_1, phase0_1, pitch_2,
    depth_2, phase0_2, partials, shape, level_1, level_2, level_noise)."""
    return (sc[PITCH_1], sc[DEPTH_1], sc[PHASE0_1], sc[PITCH_2], sc[DEPTH_2], sc[PHASE0_2], sc[PARTIALS], sc[SHAPE],
            sc[LEVEL_1], sc[LEVEL_2], sc[LEVEL_NOISE])


@numba.njit(cache=True, error_model="numpy")
def _forward_row(tb, noise, sc, base, split, w0, w1, sample_rate, up, inc, phi, y):
    """One patch up to the mix: tb [5, Nc] control-rate targets, noise [N], sc [N_SCALARS] scalars ->
    up [5, N] audio-rate targets, inc [2, N] phase increments, phi [2, N] phases, y [N] mix
    before normalization. Gathers and arithmetic sit in separate loops so LLVM vectorizes."""
    n = y.shape[0]
    midi_1, depth_1, phase0_1, midi_2, depth_2, phase0_2, partials, shape, level_1, level_2, level_n = _unpack(sc)
    for k in range(5):
        _upsample(tb[k], base, split, w0, w1, up[k])
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
def _render_row(tb, noise, sc, base, split, w0, w1, sample_rate, out):
    """One patch: tb [5, Nc], noise [N], sc [N_SCALARS] -> out [N], normalized where it clips."""
    n = out.shape[0]
    up = np.empty((5, n), np.float32)
    inc = np.empty((2, n), np.float32)
    phi = np.empty((2, n), np.float32)
    _forward_row(tb, noise, sc, base, split, w0, w1, sample_rate, up, inc, phi, out)
    peak = np.float32(0.0)
    for i in range(n):
        peak = max(peak, abs(out[i]))
    if peak > np.float32(1.0):
        for i in range(n):
            out[i] = np.float32(out[i] / peak)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _render_rows(targets, noise, scalars, base, split, w0, w1, sample_rate, out):
    """targets [B, 5, Nc], noise [r, N] (row b uses b % r), scalars [B, N_SCALARS] -> out [B, N], in parallel."""
    n_rows, n = out.shape
    for b in numba.prange(n_rows):
        _render_row(targets[b], noise[b % noise.shape[0]], scalars[b], base, split, w0, w1, sample_rate, out[b])


_LN2_OVER_12 = math.log(2.0) / 12.0


# Reductions of the reverse pass: float64 accumulation, reassociation allowed so LLVM vectorizes
# them (a strict left-to-right sum is one long dependency chain). Not inlined, so the flag stays
# out of the forward arithmetic, whose rounding must match torch.
_REDUCE = dict(error_model="numpy", fastmath={"reassoc"})


@numba.njit(**_REDUCE)
def _sum64(a):
    """Sum of a float32 vector, accumulated in float64."""
    total = 0.0
    for i in range(a.shape[0]):
        total += np.float64(a[i])
    return total


@numba.njit(**_REDUCE)
def _dot64(a, b):
    """Dot product of two float32 vectors, accumulated in float64."""
    total = 0.0
    for i in range(a.shape[0]):
        total += np.float64(a[i]) * np.float64(b[i])
    return total


@numba.njit(cache=True, error_model="numpy")
def _render_row_vjp(tb, noise, sc, g, base, split, w0, w1, sample_rate, d_tb, d_sc):
    """Reverse mode of `_render_row` for one patch: cotangent g [N] of the output ->
    d_tb [5, Nc] (control-rate targets) and d_sc [N_SCALARS] (scalars). Recomputes the forward pass."""
    n = g.shape[0]
    midi_1, depth_1, _, midi_2, depth_2, _, partials, shape, level_1, level_2, level_n = _unpack(sc)
    up = np.empty((5, n), np.float32)
    inc = np.empty((2, n), np.float32)
    phi = np.empty((2, n), np.float32)
    y = np.empty(n, np.float32)
    _forward_row(tb, noise, sc, base, split, w0, w1, sample_rate, up, inc, phi, y)
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
    dy = np.empty(n, np.float32)
    if peak > 1.0:
        dot = _dot64(g, y)
        for i in range(n):
            dy[i] = np.float32(np.float64(g[i]) / peak)
        dy[arg] = np.float32(dy[arg] - dot / (peak * peak) * (1.0 if y[arg] >= 0 else -1.0))
    else:
        for i in range(n):
            dy[i] = g[i]
    # Waveforms, VCAs and mix: per-sample terms in one branch- and reduction-free float32 loop (so
    # LLVM vectorizes it 16 wide), summed in float64 afterwards.
    terms = np.empty((5, n), np.float32)  # d level_1, d level_2, d level_n, d shape, d steep
    d_up = np.empty((5, n), np.float32)
    d_phi_1 = np.empty(n, np.float32)
    d_phi_2 = np.empty(n, np.float32)
    half = _F32(0.5)
    one = _F32(1.0)
    for i in range(n):
        s1, c1 = _sin_cos(phi_1[i])
        s2, c2 = _sin_cos(phi_2[i])
        square = _tanh(np.float32(steep * s2) / _F32(2.0))
        shape_term = one + shape * c2
        saw = half_shape * square * shape_term
        g_i = dy[i]
        terms[0, i] = g_i * c1 * up[1, i]
        terms[1, i] = g_i * saw * up[3, i]
        terms[2, i] = g_i * noise[i] * up[4, i]
        d_up[1, i] = g_i * level_1 * c1
        d_up[3, i] = g_i * level_2 * saw
        d_up[4, i] = g_i * level_n * noise[i]
        d_phi_1[i] = -g_i * level_1 * up[1, i] * s1
        d_saw = g_i * level_2 * up[3, i]
        terms[3, i] = d_saw * (-half * square * shape_term + half_shape * square * c2)
        d_cos_2 = d_saw * half_shape * square * shape
        d_u = d_saw * half_shape * shape_term * (one - square * square)
        terms[4, i] = d_u * s2 * half
        d_phi_2[i] = d_u * steep * half * c2 - d_cos_2 * s2
    d_level_1 = _sum64(terms[0])
    d_level_2 = _sum64(terms[1])
    d_level_n = _sum64(terms[2])
    d_shape = _sum64(terms[3])
    d_steep = _sum64(terms[4])
    # Phases are running sums: their adjoint is a reverse running sum (a scan, kept alone in its loop).
    d_sc[PHASE0_1] = np.float32(_sum64(d_phi_1))
    d_sc[PHASE0_2] = np.float32(_sum64(d_phi_2))
    run_1 = 0.0
    run_2 = 0.0
    for i in range(n - 1, -1, -1):
        run_1 += d_phi_1[i]
        run_2 += d_phi_2[i]
        d_phi_1[i] = np.float32(run_1)
        d_phi_2[i] = np.float32(run_2)
    # inc = 2 pi / sr * 440 * 2 ** ((c - 69) / 12): d inc / d c = inc * ln 2 / 12; a clamped c stops it.
    d_c_1 = terms[0]  # Reused as scratch: the five sums above are taken.
    d_c_2 = terms[1]
    for i in range(n):
        raw_1 = np.float32(midi_1 + np.float32(depth_1 * up[0, i]))
        raw_2 = np.float32(midi_2 + np.float32(depth_2 * up[2, i]))
        c_1 = np.float64(d_phi_1[i]) * np.float64(inc_1[i]) * _LN2_OVER_12 if (raw_1 > 0.0) & (raw_1 < 127.0) else 0.0
        c_2 = np.float64(d_phi_2[i]) * np.float64(inc_2[i]) * _LN2_OVER_12 if (raw_2 > 0.0) & (raw_2 < 127.0) else 0.0
        d_c_1[i] = np.float32(c_1)
        d_c_2[i] = np.float32(c_2)
        d_up[0, i] = np.float32(c_1 * np.float64(depth_1))
        d_up[2, i] = np.float32(c_2 * np.float64(depth_2))
    d_sc[PITCH_1] = np.float32(_sum64(d_c_1))
    d_sc[DEPTH_1] = np.float32(_dot64(d_c_1, up[0]))
    d_sc[PITCH_2] = np.float32(_sum64(d_c_2))
    d_sc[DEPTH_2] = np.float32(_dot64(d_c_2, up[2]))
    d_sc[PARTIALS] = np.float32(d_steep * _PI)
    d_sc[SHAPE] = np.float32(d_shape)
    d_sc[LEVEL_1] = np.float32(d_level_1)
    d_sc[LEVEL_2] = np.float32(d_level_2)
    d_sc[LEVEL_NOISE] = np.float32(d_level_n)
    # Upsampling is linear: block m's first split[m] samples read row[b], row[b + 1] (weights w0,
    # w1), the rest row[b + 1], row[b + 2]; so each control sample gets contiguous dot products.
    n_in, block = d_tb.shape[1], w0.shape[1]
    for k in range(5):
        acc = np.zeros(n_in + 2, np.float64)
        for m in range(base.shape[0]):
            b = base[m]
            start = m * block
            stop = min(block, n - start)
            mid = min(split[m], stop)
            first = d_up[k, start:start + mid]
            rest = d_up[k, start + mid:start + stop]
            acc[b] += _dot64(first, w0[m, :mid])
            acc[b + 1] += _dot64(first, w1[m, :mid]) + _dot64(rest, w0[m, mid:stop])
            acc[b + 2] += _dot64(rest, w1[m, mid:stop])
        # Reads past the last control sample were clamped to it (see `_upsample`).
        acc[n_in - 1] += acc[n_in] + acc[n_in + 1]
        for j in range(n_in):
            d_tb[k, j] = np.float32(acc[j])


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _render_rows_vjp(targets, noise, scalars, g, base, split, w0, w1, sample_rate, d_targets, d_scalars):
    """Reverse mode of `_render_rows`, patches in parallel."""
    for b in numba.prange(g.shape[0]):
        _render_row_vjp(targets[b], noise[b % noise.shape[0]], scalars[b], g[b], base, split, w0, w1, sample_rate, d_targets[b], d_scalars[b])


@functools.lru_cache(maxsize=16)
def _weights(n_ctrl: int, n: int):
    """The upsampler's block plan (`upsample.block_plan`) as kernel arguments."""
    base, dl, _, w0, w1 = block_plan(n_ctrl, n)
    split = (dl == 0).sum(axis=1)  # dl is 0 then 1 within a block (the left index only grows)
    assert (np.diff(dl, axis=1) >= 0).all()
    return base.astype(np.int64), split.astype(np.int64), w0, w1


def _flatten(targets, noise, scalars):
    """Host arrays with the batch flattened: targets [B, 5, Nc], noise [r, N], scalars [B, N_SCALARS]."""
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
    scalars [..., N_SCALARS] -> audio [..., N]. Noise is treated as a constant (zero cotangent)."""
    if scalars.shape[-1] != N_SCALARS:
        raise ValueError(f"scalars must be [..., {N_SCALARS}] (kernel_scalars.SCALARS), got {scalars.shape}")
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
