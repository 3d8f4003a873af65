"""Parameter names, ranges and the 0-1 <-> physical mapping against torchsynth 1.0.2."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import Voice, voice as voice_lib


def test_names_and_order_match_torchsynth(tb, torch_voice):
    assert tb.parameter_names(torch_voice) == Voice.parameter_names
    assert len(Voice.parameter_names) == 78


def test_ranges_match_torchsynth(torch_voice):
    torch_ranges = [p.parameter_range for _, p in torch_voice.named_parameters()]
    for ours, theirs in zip(Voice.ranges, torch_ranges):
        assert ours.name == theirs.name
        assert ours.minimum == pytest.approx(theirs.minimum, abs=0)
        assert ours.maximum == pytest.approx(theirs.maximum, abs=0)
        assert ours.curve == theirs.curve
        assert ours.symmetric == theirs.symmetric


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_from_0to1_matches_torch_to_the_bit(torch_voice, rng, jit):
    """Physical values equal torch's float32 results bit for bit, ends of the range included,
    except where torch's own `log2` is not correctly rounded (~0.05% of inputs): there the curve
    exponent amplifies one ulp of log2 into a few ulps of the value. Also under jit, where XLA's
    algebraic simplifier may rewrite arithmetic with scalar constants (it did, for 8% of values,
    when each of the 78 columns was mapped with its own scalar constants)."""
    import torch

    values = rng.uniform(0, 1, (4096, 78)).astype(np.float32)
    values[:78, :] = 0.0
    values[78:156, :] = 1.0
    values[156:234, :] = 0.5  # symmetric centre
    to_physical = jax.jit(voice_lib.to_physical) if jit else voice_lib.to_physical
    ours = np.asarray(to_physical(jnp.asarray(values)))
    torch_ranges = [p.parameter_range for _, p in torch_voice.named_parameters()]
    theirs = np.stack([r.from_0to1(torch.from_numpy(values[:, i])).numpy() for i, r in enumerate(torch_ranges)], 1)
    # XLA flushes float32 subnormals to zero: only mixer/noise (curve 0.025 = x**40) reaches them.
    normal = np.abs(theirs) >= np.finfo(np.float32).tiny
    differ = (ours != theirs) & normal
    assert differ.mean() < 1e-3, differ.mean()
    ulps = np.abs(ours.view(np.int32).astype(np.int64) - theirs.view(np.int32).astype(np.int64))[normal]
    assert ulps.max() <= 64, ulps.max()
    assert (ours[~normal] == 0).all()


def test_to_0to1_inverts_from_0to1(rng):
    """physical -> [0, 1] -> physical returns the value (the steep curves lose digits the other way)."""
    physical = voice_lib.to_physical(jnp.asarray(rng.uniform(0, 1, (512, 78)).astype(np.float32)))
    back = np.asarray(voice_lib.to_physical(voice_lib.to_0to1(physical)))
    span = np.array([r.maximum - r.minimum for r in Voice.ranges])
    assert (np.abs(back - np.asarray(physical)) <= 1e-5 * span + 1e-6 * np.abs(np.asarray(physical))).all()


def test_curve_gradient_is_finite_at_the_ends():
    grads = jax.jacfwd(voice_lib.to_physical)(jnp.concatenate([jnp.zeros((1, 78)), jnp.ones((1, 78)), jnp.full((1, 78), 0.5)]))
    assert np.isfinite(np.asarray(grads)).all()


def test_bridge_reads_back_what_it_writes(tb, rng):
    from jaxsynth import SynthConfig

    tvoice = tb.torch_voice(SynthConfig(batch_size=32, buffer_size_seconds=0.1))
    params = rng.uniform(0, 1, (32, 78)).astype(np.float32)
    tb.write_params(tvoice, params)
    np.testing.assert_array_equal(tb.read_params(tvoice), params)
    noise = tb.read_noise(tvoice)
    assert noise.shape == (32, 4410) and np.abs(noise).max() <= 1.0
    np.testing.assert_array_equal(tb.read_noise(tvoice, unique_rows=True), noise[:32])
