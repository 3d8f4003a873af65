"""Each Voice module against its torchsynth 1.0.2 counterpart, fed the same inputs.

Control-rate modules differ from torch by float32 rounding only (torch's SLEEF cos/pow vs
XLA's); the upsampler and the VCO frequency path are bit-exact; a VCO's phase, a running sum,
may differ by one ulp of its (large) value where the double-precision sum rounds near a tie.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth import adsr as adsr_lib
from jaxsynth import lfo as lfo_lib
from jaxsynth import mixer as mixer_lib
from jaxsynth import modulation as modulation_lib
from jaxsynth import parameters as P
from jaxsynth import upsample as upsample_lib
from jaxsynth import vca as vca_lib
from jaxsynth import vco as vco_lib
from jaxsynth import voice as voice_lib

torch = pytest.importorskip("torch")


def _signal(tensor):
    """torchsynth modules expect its `Signal` tensor subclass."""
    from torchsynth.signal import Signal

    return tensor.as_subclass(Signal)


@pytest.fixture(scope="module")
def patch(tb, torch_voice, parity_config):
    """Random patches with a few rows pinned to range extremes, loaded into torchsynth."""
    rng = np.random.default_rng(7)
    params = rng.uniform(0, 1, (parity_config.batch_size, 78)).astype(np.float32)
    params[:39, :] = np.where(rng.uniform(size=(39, 78)) < 0.3, rng.integers(0, 2, (39, 78)), params[:39, :]).astype(np.float32)
    tb.write_params(torch_voice, params)
    physical = voice_lib.to_physical(jnp.asarray(params))
    return params, voice_lib._split(physical)


def _close(ours, theirs, atol):
    ours, theirs = np.asarray(ours), theirs.detach().numpy()
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=0)


@pytest.mark.parametrize("name", voice_lib.ADSR_MODULES)
def test_adsr(name, patch, torch_voice, parity_config):
    _, p = patch
    with torch.no_grad():
        note_on = torch_voice.keyboard()[1]
        theirs = getattr(torch_voice, name)(note_on)
    a = p[name]
    ours = adsr_lib.adsr(a["attack"], a["decay"], a["sustain"], a["release"], a["alpha"], p["keyboard"]["duration"],
                         parity_config.control_buffer_size, float(parity_config.control_rate), parity_config.eps)
    _close(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("name", ["lfo_1", "lfo_2"])
def test_lfo_with_rate_modulation(name, patch, torch_voice, parity_config):
    _, p = patch
    with torch.no_grad():
        rate = getattr(torch_voice, f"{name}_rate_adsr")(torch_voice.keyboard()[1])
        theirs = getattr(torch_voice, name)(rate)
    a = p[name]
    weights = jnp.stack([a[s] for s in P.LFO_SHAPES], axis=-1)
    ours = lfo_lib.lfo(a["frequency"], a["mod_depth"], a["initial_phase"], weights, jnp.asarray(rate.numpy()), float(parity_config.control_rate))
    # Square and saw jump by 1 where the phase wraps; a one-ulp phase difference can move a jump
    # by a control sample, so compare everywhere but within one sample of a discontinuity.
    diff = np.abs(np.asarray(ours) - theirs.numpy())
    assert np.mean(diff > 1e-5) < 1e-3
    assert np.median(diff) < 1e-7


def test_modulation_mixer(patch, torch_voice):
    _, p = patch
    sources = torch.rand((128, 4, 441), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        theirs = torch_voice.mod_matrix(*[_signal(sources[:, i]) for i in range(4)])
    amounts = jnp.stack([p["mod_matrix"][r.name] for r in P.mod_matrix_ranges()], axis=-1).reshape(128, 4, 5)
    ours = modulation_lib.modulation_mixer(amounts, jnp.asarray(sources.numpy()))
    for k in range(5):
        _close(ours[:, k], theirs[k], atol=5e-7)


def test_upsample_is_bit_exact(torch_voice, parity_config):
    signal = torch.rand((64, parity_config.control_buffer_size), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs = torch_voice.control_upsample(_signal(signal)).numpy()
    ours = np.asarray(upsample_lib.upsample(jnp.asarray(signal.numpy()), parity_config.buffer_size))
    assert (ours == theirs).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vco_1", "vco_2"])
def test_vco(name, patch, torch_voice, parity_config):
    _, p = patch
    mod = _signal(torch.rand((128, parity_config.buffer_size), generator=torch.Generator().manual_seed(2)) * 2 - 1)
    module = getattr(torch_voice, name)
    with torch.no_grad():
        midi_f0 = torch_voice.keyboard()[0]
        theirs = module(midi_f0, mod)
        freq = module.make_control_as_frequency(midi_f0, mod)
        theirs_phase = (module.make_argument(freq) + module.p("initial_phase").unsqueeze(1)).numpy()
    v = p[name]
    phase = np.asarray(vco_lib.phase(p["keyboard"]["midi_f0"], v["tuning"], v["mod_depth"], v["initial_phase"], jnp.asarray(mod.numpy()), float(parity_config.sample_rate)))
    # Phases: identical but for rare double-rounding ties (a few per million samples, <= 2 ulps).
    ulp = np.spacing(np.abs(theirs_phase).astype(np.float32))
    assert (np.abs(phase - theirs_phase) <= 2 * ulp).all()
    assert (phase == theirs_phase).mean() > 0.999
    if name == "vco_1":
        ours = vco_lib.sine(theirs_phase)
    else:
        ours = vco_lib.square_saw(theirs_phase, p["keyboard"]["midi_f0"], v["tuning"], v["mod_depth"], v["shape"])
    _close(ours, theirs, atol=2e-6)


def test_noise_vca_and_mixer(tb, patch, torch_voice):
    _, p = patch
    noise = tb.read_noise(torch_voice)
    gain = _signal(torch.rand(noise.shape, generator=torch.Generator().manual_seed(3)))
    with torch.no_grad():
        theirs_noise = torch_voice.vca(torch_voice.noise(), gain)
        sources = [_signal(torch.rand(noise.shape, generator=torch.Generator().manual_seed(s)) * 2 - 1) for s in (4, 5, 6)]
        theirs_mix = torch_voice.mixer(*sources)
    _close(vca_lib.vca(jnp.asarray(noise), jnp.asarray(gain.numpy())), theirs_noise, atol=0)
    levels = jnp.stack([p["mixer"][k] for k in ("vco_1", "vco_2", "noise")], axis=-1)
    ours_mix = mixer_lib.audio_mixer(levels, jnp.stack([jnp.asarray(s.numpy()) for s in sources], axis=-2))
    _close(ours_mix, theirs_mix, atol=5e-7)
