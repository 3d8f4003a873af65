"""Synth throughput: jaxsynth vs torchsynth 1.0.2, rendering 1-second 44.1 kHz sounds, same run.

    python benchmarks/synth_throughput.py [--batches 32 128 512] [--repeats 7] [--impl cpu_kernel]

Both render a batch of given parameters (torchsynth: `Voice.output()` under no_grad; jaxsynth:
the jitted `Voice.render`, after warm-up, blocked until ready). Timings alternate between the
two synths and the median of the repeats is reported, so load on a shared machine hits both
alike. Prints sounds/s and times-faster-than-realtime for each, and the jaxsynth/torchsynth
ratio at batch 128 (of the medians) as the last line; minima and maxima are printed too, since
torchsynth's time per call varies by 2x from call to call on this machine. Writes a PNG next to the numbers with --plot.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import jax
import numpy as np

from jaxsynth import SynthConfig, Voice
from jaxsynth import torch_bridge as tb


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(batch: int, seconds: float, sample_rate: int, repeats: int, impl: str | None) -> dict:
    """Median seconds per batch for both synths at one batch size."""
    import torch

    config = SynthConfig(batch_size=batch, sample_rate=sample_rate, buffer_size_seconds=seconds)
    params = np.random.default_rng(batch).uniform(0, 1, (batch, 78)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tvoice = tb.torch_voice(config)
    tb.write_params(tvoice, params)
    jvoice = Voice(config, impl=impl)
    jparams = jax.device_put(params)
    noise = jax.device_put(jvoice.noise_rows)

    def run_jax():
        jvoice.render(jparams, noise).block_until_ready()

    def run_torch():
        with torch.no_grad():
            tvoice.output()

    run_jax()  # compile
    run_jax()
    run_torch()
    t_jax, t_torch = [], []
    for _ in range(repeats):
        t_jax.append(_time(run_jax))
        t_torch.append(_time(run_torch))
    return {
        "batch": batch, "impl": jvoice.impl,
        "jax_s": statistics.median(t_jax), "torch_s": statistics.median(t_torch),
        "jax_min": min(t_jax), "torch_min": min(t_torch), "jax_max": max(t_jax), "torch_max": max(t_torch),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--impl", choices=["xla", "cpu_kernel"], default=None, help="default: fastest for the backend")
    parser.add_argument("--plot", default=None, help="save a bar chart PNG here")
    args = parser.parse_args(argv)
    import torch

    print(f"# {platform.processor() or platform.machine()}, {jax.devices()[0].device_kind}, jax {jax.__version__}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), {args.seconds:g} s @ {args.sample_rate} Hz")
    rows = []
    for batch in args.batches:
        r = measure(batch, args.seconds, args.sample_rate, args.repeats, args.impl)
        rows.append(r)
        for name, key in (("torchsynth", "torch"), (f"jaxsynth[{r['impl']}]", "jax")):
            t = r[f"{key}_s"]
            sounds = batch / t
            print(f"batch={batch:4d} {name:22s} {t * 1e3:9.1f} ms (min {r[key + '_min'] * 1e3:.1f}, max {r[key + '_max'] * 1e3:.1f})"
                  f"  {sounds:9.0f} sounds/s  {sounds * args.seconds:9.0f}x realtime")
        print(f"batch={batch:4d} ratio jaxsynth/torchsynth = {r['torch_s'] / r['jax_s']:.2f} (of medians; "
              f"{r['torch_min'] / r['jax_min']:.2f} of minima)")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        x = np.arange(len(rows))
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(x - 0.2, [r["batch"] * args.seconds / r["torch_s"] for r in rows], 0.4, label="torchsynth 1.0.2")
        ax.bar(x + 0.2, [r["batch"] * args.seconds / r["jax_s"] for r in rows], 0.4, label=f"jaxsynth [{rows[0]['impl']}]")
        ax.set_xticks(x, [str(r["batch"]) for r in rows])
        ax.set_xlabel("batch size")
        ax.set_ylabel("x realtime")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
    ref = next((r for r in rows if r["batch"] == 128), rows[-1])
    print(f"ratio jaxsynth/torchsynth at batch {ref['batch']}: {ref['torch_s'] / ref['jax_s']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
