"""GPU figures in one run: synth throughput up to the memory limit, the training step, GPU-vs-CPU parity.

    bash benchmarks/gpu.sh                  # on the GPU machine: table to $OUT/gpu_results.md
    bash benchmarks/gpu.sh --cpu-smoke      # the same code paths, tiny, on CPU (CI)

Run through benchmarks/gpu.sh (it sets PYTHONPATH to the repository, so nothing is installed,
and holds the whole run under 8 minutes). Sections, each appended to one markdown table that is
rewritten after every row (a run cut short still leaves its rows):

1. Synth throughput, jaxsynth impl "xla" (the accelerator path): the raw jitted
   `jaxsynth.render` on device arrays, 1 s at 44.1 kHz, batch 128, 256, ... 8192, median of
   repeats after compilation; x realtime = sounds per second x seconds per sound. SynthAX's
   jitted `Voice.apply` at the same batches when `synthax` is importable (carry its wheel).
2. The training step at batch 256 in both modes (Experiment 1, synth head), SCLP on STFT: exactly
   benchmarks/train_step.py's `Ours` (vae.steps.train_step), plus its torch + torchsynth baseline
   when torchsynth is importable (it is absent on the GPU image: ours only).
3. Parity: impl "xla" on the default device (the GPU) against the CPU kernel (`cpu_kernel`, on
   the CPU device) on the same random patches and every parameter at 0 and 1, with the same noise
   rows, judged by jaxsynth/parity.py's tolerance (`parity.compare`, phase-ulp bound).
4. Synth throughput beyond 8192, doubling the batch until the device runs out of memory (the
   error is caught and the largest batch that ran is reported) or the time budget ends.

--cpu-smoke: 0.05 s at 8 kHz, batch 4 then 8 (cap), the training step at batch 4 with the CPU's
default impl (cpu_kernel: the XLA gradient compiles 3x slower and is tested elsewhere), 6 parity
patches; about 35-40 s of CPU.

Goal figures (issue 13): above 100,000x realtime for the synth on one H100/H200-class GPU; the
training step at batch 256 under 10 ms. The exit status is 1 if parity fails (the table is
written first), 2 if no accelerator is found without --cpu-smoke.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import platform
import statistics
import sys
import time
import types
import warnings

import jax
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import jaxsynth  # noqa: E402
from jaxsynth import SynthConfig, Voice  # noqa: E402
from jaxsynth import parity  # noqa: E402

GOAL_REALTIME = 100_000
GOAL_STEP_S = 0.010


class Table:
    """One markdown table, rewritten to `path` after each row."""

    def __init__(self, path: str, header: list[str]):
        self.path, self.header, self.rows = path, header, []

    def add(self, part: str, setting: str, time_: str, throughput: str, note: str = "") -> None:
        self.rows.append((part, setting, time_, throughput, note))
        print(f"| {part} | {setting} | {time_} | {throughput} | {note} |", flush=True)
        self.write()

    def write(self) -> None:
        lines = list(self.header)
        lines += ["", "| part | setting | time | throughput | note |", "|---|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in self.rows]
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")


def is_oom(err: BaseException) -> bool:
    text = str(err).lower()
    return any(s in text for s in ("resource_exhausted", "resource exhausted", "out of memory", "oom",
                                   "failed to allocate"))


def first_line(err: BaseException, n: int = 140) -> str:
    line = next((ln for ln in str(err).splitlines() if ln.strip()), type(err).__name__)
    return line.replace("|", "/")[:n]


@functools.lru_cache(maxsize=None)
def jitted_render(config: SynthConfig, impl: str):
    """One jitted `jaxsynth.render` per (config, impl), shared by the sections (compiled once)."""
    return jax.jit(functools.partial(jaxsynth.render, config=config, impl=impl))


def timed_repeats(fn, min_repeats: int = 3, max_repeats: int = 20, min_total_s: float = 1.0) -> list[float]:
    times = []
    while len(times) < max_repeats and (len(times) < min_repeats or sum(times) < min_total_s):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


# ------------------------------------------------------------------ throughput


def throughput_row(table: Table, batch: int, args, synthax) -> float:
    """Times the raw jitted xla render (and SynthAX) at one batch; returns wall seconds spent."""
    start = time.perf_counter()
    config = SynthConfig(batch_size=batch, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds)
    params = np.random.default_rng(batch).uniform(0, 1, (batch, 78)).astype(np.float32)
    noise = jax.device_put(Voice(config).batch_noise(batch))
    render = jitted_render(config, "xla")
    jparams = jax.device_put(params)
    t = time.perf_counter()
    render(jparams, noise).block_until_ready()
    compile_s = time.perf_counter() - t
    times = timed_repeats(lambda: render(jparams, noise).block_until_ready())
    med = statistics.median(times)
    rt = batch * args.seconds / med
    table.add("synth, jaxsynth xla (raw jit)", f"batch {batch}, {args.seconds:g} s @ {args.sample_rate} Hz",
              f"{med * 1e3:.3f} ms/batch (min {min(times) * 1e3:.3f}, {len(times)} runs)",
              f"{batch / med:,.0f} sounds/s = {rt:,.0f}x realtime",
              f"compile+first call {compile_s:.1f} s" + (f"; goal > {GOAL_REALTIME:,}x" if batch == 8192 else ""))
    args.best_realtime = max(getattr(args, "best_realtime", 0.0), rt)
    del render, jparams, noise
    if synthax is not None and batch <= args.synthax_max_batch:
        sx = synthax.SynthaxVoice(config)
        tree = jax.device_put(synthax.to_synthax_params(params))
        t = time.perf_counter()
        sx.render(tree).block_until_ready()
        sx_compile = time.perf_counter() - t
        sx_times = timed_repeats(lambda: sx.render(tree).block_until_ready())
        sx_med = statistics.median(sx_times)
        table.add("synth, SynthAX 0.2.2 (jit Voice.apply)", f"batch {batch}",
                  f"{sx_med * 1e3:.3f} ms/batch (min {min(sx_times) * 1e3:.3f}, {len(sx_times)} runs)",
                  f"{batch * args.seconds / sx_med:,.0f}x realtime",
                  f"jaxsynth/SynthAX = {sx_med / med:.2f}; compile {sx_compile:.1f} s")
        del sx, tree
    return time.perf_counter() - start


def throughput(table: Table, batches: list[int], args, synthax, deadline: float, last_cost: list[float]) -> str | None:
    """Rows for `batches` in order; returns why it stopped early (OOM, budget) or None."""
    for batch in batches:
        if last_cost and time.perf_counter() + 2.5 * last_cost[-1] > deadline:
            return f"time budget: batch {batch} not started"
        try:
            last_cost.append(throughput_row(table, batch, args, synthax))
            args.largest_batch = batch
        except Exception as err:  # noqa: BLE001 - any failure ends the escalation, reported in the table
            gc.collect()
            jax.clear_caches()
            kind = "out of memory" if is_oom(err) else "error"
            return f"{kind} at batch {batch}: {first_line(err)}"
    return None


# ------------------------------------------------------------------ train step


def train_steps(table: Table, args) -> None:
    import train_step as ts  # benchmarks/train_step.py

    from jaxsynth import torch_bridge as tb

    only = ["ours"]
    try:
        tb.import_torchsynth()
        only.append("baseline")
        why = "torch + torchsynth baseline included"
    except ImportError:
        why = "torchsynth absent: ours only"
    ns = types.SimpleNamespace(modes=list(ts.MODES), only=only, batch=args.train_batch, seconds=args.seconds,
                               sample_rate=args.sample_rate, impl=args.impl, feature="stft", repeats=args.train_repeats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phases = ts.run_benchmark(ns)
    for ph in phases:
        label = f"ours[{ph['impl'].impl}]" if ph["name"] == "ours" else "torch+torchsynth"
        s = ph["median_s"]
        goal = f"; goal < {GOAL_STEP_S * 1e3:g} ms" if ph["name"] == "ours" and args.train_batch == 256 else ""
        table.add(f"train step, {ph['mode']}, {label}", f"batch {args.train_batch}, SCLP on STFT, {args.seconds:g} s "
                  f"@ {args.sample_rate} Hz", f"{s * 1e3:.2f} ms/step (min {min(ph['times']) * 1e3:.2f}, "
                  f"{len(ph['times'])} runs)", f"{args.train_batch / s:,.0f} patches/s",
                  f"warm-up {ph['warmup_s']:.1f} s, loss {ph['first']['total']:.4g}; {why}{goal}")


# ---------------------------------------------------------------------- parity


def gpu_parity(table: Table, args) -> bool:
    cpu = jax.devices("cpu")[0]
    accel = jax.devices()[0]
    config = SynthConfig(batch_size=args.parity_batch, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds)
    rng = np.random.default_rng(args.seed)
    patches = parity.random_patches(rng, args.parity_patches)
    if args.extremes:
        patches = np.concatenate([patches, parity.extreme_patches(rng)[0]])
    with jax.default_device(cpu):
        noise = np.asarray(Voice(config).batch_noise(args.parity_batch))
    xla, kernel = jitted_render(config, "xla"), jitted_render(config, "cpu_kernel")
    reports = []
    for start in range(0, len(patches), args.parity_batch):
        chunk = patches[start:start + args.parity_batch]
        pad = args.parity_batch - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.full((pad, 78), 0.5, np.float32)])
        ours = np.asarray(xla(jax.device_put(chunk, accel), jax.device_put(noise, accel)))
        ref = np.asarray(kernel(jax.device_put(chunk, cpu), jax.device_put(noise, cpu)))
        with jax.default_device(cpu):
            sens = parity.phase_sensitivity(chunk, config)
        rep = parity.compare(ours, ref, sens)
        keep = args.parity_batch - pad
        reports.append((rep.passed[:keep], rep.rel_rms[:keep], np.maximum(rep.max_abs_err / rep.abs_tol,
                                                                          rep.rel_rms / rep.rel_tol)[:keep]))
    passed, rel, frac = (np.concatenate(x) for x in zip(*reports))
    ok = bool(passed.all())
    table.add(f"parity, xla on {accel.platform} vs cpu_kernel on cpu", f"{len(patches)} patches (seed {args.seed}"
              f"{', with extremes' if args.extremes else ''}), {args.seconds:g} s @ {args.sample_rate} Hz",
              "", f"{'PASS' if ok else 'FAIL'} {int(passed.sum())}/{len(passed)}",
              f"rel. RMS median {np.median(rel):.2g}, max {rel.max():.2g}; worst patch at {frac.max():.2f} of "
              f"jaxsynth/parity.py's tolerance")
    return ok


# ------------------------------------------------------------------------ main


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="markdown file to write")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny settings on CPU, for CI (seconds)")
    p.add_argument("--budget-s", type=float, default=None, help="stop escalating batches after this (default 400)")
    a = p.parse_args(argv)
    args = types.SimpleNamespace(seconds=1.0, sample_rate=44100, batches=[128, 256, 512, 1024, 2048, 4096, 8192],
                                 max_batch=1 << 22, train_batch=256, train_repeats=10, parity_patches=512,
                                 parity_batch=256, extremes=True, seed=0, impl="xla", synthax_max_batch=8192,
                                 budget_s=400.0)
    if a.cpu_smoke:
        args.__dict__.update(seconds=0.05, sample_rate=8000, batches=[4], max_batch=8, train_batch=4,
                             train_repeats=2, parity_patches=6, parity_batch=4, extremes=False,
                             synthax_max_batch=4, budget_s=240.0,  # code paths, not speed: room for a loaded machine
                             impl=None)  # training step: the CPU's default impl (cpu_kernel) compiles 3x faster
    if a.budget_s is not None:
        args.budget_s = a.budget_s
    t0 = time.perf_counter()
    deadline = t0 + args.budget_s
    backend = jax.default_backend()
    if backend == "cpu" and not a.cpu_smoke:
        print("no accelerator: jax's default backend is cpu (run with --cpu-smoke for the CPU check)", file=sys.stderr)
        return 2
    dev = jax.devices()[0]
    try:
        limit = (dev.memory_stats() or {}).get("bytes_limit")
    except Exception:  # noqa: BLE001 - not every backend reports memory
        limit = None
    import synthax_compare

    missing = synthax_compare.synthax_missing()
    synthax = None if missing else synthax_compare
    header = [f"# jaxsynth GPU figures{' (CPU smoke run: tiny settings, not figures)' if a.cpu_smoke else ''}", "",
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.node()}; python "
              f"{platform.python_version()}; jax {jax.__version__}; backend {backend}: {dev.device_kind} "
              f"x{jax.device_count()}" + (f", {limit / 2**30:.0f} GiB for XLA" if limit else "") +
              f"; {os.cpu_count()} CPUs; SynthAX: {'yes' if synthax else 'absent'}.",
              f"Command: `bash benchmarks/gpu.sh{' --cpu-smoke' if a.cpu_smoke else ''}`. Goals: synth > "
              f"{GOAL_REALTIME:,}x realtime (1 s @ 44.1 kHz); training step at batch 256 < {GOAL_STEP_S * 1e3:g} ms."]
    table = Table(a.out, header)
    table.write()
    costs: list[float] = []
    args.largest_batch = None
    def section(name, t=[t0]):
        now = time.perf_counter()
        print(f"[{now - t0:6.1f} s] {name} done in {now - t[0]:.1f} s", file=sys.stderr, flush=True)
        t[0] = now

    section("start-up")
    stop = throughput(table, args.batches, args, synthax, deadline, costs)
    section("throughput")
    train_steps(table, args)
    section("training step")
    ok = gpu_parity(table, args)
    section("parity")
    if stop is None:
        more, b = [], args.batches[-1] * 2
        while b <= args.max_batch:
            more.append(b)
            b *= 2
        stop = throughput(table, more, args, synthax=None, deadline=deadline, last_cost=costs) or \
            f"cap: batch {args.max_batch} reached"
    table.add("synth, largest batch that ran", f"up to {args.largest_batch}", "",
              f"best {getattr(args, 'best_realtime', 0):,.0f}x realtime", f"stopped by {stop}")
    table.add("total", "", f"{time.perf_counter() - t0:.0f} s", "", "")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
