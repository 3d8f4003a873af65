"""float32 exp2 and log2 that round like torch's CPU kernels, so parameters and pitches match bit for bit.

XLA's own `exp2`/`log2` are off by up to 5 ulps, and a few ulps on a VCO's tuning or pitch
depth become a frequency bias that the oscillator phase integrates over 44,100 samples. torch
computes `exp2` with SLEEF's `exp2f_u10` (a degree-6 polynomial evaluated with FMAs) and `log2`
to within 1 ulp of correct rounding; we reproduce the first exactly (FMA emulated with
error-free transformations, so the result does not depend on whether XLA contracts a*b + c)
and round the second correctly from two-float arithmetic.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

_MASK_HI = np.uint32(0xFFFFF000)


def two_sum(a, b):
    """a + b = s + e exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    """a = hi + lo with hi holding the top 12 significand bits (by masking: no multiply to contract)."""
    hi = jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(a, jnp.uint32) & _MASK_HI, jnp.float32)
    return hi, a - hi


def two_prod(a, b):
    """a * b = p + e exactly (Dekker); every partial product is exact, so FMA contraction cannot change it."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def fma(a, b, c):
    """a * b + c with a single rounding (up to rare double-rounding ties)."""
    p, e = two_prod(a, b)
    s, t = two_sum(p, c)
    return s + (t + e)


def div(a, b):
    """a / b correctly rounded (XLA's CPU division is not: it is off by an ulp for ~1/3 of inputs).

    One Newton correction from the exact residual a - q*b; gradient as for plain division.
    """
    return _div(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32))


@jax.custom_jvp
def _div(a, b):
    q = a / b
    p, e = two_prod(q, b)
    return q + ((a - p) - e) / b


@_div.defjvp
def _div_jvp(primals, tangents):
    a, b = primals
    da, db = tangents
    q = _div(a, b)
    return q, (da - q * db) / b


def _pow2(n):
    """2**n for integer n in [-126, 127]."""
    return jax.lax.bitcast_convert_type((n + 127) << 23, jnp.float32)


def _ldexp(x, n):
    """x * 2**n for integer-valued float n in [-252, 254], in two exact steps (as SLEEF's ldexp2)."""
    n = n.astype(jnp.int32)
    half = n >> 1
    return x * _pow2(half) * _pow2(n - half)


# SLEEF 3.x `xexp2f` coefficients (the u10 kernel torch uses for float32 `exp2` on CPU).
EXP2_COEFFS = (0.1535920892e-3, 0.1339262701e-2, 0.9618384764e-2, 0.5550347269e-1, 0.2402264476e0, 0.6931471825e0)


def exp2(x):
    """2 ** x in float32, bit-identical to torch's CPU `exp2` (subnormals included). Finite gradient."""
    return _exp2(x)


@jax.custom_jvp
def _exp2(x):
    x = jnp.asarray(x, jnp.float32)
    xc = jnp.clip(x, -151.0, 128.0)
    n = jnp.round(xc)
    s = xc - n
    u = jnp.full_like(s, EXP2_COEFFS[0])
    for c in EXP2_COEFFS[1:]:
        u = fma(u, s, jnp.float32(c))
    u = fma(u, s, jnp.float32(1.0))
    out = _ldexp(u, n)
    return jnp.where(x < -150.0, 0.0, jnp.where(x >= 128.0, jnp.inf, out))


@_exp2.defjvp
def _exp2_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    y = _exp2(x)
    return y, y * np.float32(np.log(2.0)) * dx


def df_mul(a, b):
    """Two-float product (hi, lo) of two-float numbers a and b."""
    p, e = two_prod(a[0], b[0])
    return two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def df_add(a, b):
    """Two-float sum of two-float numbers a and b."""
    s, e = two_sum(a[0], b[0])
    return two_sum(s, e + (a[1] + b[1]))


def _df_const(value: float):
    hi = np.float32(value)
    return hi, np.float32(value - np.float64(hi))


_LOG2_K = _df_const(2.0 / np.log(2.0))
_THIRD = _df_const(1.0 / 3.0)


@jax.custom_jvp
def log2(x):
    """log2(x) for x > 0 in float32, correctly rounded from ~44-bit two-float arithmetic.

    Intended for parameter-sized arrays (about a hundred flops per element). log2(0) = -inf.
    """
    x = jnp.asarray(x, jnp.float32)
    xs = jnp.where(x > 0, x, 1.0)
    m, e = jnp.frexp(xs)  # xs = m * 2**e, m in [0.5, 1)
    small = m < np.float32(np.sqrt(0.5))
    m = jnp.where(small, m * 2.0, m)
    e = (e - small.astype(e.dtype)).astype(jnp.float32)
    # s = (m - 1) / (m + 1) as two-float; m - 1 is exact, m + 1 = d_hi + d_lo exactly.
    num = m - 1.0
    d_hi, d_lo = two_sum(m, jnp.float32(1.0))
    s_hi = num / d_hi
    p, pe = two_prod(s_hi, d_hi)
    s = two_sum(s_hi, ((num - p) - pe - s_hi * d_lo) / d_hi)
    # log2(m) = (2 / ln 2) * atanh(s) = K * s * (1 + s^2 * (1/3 + s^2/5 + s^4/7 + ...)).
    s2 = df_mul(s, s)
    r = s2[0]
    rest = r * (1 / 5 + r * (1 / 7 + r * (1 / 9 + r * (1 / 11 + r * (1 / 13 + r / 15)))))
    series = df_mul(s2, df_add(_THIRD, (rest, jnp.zeros_like(rest))))
    body = df_add(s, df_mul(s, series))
    k = df_mul(_LOG2_K, body)
    hi, lo = df_add((e, jnp.zeros_like(e)), k)
    out = hi + lo
    return jnp.where(x > 0, out, jnp.where(x == 0, -jnp.inf, jnp.nan))


@log2.defjvp
def _log2_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    safe = jnp.where(x > 0, x, 1.0)
    return log2(x), jnp.where(x > 0, dx / (safe * np.float32(np.log(2.0))), 0.0)
