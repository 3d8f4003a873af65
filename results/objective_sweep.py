"""Why the thesis's objective does not learn, and what each fix does, measured at the quick scale.

    python results/objective_sweep.py                 # every variant (about 20 min on 2 cores)
    python results/objective_sweep.py --only exp1     # the Experiment 1 variants (no synth in the step)
    python results/objective_sweep.py --names exp2-thesis exp2-improved   # some, in this order

Each variant is one `scripts/train.py` command (shown in the table) trained into runs/sweep/<name> (an
existing run resumes, a finished one is only re-measured), then measured on the first 192 test
patches against the mean patch and shuffled test sounds (`eval.baselines`). Writes
results/objective_sweep.md and .json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--scale", "quick", "--loss", "sclp", "--feature", "stft"]
EXP1 = [*QUICK, "--lr", "1e-3", "--max-epochs", "500", "--patience", "500"]  # 3,000 steps, no early stop.
EXP2 = [*QUICK, "--synth-head", "--lr", "1e-3", "--max-epochs", "100", "--patience", "100"]  # 600 steps.
# 300 epochs (1,800 steps) of parameter loss only, then 600 steps of the synth head with it kept (eq. 4.4).
EXP2_PRETRAINED = [*QUICK, "--synth-head", "--lr", "1e-3", "--max-epochs", "100", "--patience", "300",
                   "--pretrain-epochs", "300", "--finetune-recon"]

# (name, group, flags, what it tests)
VARIANTS = (
    ("exp1-thesis", "exp1", EXP1, "thesis objective: KL weight 1"),
    ("exp1-kl0.1", "exp1", [*EXP1, "--kl-weight", "0.1"], "KL weight 0.1 (sigma 0.22)"),
    ("exp1-kl0.01", "exp1", [*EXP1, "--kl-weight", "0.01"], "KL weight 0.01 (sigma 0.07): the improved objective"),
    ("exp1-kl0.001", "exp1", [*EXP1, "--kl-weight", "0.001"], "KL weight 0.001 (sigma 0.02)"),
    ("exp1-freebits1", "exp1", [*EXP1, "--free-bits", "1.0"], "KL weight 1 with 1 nat of free bits per dimension"),
    ("exp1-kl0.01-warmup", "exp1", [*EXP1, "--kl-weight", "0.01", "--kl-warmup-epochs", "100"],
     "KL weight 0.01 reached over 100 epochs"),
    ("exp2-thesis", "exp2", EXP2, "synth head, thesis objective (per-example SCLP, KL weight 1)"),
    ("exp2-kl0.01", "exp2", [*EXP2, "--kl-weight", "0.01"], "synth head, KL weight 0.01 only"),
    ("exp2-batch", "exp2", [*EXP2, "--kl-weight", "0.01", "--spectral-reduction", "batch"],
     "+ batch-level spectral convergence"),
    ("exp2-improved", "exp2", [*EXP2, "--objective", "improved"],
     "+ multi-resolution STFT term (the improved objective)"),
    ("exp2-improved-lr1e-4", "exp2", [*EXP2, "--objective", "improved", "--lr", "1e-4"],
     "the improved objective at the thesis's learning rate"),
    ("exp2-improved-ratio0.1", "exp2", [*EXP2, "--objective", "improved", "--ratio", "0.1"],
     "the improved objective with the spectral term at 1/10 of L_recon instead of 3x"),
    ("exp2-improved-sigmoid", "exp2", [*EXP2, "--objective", "improved", "--output", "sigmoid"],
     "the improved objective with a sigmoid decoder output (no clamping)"),
    ("exp2-improved-pretrained", "exp2", [*EXP2_PRETRAINED, "--objective", "improved"],
     "the improved objective after 1,800 steps of parameter loss only (Experiment 1, no synth)"),
    ("exp2-improved-pretrained-ratio0.1", "exp2", [*EXP2_PRETRAINED, "--objective", "improved", "--ratio", "0.1"],
     "parameter pretraining, then the improved objective with the spectral term at 1/10 of L_recon"),
    ("exp2-improved-pretrained-sigmoid", "exp2", [*EXP2_PRETRAINED, "--objective", "improved", "--output", "sigmoid"],
     "both: parameter pretraining, then the improved objective with a sigmoid output"),
)
N_TEST = 192


def measure(run_dir: Path) -> dict:
    """Parameter diagnostics and sound measures of a run's best checkpoint on N_TEST test patches."""
    from eval import baselines
    from eval.reconstruct import make_voice, render_rows
    from vae import run as run_lib

    run = run_lib.load_run(run_dir)
    x = np.asarray(run.dataset.test[:N_TEST], np.float32)
    params = baselines.parameter_record(run, x)
    voice = make_voice(run)
    x_hat = run_lib.reconstruct(run, x)
    centre = np.broadcast_to(run.dataset.train.mean(0), x.shape).astype(np.float32)
    audio = {name: render_rows(voice, run, patches, 64)
             for name, patches in (("target", x), ("model", x_hat), ("mean_patch", centre),
                                   ("shuffled", x[baselines.derangement(len(x))]))}
    cfg = run.config.loss.feature_config
    sound = {name: baselines.summarize_measures(baselines.sound_measures(audio["target"], audio[name], cfg))
             for name in ("model", "mean_patch", "shuffled")}
    return {"step": run.step, "param_error": params["model"]["param_error"],
            "mean_patch_error": params["mean_patch"]["param_error"],
            "linear_code_error": params["linear_code"]["param_error"],
            "active_units": params["model"]["active_units"], "kl_total": params["model"]["kl_total"],
            "lsd": sound["model"]["lsd_mean"], "lsd_mean_patch": sound["mean_patch"]["lsd_mean"],
            "lsd_shuffled": sound["shuffled"]["lsd_mean"], "rms_ratio": sound["model"]["rms_ratio_median"],
            "silent": sound["model"]["silent_fraction"]}


def table(rows: list[dict]) -> str:
    head = ("| variant | flags beyond the scale | steps (best) | param error | mean patch | linear code | active units "
            "| KL (nats) | LSD | LSD mean patch | LSD shuffled | RMS ratio | silent |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        m = r["metrics"]
        what = f"{r['what']}; {r['note']}" if r.get("note") else r["what"]
        lines.append(f"| {r['name']} ({what}) | `{' '.join(r['flags'][len(QUICK):])}` | {m['step']} | "
                     f"{m['param_error']:.3f} | {m['mean_patch_error']:.3f} | {m['linear_code_error']:.3f} | "
                     f"{m['active_units']} | {m['kl_total']:.1f} | {m['lsd']:.3f} | {m['lsd_mean_patch']:.3f} | "
                     f"{m['lsd_shuffled']:.3f} | {m['rms_ratio']:.3f} | {m['silent']:.2f} |")
    return "\n".join(lines)


def write(out: Path, rows: list[dict]) -> None:
    """Merges rows into OUT's .json (by variant name) and rewrites the markdown table from it."""
    previous = json.loads(out.with_suffix(".json").read_text()) if out.with_suffix(".json").exists() else []
    merged = {r["name"]: r for r in previous} | {r["name"]: r for r in rows}
    ordered = [merged[n] for n, *_ in VARIANTS if n in merged]
    out.with_suffix(".json").write_text(json.dumps(ordered, indent=2) + "\n")
    out.write_text("# Objective sweep (quick scale: 1,600 training patches, 8 kHz, 0.25 s)\n\n"
                   f"Measured on the first {N_TEST} test patches by `python results/objective_sweep.py`; "
                   "param error: sum of squared parameter errors of decode(mu); LSD: log-spectral distance "
                   "(`eval.baselines`).\n\n" + table(ordered) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=["exp1", "exp2"], help="one group of variants")
    p.add_argument("--names", nargs="+", choices=[v[0] for v in VARIANTS], help="these variants, in this order")
    p.add_argument("--runs-dir", default="runs/sweep")
    p.add_argument("--out", default=str(ROOT / "results" / "objective_sweep.md"))
    args = p.parse_args(argv)
    from common.help import EXIT_NON_FINITE
    from vae import cli, run_files, settings
    from vae import flags as train_flags

    rows = []
    chosen = [v for v in VARIANTS if not args.only or v[1] == args.only]
    if args.names:
        chosen = [next(v for v in VARIANTS if v[0] == name) for name in args.names]
    for name, group, flags, what in chosen:
        run_dir = Path(args.runs_dir) / name
        started = (run_dir / "config.json").exists()
        given = {} if started else train_flags.explicit(vars(train_flags.parser().parse_args(flags)))
        resolved = None if started else settings.resolve(given)
        status = cli.train_or_resume(run_dir, resolved)
        note = ""
        if status == EXIT_NON_FINITE:  # A diverged run is a result: its best checkpoint before it is measured.
            last = run_files.read_metrics(run_dir)[-1]
            note = f"diverged: non-finite gradient after step {last['step']}"
        elif status:
            return status
        rows.append({"name": name, "group": group, "flags": flags, "what": what, "metrics": measure(run_dir),
                     "note": note})
        print(json.dumps(rows[-1]["metrics"]), flush=True)
        write(Path(args.out), rows)  # After every variant: a sweep cut short keeps what it measured.
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
