"""`scripts/match.py TARGET.wav --out DIR`: find the Voice patch whose render is closest to a WAV."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from common import atomic
from common.help import Parser, check_writable_dir

METHODS = ("direct", "cmaes", "latent", "random")
REFERENCE_SHARE = 1 / 3  # Of --budget, for the random-search reference after the method.
LATENT_STAGES = ("; encoder_guess is the encoder's code of the target decoded, before any search (an instant match), "
                 "latent_search the best after the descent on z, spectral_distance after the direct refinement")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="match.py",
        description="Sound matching: finds the torchsynth Voice patch whose render is closest to TARGET.wav "
                    "(any rate, channels, length) and writes DIR/patch.json, DIR/match.wav, DIR/target.wav, "
                    "DIR/match.png and DIR/history.json (renders, best distance, loss per step). Every method is shown against random search with the same number of "
                    "renders (which runs after it, in about half its time).",
        epilog="example: match.py pluck.wav --out runs/match-pluck --budget 60 --verify-torchsynth")
    p.add_argument("target", metavar="TARGET.wav", help="the sound to match (a WAV file)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--run", metavar="RUN_DIR", help="a trained run (scripts/train.py --out); needed by --method latent")
    p.add_argument("--method", choices=METHODS,
                   help="direct: gradient descent on the parameters' logits from many starts, then half the budget "
                        "polishing the best patch (coordinate scans of every parameter, descent); cmaes: CMA-ES on "
                        "the parameters in [0, 1] (--starts candidates per generation), then gradient refinement of "
                        "its last population; "
                        "latent: descent on z through --run's decoder, then direct refinement; it starts where "
                        "--run's encoder puts the target when the run hears sounds (its mu and posterior draws; the "
                        "decoded mu is printed as encoder_guess, an instant match), else from N(0, I) draws; "
                        "random: random search "
                        "alone (default: direct, the closest in benchmarks/RESULTS.md, with or without --run)")
    p.add_argument("--budget", type=_positive(float), default=60.0, metavar="SECONDS",
                   help="search time in all, counted from when the target is loaded: the method gets "
                        f"{round(100 * (1 - REFERENCE_SHARE))}%% of it and the random-search reference the rest "
                        "(each with its compilation; the reference stops early when its time is up); the first "
                        "round of each runs to its end even past its share (compiling it takes a few seconds, more "
                        "on a busy CPU), and loading jax and the target before and writing the outputs after come "
                        "on top; bars show the time (default 60)")
    p.add_argument("--starts", type=_positive(int), default=32,
                   help="starts descended as one batch, or CMA-ES's population per generation (default 32)")
    p.add_argument("--sample-rate", type=_positive(int), metavar="HZ",
                   help="synth rate the target is resampled to (default: --run's, else 16000)")
    p.add_argument("--seconds", type=_positive(float),
                   help="synth buffer length; the target is trimmed or padded to it (default: --run's, else 1.0)")
    p.add_argument("--all-params", action="store_true",
                   help="search all 78 parameters (default: the thesis's 63, other routes off; with --run, the run's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the starts and of random search")
    p.add_argument("--verify-torchsynth", action="store_true",
                   help="render the patch with torchsynth 1.0.2 (needs the torch extra) and print its distance to ours")
    return p


@contextlib.contextmanager
def budget_bar(desc: str, seconds: float):
    """A progress bar (stderr) of a stage's elapsed time against its time budget in seconds."""
    from tqdm.auto import tqdm

    done = threading.Event()
    with tqdm(total=round(seconds), desc=desc, unit="s", bar_format="{desc}: {bar} {n:.0f}/{total:.0f} s",
              leave=False) as bar:
        def tick():
            start = time.perf_counter()
            while not done.wait(0.5):
                bar.n = min(time.perf_counter() - start, seconds)
                bar.refresh()

        thread = threading.Thread(target=tick, daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()


def fail(message: str) -> int:
    print(f"match.py: error: {message}", file=sys.stderr)
    return 2


def verify_torchsynth(params01: np.ndarray, synth) -> str:
    """Renders params01 [78] with torchsynth and with jaxsynth on torchsynth's noise; a one-line comparison."""
    import dataclasses

    import jax.numpy as jnp

    from jaxsynth import render
    from jaxsynth import torch_bridge as tb

    config = dataclasses.replace(synth, batch_size=32)
    voice = tb.torch_voice(config)
    theirs = tb.render_torch(voice, np.tile(params01[None], (32, 1)))[0]
    ours = np.asarray(render(jnp.asarray(params01[None]), jnp.asarray(tb.read_noise(voice)[:1]), config))[0]
    err = np.abs(theirs - ours)
    rel = float(np.sqrt(np.mean(err ** 2)) / max(np.sqrt(np.mean(theirs ** 2)), 1e-12))
    return f"verify-torchsynth: max_abs_err={err.max():.3g} rel_rms={rel:.3g} (torchsynth 1.0.2 vs jaxsynth, same patch and noise)"


def synth_config(sample_rate: int | None, seconds: float | None, run_synth=None):
    """The synth the target is loaded at and matched with (batch 1): --run's (`run_synth`, a SynthConfig) where
    --sample-rate and --seconds are left out or say the same, so that its encoder hears the target as it was
    trained to; otherwise sample_rate Hz (default 16000) x seconds (default 1.0), control rate sample_rate / 100.
    ValueError for settings the synth refuses."""
    import dataclasses

    from jaxsynth import SynthConfig

    if run_synth is not None:
        sample_rate = sample_rate or run_synth.sample_rate
        seconds = seconds or run_synth.buffer_size_seconds
        if (sample_rate, seconds) == (run_synth.sample_rate, run_synth.buffer_size_seconds):
            return dataclasses.replace(run_synth, batch_size=1)
    sample_rate, seconds = sample_rate or 16000, seconds or 1.0
    return SynthConfig(batch_size=1, sample_rate=sample_rate, buffer_size_seconds=seconds,
                       control_rate=max(1, sample_rate // 100))


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from matching import audio
    from matching.cmaes import cmaes
    from matching.direct import direct
    from matching.latent import EncoderStartError, check_encoder_target, latent
    from matching.problem import Problem
    from matching.random_search import mean_patch_distance, random_search
    from vae.run import hears_audio

    method = args.method or "direct"
    if method == "latent" and not args.run:
        return fail("--method latent needs --run RUN_DIR (a trained run)")
    if method == "cmaes" and importlib.util.find_spec("cma") is None:
        return fail("--method cmaes needs the cma package: pip install -e '.[match]' (or cma==4.5.0)")
    run = None
    if args.run:
        from vae.run import load_run

        if not (Path(args.run) / "config.json").is_file():
            return fail(f"--run {args.run} is not a run directory (no config.json; make one with scripts/train.py)")
        try:
            run = load_run(args.run)
        except Exception as err:  # a damaged run: name it, no traceback
            return fail(f"--run {args.run} could not be loaded: {err}")
    try:
        synth = synth_config(args.sample_rate, args.seconds, run.synth_config if run is not None else None)
    except ValueError as err:
        return fail(f"--sample-rate/--seconds: {err}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            target = audio.load_target(args.target, synth)
        for w in caught:
            print(f"match.py: warning: {w.message}", file=sys.stderr)
    except audio.TargetError as err:
        return fail(str(err))
    out = Path(args.out)
    try:
        check_writable_dir(out, "--out")
    except ValueError as err:
        return fail(str(err))

    problem = Problem.create(synth, args.all_params, run.subset if run is not None else None)
    if method == "latent" and hears_audio(run):
        try:
            check_encoder_target(problem, target, run)  # before searching: the encoder hears the run's rate, length
        except EncoderStartError as err:
            return fail(str(err))
    t0 = time.perf_counter()
    method_s = args.budget * (1 - REFERENCE_SHARE) if method != "random" else 0.0
    results = []
    searches = {"direct": lambda: direct(problem, target, args.starts, method_s, seed=args.seed),
                "cmaes": lambda: cmaes(problem, target, args.starts, method_s, seed=args.seed),
                "latent": lambda: latent(problem, target, run, args.starts, method_s, seed=args.seed)}
    if method in searches and method_s > 0:
        with budget_bar(f"{method} search (compiles first)", method_s):
            results.append(searches[method]())
    renders = results[0].renders if results else max(args.starts, int(args.budget * 200))
    left_s = max(0.0, args.budget - (time.perf_counter() - t0))
    print(f"random search with the same {renders} renders (the baseline) ...", file=sys.stderr, flush=True)
    with budget_bar("random-search reference", left_s):
        baseline = random_search(problem, target, renders, seed=args.seed + 1, budget_s=left_s)
    results.append(baseline)
    mean_patch = mean_patch_distance(problem, target)
    best = results[0]
    import jax.numpy as jnp

    matched = np.asarray(problem.render(problem.subset.select(jnp.asarray(best.params01[None])), problem.noise()))[0]
    summary = {r.method: {"spectral_distance": r.distance, "renders": r.renders, "seconds": round(r.seconds, 2),
                          **{k: v for k, v in r.extra.items() if isinstance(v, (int, float, str, type(None)))}}
               for r in results}
    written = []
    try:
        _write_outputs(out, written, args, synth, problem, best, target, matched, results, summary)
    except OSError as err:
        for path in reversed(written):
            with contextlib.suppress(OSError):
                path.rmdir() if path == out else path.unlink(missing_ok=True)
        return fail(f"cannot write {err.filename or out}: {err.strerror or err}; nothing of this match was kept "
                    f"(best {best.method} distance {best.distance:.4f}): free some space or choose another --out, "
                    "and run it again")
    print(f"wrote {out / 'patch.json'}, {out / 'match.wav'}, {out / 'match.png'}")
    if args.verify_torchsynth:
        try:
            print(verify_torchsynth(best.params01, synth))
        except ImportError as err:
            print(f"match.py: warning: --verify-torchsynth skipped: {err}", file=sys.stderr)
    seconds = time.perf_counter() - t0
    print("spectral distances, lower is closer: random_search is the best of as many uniform random patches, "
          "mean_patch every free parameter at 0.5" + (LATENT_STAGES if "latent_distance" in best.extra else ""))
    print(f"match: method={best.method} {latent_stages(best.extra)}spectral_distance={best.distance:.4f} "
          f"random_search={baseline.distance:.4f} mean_patch={mean_patch:.4f} renders={best.renders} "
          f"seconds={seconds:.1f}")
    return 0


def latent_stages(extra: dict) -> str:
    """The latent method's stages for the summary line, 'start=encoder encoder_guess=D latent_search=D ' (no
    encoder_guess for a prior start), from its MatchResult.extra; '' for other methods."""
    if "latent_distance" not in extra:
        return ""
    guess = f"encoder_guess={extra['encoder_distance']:.4f} " if "encoder_distance" in extra else ""
    return f"start={extra['start']} {guess}latent_search={extra['latent_distance']:.4f} "


def _write_outputs(out: Path, written: list, args, synth, problem, best, target, matched, results, summary) -> None:
    """Writes the match's files into `out` (each atomically), appending to `written` each file written and `out`
    if it was made here, so that a failure (a full disk) can remove what this run wrote and nothing else."""
    import soundfile as sf

    from matching import figure, patch
    from vae.config import NOISE_SEED

    if not out.exists():
        out.mkdir(parents=True)
        written.append(out)
    for name, audio in (("match.wav", matched), ("target.wav", target)):
        with atomic.atomic_path(out / name) as tmp:
            sf.write(tmp, audio, synth.sample_rate, subtype="FLOAT")
        written.append(out / name)
    patch.write_patch(out / "patch.json", best.params01, synth,
                      noise={"source": "jaxsynth.Voice", "seed": NOISE_SEED, "row": 0},
                      free=list(problem.subset.names), target=str(args.target), match=summary)
    written.append(out / "patch.json")
    figure.match_figure(out / "match.png", target, matched, synth.sample_rate, results)
    written.append(out / "match.png")
    atomic.write_text(out / "history.json", json.dumps({r.method: np.asarray(r.history).tolist() for r in results}))
