"""Sound matching against random search at equal renders: in-domain and out-of-domain targets.

    .venv/bin/python benchmarks/sound_matching.py --seed 0 --in-domain 5 --budget 30 --out /tmp/sm
    .venv/bin/python benchmarks/sound_matching.py --run runs/reference/improved/Exp1-SCLP   # adds the latent method

In-domain targets are jaxsynth renders of held-out random patches (drawn with --seed over the
63 free parameters, note kept within the pyin range); out-of-domain targets are generated here: a
Karplus-Strong plucked string, a two-operator FM bell and a band-passed noise burst. Every method
(`vae.matching`) runs for --budget seconds, then random search gets the same number of renders.
Prints one row per target and method, a summary (median ratio of random search's distance to the
method's), and writes --out/sound_matching.png (distance against time) and results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal

from jaxsynth import SynthConfig
from vae.matching import Problem, direct, latent, random_search


def karplus_strong(sr: int, n: int, f0: float = 196.0, decay: float = 0.996, seed: int = 0) -> np.ndarray:
    """A plucked string [n]: a noise burst circulating in a delay line of sr/f0 samples with an averaging filter."""
    rng = np.random.default_rng(seed)
    period = int(round(sr / f0))
    line = rng.uniform(-1, 1, period)
    out = np.empty(n)
    for i in range(n):
        out[i] = line[i % period]
        line[i % period] = decay * 0.5 * (line[i % period] + line[(i + 1) % period])
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def fm_bell(sr: int, n: int, f0: float = 440.0, ratio: float = 1.4, index: float = 6.0, tau: float = 0.35) -> np.ndarray:
    """A two-operator FM bell [n] (Chowning 1973): inharmonic ratio, index and amplitude decaying together."""
    t = np.arange(n) / sr
    env = np.exp(-t / tau)
    return (0.5 * env * np.sin(2 * np.pi * f0 * t + index * env * np.sin(2 * np.pi * ratio * f0 * t))).astype(np.float32)


def noise_burst(sr: int, n: int, low: float = 800.0, high: float = 2500.0, seed: int = 0) -> np.ndarray:
    """Band-passed white noise [n] with a 5 ms attack and an exponential decay (a snare-like burst)."""
    rng = np.random.default_rng(seed)
    sos = scipy.signal.butter(4, [low, min(high, 0.45 * sr)], "bandpass", fs=sr, output="sos")
    t = np.arange(n) / sr
    env = np.minimum(t / 0.005, 1.0) * np.exp(-t / 0.12)
    x = env * scipy.signal.sosfilt(sos, rng.standard_normal(n))
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def in_domain(problem: Problem, seed: int, count: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """count (name, target [n], free parameters [k]) of held-out patches, midi_f0 in [36, 96]."""
    sub01 = np.array(jax.random.uniform(jax.random.PRNGKey(10_000 + seed), (count, problem.subset.size)))
    col = problem.subset.names.index("keyboard/midi_f0")
    sub01[:, col] = (36 + 60 * sub01[:, col]) / 127
    audio = np.asarray(problem.render(jnp.asarray(sub01), problem.noise()))
    return [(f"patch-{seed}-{i}", audio[i], sub01[i]) for i in range(count)]


def parameter_error(problem: Problem, params01: np.ndarray, truth_sub01: np.ndarray) -> float:
    """Mean absolute error in [0, 1] over the free parameters."""
    return float(np.mean(np.abs(np.asarray(problem.subset.select(jnp.asarray(params01))) - truth_sub01)))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out in-domain patches")
    p.add_argument("--in-domain", type=int, default=5, help="in-domain targets")
    p.add_argument("--no-out-of-domain", action="store_true")
    p.add_argument("--budget", type=float, default=30.0, help="seconds per method per target")
    p.add_argument("--starts", type=int, default=32)
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--run", help="a trained run: adds the latent method")
    p.add_argument("--out", default="/tmp/sound_matching", help="folder of the figure and results.json")
    args = p.parse_args(argv)

    synth = SynthConfig(batch_size=1, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds,
                        control_rate=args.sample_rate // 100)
    run = None
    if args.run:
        from vae.run import load_run

        run = load_run(args.run)
    problem = Problem.create(synth, subset=run.subset if run else None)
    sr, n = synth.sample_rate, synth.buffer_size
    targets = [(name, audio, truth) for name, audio, truth in in_domain(problem, args.seed, args.in_domain)]
    if not args.no_out_of_domain:
        targets += [("karplus-strong", karplus_strong(sr, n), None), ("fm-bell", fm_bell(sr, n), None),
                    ("noise-burst", noise_burst(sr, n), None)]
    methods = {"direct": lambda t: direct(problem, t, args.starts, args.budget, seed=args.seed)}
    if run is not None:
        methods["latent"] = lambda t: latent(problem, t, run, args.starts, args.budget, seed=args.seed)
    rows = []
    print(f"{'target':<16} {'method':<14} {'distance':>8} {'random':>8} {'ratio':>6} {'param_err':>9} "
          f"{'rs_param_err':>12} {'renders':>8} {'seconds':>7} {'rs_seconds':>10}", flush=True)
    for name, audio, truth in targets:
        for method, fn in methods.items():
            found = fn(audio)
            base = random_search(problem, audio, found.renders, seed=args.seed + 1)
            err = parameter_error(problem, found.params01, truth) if truth is not None else float("nan")
            rs_err = parameter_error(problem, base.params01, truth) if truth is not None else float("nan")
            rows.append({"target": name, "in_domain": truth is not None, "method": found.method,
                         "distance": found.distance, "random_search": base.distance,
                         "ratio": base.distance / max(found.distance, 1e-9), "param_error": err,
                         "random_param_error": rs_err, "renders": found.renders, "seconds": found.seconds,
                         "random_seconds": base.seconds, "history": found.history.tolist(),
                         "random_history": base.history.tolist()})
            r = rows[-1]
            print(f"{name:<16} {r['method']:<14} {r['distance']:8.3f} {r['random_search']:8.3f} {r['ratio']:6.2f} "
                  f"{err:9.3f} {rs_err:12.3f} {r['renders']:8d} {r['seconds']:7.1f} {r['random_seconds']:10.1f}",
                  flush=True)
    for domain in (True, False):
        for method in {r["method"] for r in rows}:
            sel = [r for r in rows if r["in_domain"] == domain and r["method"] == method]
            if sel:
                print(f"summary: {'in-domain' if domain else 'out-of-domain'} {method}: median distance "
                      f"{statistics.median(r['distance'] for r in sel):.3f} vs random search "
                      f"{statistics.median(r['random_search'] for r in sel):.3f}, median ratio "
                      f"{statistics.median(r['ratio'] for r in sel):.2f}, median seconds "
                      f"{statistics.median(r['seconds'] for r in sel):.1f} over {len(sel)} targets")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows))
    figure(out / "sound_matching.png", rows)
    print(f"wrote {out / 'results.json'}, {out / 'sound_matching.png'}")


def figure(path: Path, rows: list[dict]) -> None:
    """Best distance against seconds (renders scaled by each search's own time), one panel per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["target"] for r in rows))
    cols = min(4, len(names))
    fig, axes = plt.subplots((len(names) + cols - 1) // cols, cols, figsize=(3.5 * cols, 2.8 * ((len(names) + cols - 1) // cols)),
                             squeeze=False, constrained_layout=True)
    for ax, name in zip(axes.flat, names):
        for r in (r for r in rows if r["target"] == name):
            for key, secs, label in (("history", r["seconds"], r["method"]), ("random_history", r["random_seconds"],
                                                                             f"random ({r['method']})")):
                h = np.asarray(r[key])
                ax.plot(h[:, 0] / h[-1, 0] * secs, np.minimum.accumulate(h[:, 1]), label=label)
        ax.set(title=name, xlabel="seconds", ylabel="spectral distance")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
