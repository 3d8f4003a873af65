"""Synth throughput: jaxsynth vs torchsynth 1.0.2 vs SynthAX 0.2.2, 1-second 44.1 kHz sounds, one process.

    python benchmarks/synth_throughput.py [--batches 32 128 512] [--repeats 7] [--impl cpu_kernel]

Each synth renders a batch of the same given parameters:
  * torchsynth: `Voice.output()` under no_grad (skipped, with a message, without the torch extra);
  * jaxsynth, raw: the jitted pure function `jaxsynth.render(params, noise, config, impl)` on device
    arrays (what a user's own jitted code calls);
  * jaxsynth, `Voice.render`: the public convenience method (eager input validation, default noise
    rows, then the same jitted function), so its overhead over the raw call shows;
  * SynthAX: its Flax `Voice.apply` jitted, on the same patch mapped to its parameter tree
    (`benchmarks/synthax_compare.py`; skipped, with a message, without the `bench` extra).
All after warm-up (compilation), blocked until ready. Timings alternate between the synths repeat
by repeat (the starting synth rotating) and the median of the repeats is reported, so load on a
shared machine hits all alike; minima and maxima are printed too (torchsynth's time per call
varies by 2x on this machine).
Per batch: sounds/s, times faster than realtime, and the ratios jaxsynth/torchsynth and
jaxsynth/SynthAX (other's median time / jaxsynth `Voice.render`'s median time) in one line; the
last line repeats the ratios at batch 128. Writes a bar chart with --plot.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time
import warnings

import jax
import numpy as np

import jaxsynth
from jaxsynth import SynthConfig, Voice

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthax_compare  # noqa: E402  (benchmarks/ is not a package)

JAX_PUBLIC, JAX_RAW, TORCH, SYNTHAX = "jaxsynth Voice.render", "jaxsynth raw jit", "torchsynth", "SynthAX"


def torch_missing() -> str | None:
    try:
        from jaxsynth import torch_bridge as tb

        tb.import_torchsynth()
    except ImportError as err:
        return str(err)
    return None


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def contenders(batch: int, seconds: float, sample_rate: int, impl: str | None, synths: set[str]) -> dict:
    """name -> zero-argument callable rendering one batch of the same patches (blocking)."""
    config = SynthConfig(batch_size=batch, sample_rate=sample_rate, buffer_size_seconds=seconds)
    params = np.random.default_rng(batch).uniform(0, 1, (batch, 78)).astype(np.float32)
    jvoice = Voice(config, impl=impl)
    jparams = jax.device_put(params)
    noise = jax.device_put(jvoice.batch_noise(batch))
    raw = jax.jit(functools.partial(jaxsynth.render, config=config, impl=jvoice.impl))
    runs = {
        JAX_PUBLIC: lambda: jvoice.render(jparams).block_until_ready(),
        JAX_RAW: lambda: raw(jparams, noise).block_until_ready(),
    }
    if TORCH in synths:
        import torch

        from jaxsynth import torch_bridge as tb

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tvoice = tb.torch_voice(config, reproducible=batch % 32 == 0)
        tb.write_params(tvoice, params)

        def run_torch():
            with torch.no_grad():
                tvoice.output()

        runs[TORCH] = run_torch
    if SYNTHAX in synths:
        sx = synthax_compare.SynthaxVoice(config)
        tree = jax.device_put(synthax_compare.to_synthax_params(params))
        runs[SYNTHAX] = lambda: sx.render(tree).block_until_ready()
    runs["impl"] = jvoice.impl
    return runs


def measure(batch: int, seconds: float, sample_rate: int, repeats: int, impl: str | None, synths: set[str]) -> dict:
    """{name: [seconds per repeat]} for every synth at one batch size, interleaved repeats."""
    runs = contenders(batch, seconds, sample_rate, impl, synths)
    impl_name = runs.pop("impl")
    for fn in runs.values():  # warm-up: compile, then one more call
        fn()
        fn()
    times = {name: [] for name in runs}
    order = list(runs)
    for k in range(repeats):  # the starting synth rotates, so none always follows the same one
        for name in order[k % len(order):] + order[:k % len(order)]:
            times[name].append(_time(runs[name]))
    return {"batch": batch, "impl": impl_name, "times": times}


def ratio(r: dict, other: str) -> str:
    t = r["times"]
    if other not in t:
        return "n/a"
    return f"{statistics.median(t[other]) / statistics.median(t[JAX_PUBLIC]):.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--impl", choices=["xla", "cpu_kernel"], default=None, help="default: fastest for the backend")
    parser.add_argument("--plot", default=None, help="save a bar chart PNG here")
    args = parser.parse_args(argv)

    synths = {TORCH, SYNTHAX}
    versions = []
    for name, missing in ((TORCH, torch_missing()), (SYNTHAX, synthax_compare.synthax_missing())):
        if missing:
            synths.discard(name)
            print(f"# {name} column skipped: {missing}")
    if TORCH in synths:
        import torch

        versions.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    if SYNTHAX in synths:
        from importlib.metadata import version

        versions.append(f"synthax {version('synthax')}")
    print(f"# {platform.processor() or platform.machine()}, {jax.devices()[0].device_kind}, jax {jax.__version__}"
          f"{''.join(', ' + v for v in versions)}, {args.seconds:g} s @ {args.sample_rate} Hz, median of {args.repeats}")
    rows = []
    for batch in args.batches:
        r = measure(batch, args.seconds, args.sample_rate, args.repeats, args.impl, synths)
        rows.append(r)
        for name, t in r["times"].items():
            med = statistics.median(t)
            label = f"{name}[{r['impl']}]" if name.startswith("jaxsynth") else name
            sounds = batch / med
            print(f"batch={batch:4d} {label:34s} {med * 1e3:9.1f} ms (min {min(t) * 1e3:.1f}, max {max(t) * 1e3:.1f})"
                  f"  {sounds:9.0f} sounds/s  {sounds * args.seconds:9.0f}x realtime")
        pub, raw = r["times"][JAX_PUBLIC], r["times"][JAX_RAW]
        print(f"batch={batch:4d} ratios jaxsynth/torchsynth = {ratio(r, TORCH)}, jaxsynth/SynthAX = {ratio(r, SYNTHAX)}"
              f" (of medians, Voice.render); Voice.render / raw jit = {statistics.median(pub) / statistics.median(raw):.3f}"
              f" of medians, {min(pub) / min(raw):.3f} of minima")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = [n for n in (TORCH, SYNTHAX, JAX_RAW, JAX_PUBLIC) if n in rows[0]["times"]]
        x = np.arange(len(rows))
        width = 0.8 / len(names)
        fig, ax = plt.subplots(figsize=(7, 3.8))
        for k, name in enumerate(names):
            label = {TORCH: "torchsynth 1.0.2", SYNTHAX: "SynthAX 0.2.2"}.get(name, f"{name} [{rows[0]['impl']}]")
            ax.bar(x + (k - (len(names) - 1) / 2) * width,
                   [r["batch"] * args.seconds / statistics.median(r["times"][name]) for r in rows], width, label=label)
        ax.set_xticks(x, [str(r["batch"]) for r in rows])
        ax.set_xlabel("batch size")
        ax.set_ylabel("x realtime")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    ref = next((r for r in rows if r["batch"] == 128), rows[-1])
    print(f"ratios at batch {ref['batch']}: jaxsynth/torchsynth = {ratio(ref, TORCH)}, "
          f"jaxsynth/SynthAX = {ratio(ref, SYNTHAX)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
