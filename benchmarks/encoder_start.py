"""The latent method from the encoder's guess: does starting where a model that hears puts the target beat
starting from the prior, and direct search, at equal wall time?

    .venv/bin/python benchmarks/encoder_start.py --targets 5 --budget 10 --out /tmp/encoder_start

Targets are held-out patches of the run's dataset (`run.dataset.test[--offset:][:--targets]`, default the
shipped timbre model `vae.pretrained.DEFAULT_RUN`), rendered by the run's synth, so the true patch is known.
Each search gets --budget seconds per target: `latent` from the encoder's code of the target (mu and posterior
draws), `latent` from N(0, I) draws, `direct`, and random search (as many draws as fit in the time). Every
search is compiled once on the first target beforehand, so the budget is search, not compilation (a round
still runs to its end: see the seconds). Baselines without search: the encoder's guess (decode(mu), one
encoder pass and one render), the 0.5 patch (every free parameter at 0.5, scripts/match.py's mean_patch) and
the training set's mean patch (what a collapsed model decodes). Prints a markdown table of spectral distance
and parameter error (mean |error| over the free parameters, in [0, 1]) per target and their medians, and
writes --out/results.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matching_targets  # noqa: E402
from sound_matching import parameter_error  # noqa: E402

from common import atomic  # noqa: E402
from vae import pretrained  # noqa: E402
from vae import run as run_lib  # noqa: E402
from matching import Problem, direct, latent, random_search  # noqa: E402
from matching.latent import decoded_match, latent_starts  # noqa: E402
from matching.random_search import distances  # noqa: E402

SEARCHES = ("latent (encoder start)", "latent (prior start)", "direct", "random search")
BASELINES = ("encoder guess", "0.5 patch", "training mean patch")


def searches(problem: Problem, run, starts: int, budget_s: float, seed: int) -> dict:
    """{name: target [n] -> MatchResult} of the compared searches, each run for budget_s seconds."""
    return {"latent (encoder start)": lambda t: latent(problem, t, run, starts, budget_s, seed=seed, start="encoder"),
            "latent (prior start)": lambda t: latent(problem, t, run, starts, budget_s, seed=seed, start="prior"),
            "direct": lambda t: direct(problem, t, starts, budget_s, seed=seed),
            "random search": lambda t: random_search(problem, t, 10 ** 9, seed=seed + 1, budget_s=budget_s)}


def baselines(problem: Problem, run, target: np.ndarray) -> dict:
    """{name: (patch [78] in [0, 1], spectral distance, seconds)} of the matches made without search."""
    t0 = time.perf_counter()
    guess = decoded_match(problem, target, run, latent_starts(problem, target, run, 1, start="encoder")[0][0])
    out = {"encoder guess": (*guess, time.perf_counter() - t0)}
    for name, sub01 in (("0.5 patch", np.full(problem.subset.size, 0.5, np.float32)),
                        ("training mean patch", run.dataset.train.mean(axis=0).astype(np.float32))):
        d = distances(problem, jnp.asarray(sub01[None]), jnp.asarray(target, jnp.float32), problem.noise())[0]
        out[name] = (np.asarray(problem.subset.expand(jnp.asarray(sub01[None])))[0], float(d), 0.0)
    return out


def table(rows: list[dict]) -> str:
    """Markdown: one line per target of 'spectral distance / parameter error' per method, then their medians
    (the lowest median distance in bold) and the median seconds each took."""
    names = BASELINES[:1] + SEARCHES + BASELINES[1:]
    lines = ["| target | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for target in dict.fromkeys(r["target"] for r in rows):
        cell = {r["method"]: f"{r['distance']:.3f} / {r['param_error']:.3f}" for r in rows if r["target"] == target}
        lines.append(f"| {target} | " + " | ".join(cell[m] for m in names) + " |")
    median = {m: {k: statistics.median(r[k] for r in rows if r["method"] == m)
                  for k in ("distance", "param_error", "seconds")} for m in names}
    best = min(names, key=lambda m: median[m]["distance"])
    lines.append("| median | " + " | ".join(("**{:.3f}**" if m == best else "{:.3f}").format(median[m]["distance"])
                                            + f" / {median[m]['param_error']:.3f}" for m in names) + " |")
    lines.append("| median seconds | " + " | ".join(f"{median[m]['seconds']:.2f}" for m in names) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", default=str(pretrained.DEFAULT_RUN), help="a run whose model hears sounds "
                                                                     "(default: the shipped timbre model)")
    p.add_argument("--targets", type=int, default=5, help="held-out patches matched")
    p.add_argument("--offset", type=int, default=0, help="first test patch")
    p.add_argument("--budget", type=float, default=10.0, help="seconds per search per target")
    p.add_argument("--starts", type=int, default=32)
    p.add_argument("--seed", type=int, default=0, help="seed of the starts and of random search")
    p.add_argument("--out", default="/tmp/encoder_start", help="folder of results.json")
    args = p.parse_args(argv)
    if args.budget <= 0 or args.targets < 1:
        p.error("--budget must be > 0 and --targets at least 1")
    run = run_lib.load_run(args.run)
    if not run_lib.hears_audio(run):
        p.error(f"--run {args.run} encodes parameters, not sounds: it has no encoder start")
    problem = Problem.create(dataclasses.replace(run.synth_config, batch_size=1), subset=run.subset)
    truth = run.dataset.test[args.offset:args.offset + args.targets]
    targets = matching_targets.rendered(problem, truth, f"test-{args.offset}")
    print(f"{len(targets)} held-out patches of {args.run} at {run.synth_config.sample_rate} Hz x "
          f"{run.synth_config.buffer_size_seconds} s, {args.budget:g} s per search; compiling ...", flush=True)
    for fn in searches(problem, run, args.starts, 0.1, args.seed).values():
        fn(targets[0][1])
    baselines(problem, run, targets[0][1])
    rows = []
    for name, audio, sub01 in targets:
        found = {m: fn(audio) for m, fn in searches(problem, run, args.starts, args.budget, args.seed).items()}
        matches = baselines(problem, run, audio) | {m: (r.params01, r.distance, r.seconds) for m, r in found.items()}
        for method, (params01, distance, seconds) in matches.items():
            rows.append({"target": name, "method": method, "distance": distance, "seconds": seconds,
                         "param_error": parameter_error(problem, params01, sub01)})
        print(" ".join(f"{r['method']}={r['distance']:.3f}" for r in rows if r["target"] == name), flush=True)
    print(table(rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / "results.json", json.dumps(rows))
    print(f"wrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
