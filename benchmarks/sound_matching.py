"""Sound matching against random search at equal renders: in-domain and out-of-domain targets.

    .venv/bin/python benchmarks/sound_matching.py --seed 0 --in-domain 5 --budget 60 --out /tmp/sm
    .venv/bin/python benchmarks/sound_matching.py --run runs/reference/improved/Exp1-SCLP   # adds the latent method

In-domain targets are jaxsynth renders of held-out random patches (drawn with --seed over the
63 free parameters, note kept within the pyin range); out-of-domain targets (`matching_targets`)
are a Karplus-Strong plucked string, a two-operator FM bell, a band-passed noise burst, a word
spoken by espeak-ng and sampled instrument notes (pretty-midi's soundfont); the last two are
skipped with a message saying what to install when the binary or packages are missing. Every
method (`matching`: --methods, plus latent with --run) runs for --budget seconds (or --renders),
then random search gets the same number of renders. Prints one row per target and method, a
summary (median ratio of random search's distance to the method's), and writes
--out/sound_matching.png (distance against time) and results.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_targets  # noqa: E402

from jaxsynth import SynthConfig  # noqa: E402
from common import atomic  # noqa: E402
from matching import Problem, direct, latent, random_search  # noqa: E402
from matching.cmaes import cmaes  # noqa: E402
from matching.direct import POLISH_FRACTION  # noqa: E402

METHODS = {"direct": direct, "cmaes": cmaes}


def parameter_error(problem: Problem, params01: np.ndarray, truth_sub01: np.ndarray) -> float:
    """Mean absolute error in [0, 1] over the free parameters."""
    return float(np.mean(np.abs(np.asarray(problem.subset.select(jnp.asarray(params01))) - truth_sub01)))


def parse_methods(text: str) -> list[str]:
    """--methods 'direct,cmaes' -> ['direct', 'cmaes']; unknown names are an argparse error."""
    names = [m for m in text.split(",") if m]
    unknown = [m for m in names if m not in METHODS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown method(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(METHODS)}")
    return names


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=0, help="seed of the held-out in-domain patches")
    p.add_argument("--in-domain", type=int, default=5, help="in-domain targets")
    p.add_argument("--no-out-of-domain", action="store_true")
    p.add_argument("--methods", type=parse_methods, default=list(METHODS),
                   help=f"comma-separated, from {', '.join(METHODS)} (default all; --run adds latent)")
    p.add_argument("--budget", type=float, default=60.0, help="seconds per method per target")
    p.add_argument("--renders", type=int, help="also stop each method at this many renders (a load-independent "
                                                   "comparison: set --budget high)")
    p.add_argument("--polish", type=float, default=POLISH_FRACTION,
                   help=f"share of direct's budget spent polishing its best patch (0: none; default {POLISH_FRACTION})")
    p.add_argument("--starts", type=int, default=32)
    p.add_argument("--sample-rate", type=int, default=16000)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--run", help="a trained run: adds the latent method")
    p.add_argument("--out", default="/tmp/sound_matching", help="folder of the figure and results.json")
    args = p.parse_args(argv)
    if args.budget <= 0 or (args.renders is not None and args.renders < args.starts):
        p.error("--budget must be > 0 and --renders at least --starts")
    if not 0 <= args.polish < 1:
        p.error(f"--polish must be in [0, 1), got {args.polish}")

    synth = SynthConfig(batch_size=1, sample_rate=args.sample_rate, buffer_size_seconds=args.seconds,
                        control_rate=args.sample_rate // 100)
    run = None
    if args.run:
        from vae.run import load_run

        run = load_run(args.run)
    problem = Problem.create(synth, subset=run.subset if run else None)
    sr, n = synth.sample_rate, synth.buffer_size
    targets = matching_targets.in_domain(problem, args.seed, args.in_domain) if args.in_domain > 0 else []
    if not args.no_out_of_domain:
        extra, missing = matching_targets.optional(problem)
        for message in missing:
            print(f"sound_matching.py: {message}", file=sys.stderr, flush=True)
        targets += [(name, audio, None) for name, audio in matching_targets.synthetic(sr, n) + extra]
    steps = {"max_steps": args.renders // args.starts} if args.renders else {}
    options = {"direct": {"polish_fraction": args.polish}}
    methods = {m: (lambda t, fn=METHODS[m], m=m: fn(problem, t, args.starts, args.budget, seed=args.seed, **steps,
                                                    **options.get(m, {})))
               for m in args.methods}
    if run is not None:
        methods["latent"] = lambda t: latent(problem, t, run, args.starts, args.budget, seed=args.seed, **steps)
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
                         "random_history": base.history.tolist(),
                         "extra": {k: v for k, v in found.extra.items() if isinstance(v, (int, float, type(None)))}})
            r = rows[-1]
            print(f"{name:<16} {r['method']:<14} {r['distance']:8.3f} {r['random_search']:8.3f} {r['ratio']:6.2f} "
                  f"{err:9.3f} {rs_err:12.3f} {r['renders']:8d} {r['seconds']:7.1f} {r['random_seconds']:10.1f}",
                  flush=True)
    for domain in (True, False):
        for method in dict.fromkeys(r["method"] for r in rows):
            sel = [r for r in rows if r["in_domain"] == domain and r["method"] == method]
            if sel:
                print(f"summary: {'in-domain' if domain else 'out-of-domain'} {method}: median distance "
                      f"{statistics.median(r['distance'] for r in sel):.3f} vs random search "
                      f"{statistics.median(r['random_search'] for r in sel):.3f}, median ratio "
                      f"{statistics.median(r['ratio'] for r in sel):.2f}, median seconds "
                      f"{statistics.median(r['seconds'] for r in sel):.1f} over {len(sel)} targets")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / "results.json", json.dumps(rows))
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
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


if __name__ == "__main__":
    main()
