"""Training-step benchmark: our jitted JAX step (vae.steps.train_step) vs a plain PyTorch + torchsynth step.

    python benchmarks/train_step.py                         # thesis setting: batch 256, 1 s @ 44.1 kHz
    python benchmarks/train_step.py --batch 32 --repeats 3  # quick
    python benchmarks/train_step.py --stages --batch 64     # per-stage timings of our step (RESULTS.md)

One step = encoder -> reparameterize -> decoder -> render the reference (input patch) and the
reconstruction (clamped decoder output) -> STFT -> SCLP (eq. 4.1) + parameter + alpha*clamp + KL
-> gradients -> Adam. Two modes: Experiment 1 (synth outside the model: no gradient through the
synth) and synth-head (Experiment 2: the spectral gradient flows through the synth into the decoder).
Ours computes SCLP on STFTs without FFTs (`vae.losses.sclp_stft`: STFT linearity + Parseval, the
same value and gradient); the baseline computes the two STFTs with torch.stft. `--stages` times
both formulations on our side.

Ours: exactly `vae.steps.train_step` (the function the training loop jits) on a
`vae.objective.Objective`, nothing re-implemented; the synth is jaxsynth with --impl (default: the
fastest for the backend, 'cpu_kernel' on CPU).

Baseline, the way the thesis ran it: a torch.nn VAE of the same architecture (63-256-64-16-64-256-63,
ReLU), torchsynth 1.0.2's Voice with SynthConfig(reproducible=False, no_grad=...), torch.stft
(Hann, n_fft 2048, hop 512, centred, reflect padding: the same as our feature config at 44.1 kHz),
the same loss formulas per example and torch.optim.Adam (lr 1e-4), float32 throughout. The
reference is rendered under torch.no_grad (it is data); the reconstruction is rendered under
no_grad in Experiment 1 mode and with autograd in synth-head mode.

How autograd is made to flow through torchsynth (1.0.2 does not support it out of the box):
  * SynthConfig(no_grad=False) raises ("Gradients have not been explicitly tested in 1.0"), so the
    Voice is built with no_grad=True and `voice.synthconfig.no_grad` is set to False afterwards; we
    call `voice.output()` directly, which never looks at the flag anyway.
  * Module parameters are leaf nn.Parameters that every module reads through
    `SynthModule.p(name) -> torchparameters[name].from_0to1()`. We override `p` on each module
    instance so that it maps a per-step tensor (a slice of the decoder output, a non-leaf) through
    the same `ModuleParameterRange.from_0to1`; `.data` is also set (detached) for code that reads
    it directly (torchsynth's mode selectors; not used by Voice). Gradients thus flow from the
    audio into the decoder output for every parameter that torchsynth differentiates.
  * torchsynth draws fresh noise on every call in non-reproducible mode (ours uses fixed rows);
    this changes neither the amount of work nor the formulas.

Timing: both implementations run in this process, after warm-up (compilation), interleaved
repeat by repeat, each step blocked until its results are ready; the median is reported.
Memory: for each phase, the peak resident set size of the process during its timed steps
(VmHWM from /proc/self/status, reset before every step with `echo 5 > /proc/self/clear_refs`;
the same counter as getrusage's ru_maxrss) and that peak minus the RSS at the step's start (max
over repeats). The absolute peak includes everything resident (both frameworks, buffers cached by the
allocators), the delta is the phase's own growth; tracemalloc would see neither XLA's nor torch's
buffers, so it is not used. For a clean absolute number of one phase run it alone (--only).

Output: one line per (mode, implementation) with s/step, steps/s, patches/s, peak and delta RSS,
then the ratio ours/baseline (baseline time / our time) per mode, the synth-head ratio last.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
import types
import warnings

import jax
import jax.numpy as jnp
import numpy as np

import jaxsynth
from jaxsynth import SynthConfig, Voice
from jaxsynth.voice import default_impl
from vae import data as data_lib
from spectral import features
from spectral import losses
from spectral import sizing
from vae import models, objective, steps
from vae.models import ModelConfig
from vae.config import LossConfig, ScheduleConfig

MODES = ("exp1", "synth_head")
HIDDEN, LATENT, N_PARAMS = (256, 64), 16, 63
LR, ALPHA, BETA = 1e-4, 100.0, 1.0
SYNTH_FLOOR = 1e-6  # Baseline only: see Baseline.step.


# ---------------------------------------------------------------------- memory


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def reset_peak_rss() -> bool:
    """Resets the process's peak RSS (VmHWM / ru_maxrss); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_mib() -> float:
    return _status_kb("VmRSS") / 1024


def peak_rss_mib() -> float:
    return _status_kb("VmHWM") / 1024


# ------------------------------------------------------------------- settings


def settings(batch: int, seconds: float, sample_rate: int, feature: str = "stft"):
    synth = SynthConfig(batch_size=batch, sample_rate=sample_rate, buffer_size_seconds=seconds)
    subset = data_lib.parameter_subset()
    loss = LossConfig("sclp", feature, sizing.feature_config(synth), ALPHA, 3.0)
    return synth, subset, loss


def patches(batch: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (batch, N_PARAMS)).astype(np.float32)


# ------------------------------------------------------------------------ ours


class Ours:
    """vae.steps.train_step on one batch (the same call the training loop makes)."""

    def __init__(self, mode: str, batch: int, seconds: float, sample_rate: int, impl: str | None,
                 feature: str = "stft"):
        synth, subset, loss = settings(batch, seconds, sample_rate, feature)
        self.impl = impl or default_impl()
        model = ModelConfig(N_PARAMS, HIDDEN, LATENT, synth_head=(mode == "synth_head"))
        self.obj = objective.Objective(model, synth, subset, loss, recon=True, spectral=True, batch_size=batch,
                                       impl=self.impl)
        self.opt = steps.OptimizerSpec(LR, ScheduleConfig(), steps_per_epoch=1000)
        self.params = models.init(model, 0)["params"]
        self.opt_state = steps.optimizer(self.opt).init(self.params)
        self.data = jnp.asarray(patches(batch))
        self.order = jnp.arange(batch, dtype=jnp.int32)
        self.noise = Voice(synth).batch_noise(batch)
        self.key = jax.random.PRNGKey(0)
        self.step_count = 0

    def step(self):
        self.params, self.opt_state, m = steps.train_step(
            self.params, self.opt_state, self.data, self.data, self.order, 0, BETA, self.noise, self.key, self.step_count,
            obj=self.obj, opt=self.opt)
        jax.block_until_ready((self.params, self.opt_state, m))
        self.step_count += 1
        return {k: float(v) for k, v in m.items()}


# -------------------------------------------------------------------- baseline


def _torch_vae(torch):
    nn = torch.nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(N_PARAMS, HIDDEN[0]), nn.ReLU(), nn.Linear(HIDDEN[0], HIDDEN[1]), nn.ReLU())
            self.mu, self.logvar = nn.Linear(HIDDEN[1], LATENT), nn.Linear(HIDDEN[1], LATENT)
            self.dec = nn.Sequential(nn.Linear(LATENT, HIDDEN[1]), nn.ReLU(), nn.Linear(HIDDEN[1], HIDDEN[0]), nn.ReLU(),
                                     nn.Linear(HIDDEN[0], N_PARAMS))

        def forward(self, x):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.dec(z), mu, logvar

    return VAE()


def _use_tensor_params(voice, torch):
    """Makes every module of a torchsynth Voice read its parameters from `module._bench_values`
    (tensors that may carry autograd history) instead of its leaf nn.Parameters."""
    from torchsynth.module import SynthModule

    def p(self, parameter_id):
        values = self.__dict__.get("_bench_values")
        if values is None:
            return SynthModule.p(self, parameter_id)
        return self.torchparameters[parameter_id].parameter_range.from_0to1(values[parameter_id])

    for module in voice.modules():
        if isinstance(module, SynthModule) and module is not voice:
            module.p = types.MethodType(p, module)


class Baseline:
    """PyTorch + torchsynth, the thesis's stack: same model, formulas, batch and optimizer."""

    def __init__(self, mode: str, batch: int, seconds: float, sample_rate: int, feature: str = "stft"):
        import torch
        from torchsynth.config import SynthConfig as TorchSynthConfig
        from torchsynth.synth import Voice as TorchVoice

        self.torch, self.grad_through_synth = torch, mode == "synth_head"
        synth, subset, loss = settings(batch, seconds, sample_rate, feature)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tconfig = TorchSynthConfig(batch_size=batch, sample_rate=sample_rate, buffer_size_seconds=seconds,
                                       control_rate=synth.control_rate, reproducible=False, no_grad=True)
            self.voice = TorchVoice(tconfig)
        tconfig.no_grad = not self.grad_through_synth  # The constructor refuses False; see module doc.
        _use_tensor_params(self.voice, torch)
        self.names = [name for name, _ in self.voice.named_parameters()]
        assert len(self.names) == 78
        self.frozen = torch.tensor(np.asarray(subset.frozen_values, np.float32))
        self.free_index = torch.tensor(np.asarray(subset.free_index), dtype=torch.long)
        cfg = self.feature_config = loss.feature_config
        self.feature = feature
        self.n_fft, self.hop = cfg.n_fft, cfg.hop_length
        self.window = torch.hann_window(cfg.n_fft, periodic=True)
        self.mel = torch.from_numpy(features.mel_filterbank(cfg))
        self.dct = torch.from_numpy(features.dct_matrix(cfg.n_mels, cfg.n_mfcc))
        torch.manual_seed(0)
        self.model = _torch_vae(torch)
        self.adam = torch.optim.Adam(self.model.parameters(), lr=LR)
        self.x = torch.from_numpy(patches(batch))

    def render(self, params63):
        """Audio [B, n] from [B, 63] in [0, 1] (frozen columns filled in), differentiable in params63."""
        torch = self.torch
        full = self.frozen.expand(params63.shape[0], -1).index_copy(1, self.free_index, params63)
        for i, name in enumerate(self.names):
            module_name, _, param_name = name.split(".")
            module = getattr(self.voice, module_name)
            values = module.__dict__.setdefault("_bench_values", {})
            values[param_name] = full[:, i]
            module.torchparameters[param_name].data = full[:, i].detach()
        return self.voice.output()

    def stft(self, audio):
        return self.torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, pad_mode="reflect",
                               return_complex=True)

    def mfcc(self, audio):
        """librosa's MFCC in torch (as spectral.features.mfcc): |STFT|^2 -> mel -> dB (top_db per example) -> DCT."""
        torch, cfg = self.torch, self.feature_config
        mel = (self.stft(audio).abs() ** 2).transpose(-1, -2) @ self.mel
        db = 10.0 * torch.log10(torch.clamp(mel, min=cfg.amin))
        db = torch.maximum(db, db.amax(dim=(-2, -1), keepdim=True) - cfg.top_db)
        return db @ self.dct

    def feature_of(self, audio):
        return self.stft(audio) if self.feature == "stft" else self.mfcc(audio)

    def sclp(self, target, pred, eps=losses.EPS):
        """Eq. 4.1 per example, mean over the batch (as vae.losses.sclp vmapped then averaged)."""
        torch = self.torch
        num = torch.linalg.vector_norm(target - pred, dim=(-2, -1))
        den = torch.linalg.vector_norm(target, dim=(-2, -1))
        return (num / (den + eps)).mean()

    def step(self):
        torch = self.torch
        x = self.x
        raw, mu, logvar = self.model(x)
        # torchsynth's LFO divides its shape weights by their sum (0/0 = nan when a decoded row's five
        # weights all clamp to 0, ~half the outputs at init); a floor of 1e-6 mixes such a row evenly,
        # as jaxsynth does, and is otherwise the same clamp (same zero gradient outside the range).
        decoded = torch.clamp(raw, SYNTH_FLOOR, 1.0)
        with torch.no_grad():
            target = self.render(x)
        if self.grad_through_synth:
            pred = self.render(decoded)
        else:
            with torch.no_grad():
                pred = self.render(decoded.detach())
        spectral = self.sclp(self.feature_of(target), self.feature_of(pred))
        recon = ((raw - x) ** 2).sum(-1).mean()
        clamp = ALPHA * ((raw - torch.clamp(raw, 0.0, 1.0)) ** 2).sum(-1).mean()
        kl = (0.5 * (mu ** 2 + logvar.exp() - logvar - 1.0).sum(-1)).mean()
        total = recon + clamp + BETA * spectral + kl
        self.adam.zero_grad(set_to_none=True)
        total.backward()
        self.adam.step()
        return {"total": float(total), "spectral": float(spectral), "recon": float(recon)}


# ---------------------------------------------------------------------- timing


def run_benchmark(args) -> list[dict]:
    phases = []
    for mode in args.modes:
        for name in args.only:
            impl = Ours(mode, args.batch, args.seconds, args.sample_rate, args.impl, args.feature) \
                if name == "ours" else Baseline(mode, args.batch, args.seconds, args.sample_rate, args.feature)
            phases.append({"mode": mode, "name": name, "impl": impl, "times": [], "peak": 0.0, "delta": 0.0})
    can_reset = reset_peak_rss()
    for ph in phases:  # Warm-up: compile (ours) and one full step each.
        t = time.perf_counter()
        ph["first"] = ph["impl"].step()
        ph["warmup_s"] = time.perf_counter() - t
        ph["impl"].step()
    for _ in range(args.repeats):
        for ph in phases:
            start_rss = rss_mib()
            reset_peak_rss()
            t = time.perf_counter()
            ph["impl"].step()
            ph["times"].append(time.perf_counter() - t)
            ph["peak"] = max(ph["peak"], peak_rss_mib())
            ph["delta"] = max(ph["delta"], peak_rss_mib() - start_rss)
    for ph in phases:
        ph["median_s"] = statistics.median(ph["times"])
    if not can_reset:
        print("# note: /proc/self/clear_refs not writable: peaks are process-wide since start")
    return phases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--impl", choices=["xla", "cpu_kernel"], default=None, help="jaxsynth impl (default: fastest)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--only", nargs="+", choices=["ours", "baseline"], default=["ours", "baseline"],
                        help="run only these implementations (e.g. for a clean peak-memory number)")
    parser.add_argument("--feature", choices=["stft", "mfcc"], default="stft",
                        help="feature of the SCLP term (stft: eq. 4.1 as in Exp 1/2; mfcc: eq. 4.8, train.py's default)")
    parser.add_argument("--stages", action="store_true", help="per-stage timings of our step instead")
    args = parser.parse_args(argv)
    import torch

    print(f"# {platform.processor() or platform.machine()}, {jax.devices()[0].device_kind} x{jax.device_count()}, "
          f"jax {jax.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"batch {args.batch}, {args.seconds:g} s @ {args.sample_rate} Hz, SCLP on {args.feature}, "
          f"{args.repeats} repeats (median)")
    if args.stages:
        if args.feature != "stft":
            parser.error("--stages profiles the SCLP-on-STFT step only")
        return stages(args)
    phases = run_benchmark(args)
    for ph in phases:
        label = f"ours[{ph['impl'].impl}]" if ph["name"] == "ours" else "torch+torchsynth"
        s = ph["median_s"]
        print(f"{ph['mode']:10s} {label:18s} {s:8.3f} s/step  {1 / s:7.3f} steps/s  {args.batch / s:8.1f} patches/s  "
              f"peak RSS {ph['peak']:7.0f} MiB (+{ph['delta']:.0f} MiB in step)  "
              f"[warm-up {ph['warmup_s']:.1f} s, loss {ph['first']['total']:.4g}]")
    for mode in args.modes:
        by = {ph["name"]: ph for ph in phases if ph["mode"] == mode}
        if len(by) == 2:
            print(f"ratio ours/baseline {mode}: {by['baseline']['median_s'] / by['ours']['median_s']:.2f}x")
    return 0


# ---------------------------------------------------------------------- stages


def _timed(fn, *a, repeats: int):
    jax.block_until_ready(fn(*a))  # compile
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn(*a))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def stages(args) -> int:
    """Each stage of our synth-head step jitted on its own, timed with block_until_ready."""
    ours = Ours("synth_head", args.batch, args.seconds, args.sample_rate, args.impl)
    obj, opt = ours.obj, ours.opt
    params, x, noise, key = ours.params, ours.data, ours.noise, ours.key
    cfg = obj.loss.feature_config
    vae = models.VAE(obj.model)

    model_fwd = jax.jit(lambda p, x: vae.apply({"params": p}, x, key))
    raw, mu, logvar = model_fwd(params, x)

    def synth(raw):
        return models.render_pair(x, raw, noise, obj.subset, obj.synth, True, obj.impl)

    target, pred = jax.jit(synth)(raw)

    def render(params01):
        return jaxsynth.render(obj.subset.expand(params01), noise, obj.synth, obj.impl)

    reference_fwd = jax.jit(render)
    recon_vjp = jax.jit(lambda raw, g: jax.vjp(lambda r: render(models.clamp01(r)), raw)[1](g)[0])

    def sclp_parseval(target, pred):  # What the step computes (losses.spectral_loss -> losses.sclp_stft).
        return jnp.mean(jax.vmap(functools.partial(losses.spectral_loss, "sclp", feature_name="stft",
                                                   feature_cfg=cfg))(target, pred))

    def sclp_fft(target, pred):  # The same loss from the two complex STFTs, as the baseline computes it.
        stft = functools.partial(features.stft, cfg=cfg)
        return jnp.mean(jax.vmap(lambda t, p: losses.sclp(stft(t), stft(p)))(target, pred))

    g_pred = jax.jit(jax.grad(sclp_parseval, argnums=1))(target, pred)
    spectral = {name: (jax.jit(fn), jax.jit(jax.value_and_grad(fn, argnums=1)))
                for name, fn in (("Parseval", sclp_parseval), ("FFT", sclp_fft))}
    def loss_fn(p):
        means = {k: v.mean(axis=0) for k, v in objective.example_terms(obj, p, x, key, noise).items()}
        return objective.combine(obj, means, BETA, 1.0)["total"]

    fwd = jax.jit(loss_fn)
    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))
    _, grads = value_and_grad(params)
    update = jax.jit(lambda g, s, p: steps.optimizer(opt).update(g, s, p))
    r = args.repeats
    rows = [
        ("encoder+decoder forward", _timed(model_fwd, params, x, repeats=r)),
        ("synth forward, reference (B sounds, no gradient)", _timed(reference_fwd, x, repeats=r)),
        ("synth forward+backward, reconstruction (vjp, B sounds)", _timed(recon_vjp, raw, g_pred, repeats=r)),
        ("SCLP on STFT (Parseval), value and d audio", _timed(spectral["Parseval"][1], target, pred, repeats=r)),
        ("Adam update", _timed(update, grads, ours.opt_state, params, repeats=r)),
    ]
    total = sum(t for _, t in rows)
    whole = [("[not in step] SCLP on STFT (Parseval), value only", _timed(spectral["Parseval"][0], target, pred,
                                                                           repeats=r)),
             ("[not in step] SCLP via two FFT STFTs, value only", _timed(spectral["FFT"][0], target, pred, repeats=r)),
             ("[not in step] SCLP via two FFT STFTs, value and d audio", _timed(spectral["FFT"][1], target, pred,
                                                                                 repeats=r)),
             ("full loss forward (jit)", _timed(fwd, params, repeats=r)),
             ("full value_and_grad (jit)", _timed(value_and_grad, params, repeats=r))]
    ours.step()
    times = []
    for _ in range(r):
        t = time.perf_counter()
        ours.step()
        times.append(time.perf_counter() - t)
    whole.append(("train_step (jit, as in training)", statistics.median(times)))
    print(f"synth-head step, impl {obj.impl}; stages jitted separately, median of {r}:")
    for name, t in rows:
        print(f"  {name:55s} {t * 1e3:9.1f} ms  {100 * t / total:5.1f} %")
    print(f"  {'sum of stages':55s} {total * 1e3:9.1f} ms")
    for name, t in whole:
        print(f"  {name:55s} {t * 1e3:9.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
