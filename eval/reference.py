"""Reference runs: train and evaluate a list of thesis cases at one scale and objective, then compare.

    RUNS_DIR/<objective>/<case>/      the run (config, checkpoints, metrics, eval/)
    RESULTS_DIR/<objective>/<case>/   what is kept of it (`kept`): eval/metrics.json, report.md, figures,
                                      per-example errors, example WAVs; config.json, the loss curve and
                                      metrics.jsonl without per-parameter lists (no checkpoints)
    RESULTS_DIR/<objective>/compare.md  thesis-style tables of every evaluated case (`scripts/compare.py`)

Each case is a state machine over its folder: evaluated (RESULTS_DIR has its metrics.json) -> skipped;
trained or interrupted (RUNS_DIR has its config.json) -> resumed (a finished run resumes to no step) and
evaluated; nothing -> trained from the start. So the same command continues after a crash or a
session's end, and a list can be worked through over several sessions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

from common import atomic
from vae import run_files
from common.help import HelpFormatter, Parser

KEPT_RUN_FILES = ("loss_curve.png", "config.json")
PNG_COLOURS = 256
DEFAULT_EVALUATE_ARGS = ("--examples", "1")  # One original-vs-reconstruction figure per case keeps results/ small.


def kept(relative: Path) -> bool:
    """Whether an evaluation file (path relative to RUN_DIR/eval) is copied into the results: the report, its
    numbers, figures, per-example errors (what compare.md tests) and the example and interpolation WAVs."""
    top = relative.parts[0]
    return (relative.name in ("metrics.json", "report.md") or (top == "figures" and relative.suffix == ".png")
            or (top == "errors" and relative.suffix == ".npy")
            or (top == "sounds" and relative.parts[1] in ("examples", "interpolation")))


def copy_kept(source: Path, target: Path) -> None:
    """Copies one kept file; PNG figures are re-encoded with a 256-colour palette (about 40% of the size,
    the same plots), so that a results folder of all 15 cases stays a few MB."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix != ".png":
        shutil.copy2(source, target)
        return
    from PIL import Image

    with Image.open(source) as image:
        image.convert("RGB").quantize(PNG_COLOURS).save(target, optimize=True)


def scalar_records(records: list[dict]) -> list[dict]:
    """metrics.jsonl records without their per-parameter lists (in the run; the results keep the curves)."""
    return [{k: v for k, v in r.items() if not (isinstance(v, list) and k != "val/kl_per_dim")} for r in records]


@dataclasses.dataclass(frozen=True)
class ReferenceRun:
    """One (objective, case) of a reference list and where it lives."""

    objective: str
    case: str
    run_dir: Path
    results_dir: Path

    @property
    def evaluated(self) -> bool:
        return (self.results_dir / "eval" / "metrics.json").exists()

    @property
    def started(self) -> bool:
        return (self.run_dir / "config.json").exists()

    def state(self) -> str:
        return "evaluated" if self.evaluated else "started" if self.started else "new"


def plan(cases: list[str], objectives: list[str], runs_dir: Path, results_dir: Path) -> list[ReferenceRun]:
    """The runs of every (objective, case), objectives outermost."""
    return [ReferenceRun(o, c, runs_dir / o / c, results_dir / o / c) for o in objectives for c in cases]


def written_here(relative: Path) -> bool:
    """Whether a file of a results folder (path relative to it) is one `keep_results` writes; it replaces or
    deletes only those, never the user's files beside them."""
    if len(relative.parts) == 1:
        return relative.name in (*KEPT_RUN_FILES, "metrics.jsonl")
    return relative.parts[0] == "eval" and kept(Path(*relative.parts[1:]))


def keep_results(run: ReferenceRun) -> None:
    """Copies the small, human-facing outputs of an evaluated run into its results folder. They are made in a
    temporary folder, then moved in file by file with eval/metrics.json last (the folder counts as evaluated
    only once whole); what a previous keep wrote is replaced, anything else in the folder is left alone."""
    tmp = run.results_dir.with_name(f"{atomic.TMP_PREFIX}{run.results_dir.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "eval").mkdir(parents=True)
    for name in KEPT_RUN_FILES:
        if (run.run_dir / name).exists():
            copy_kept(run.run_dir / name, tmp / name)
    (tmp / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n"
                                               for r in scalar_records(run_files.read_metrics(run.run_dir))))
    eval_dir = run.run_dir / "eval"
    for path in eval_dir.rglob("*"):
        if path.is_file() and kept(path.relative_to(eval_dir)):
            copy_kept(path, tmp / "eval" / path.relative_to(eval_dir))
    old = [p for p in run.results_dir.rglob("*") if p.is_file() and written_here(p.relative_to(run.results_dir))] \
        if run.results_dir.exists() else []
    for path in old:
        path.unlink()
    new = sorted((p for p in tmp.rglob("*") if p.is_file()), key=lambda p: p.name == "metrics.json")
    for path in new:
        target = run.results_dir / path.relative_to(tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(tmp)


def evaluation_config(evaluate_args: list[str]):
    """The `EvalConfig` of scripts/evaluate.py's flags `evaluate_args`, after `DEFAULT_EVALUATE_ARGS` and without
    progress bars; a bad flag exits 2 naming it (before any training)."""
    from eval.cli import eval_config, evaluate_parser

    return eval_config(evaluate_parser().parse_args(["RUN_DIR", "--quiet", *DEFAULT_EVALUATE_ARGS, *evaluate_args]))


def run_one(run: ReferenceRun, scale: str, cfg, train_only: bool) -> int:
    """Trains (or resumes) and evaluates one run with `cfg` (an `eval.settings.EvalConfig`); returns the first
    non-zero exit status, else 0."""
    from eval.cli import evaluate_run
    from vae import cli, settings

    resolved = None if run.started else settings.resolve({"case": run.case, "objective": run.objective, "scale": scale})
    status = cli.train_or_resume(run.run_dir, resolved)
    if status or train_only:
        return status
    status = evaluate_run(run.run_dir, cfg)
    if status == 0:
        keep_results(run)
    return status


def compare_objective(results_dir: Path, objective: str, runs_dir: Path) -> Optional[Path]:
    """Writes RESULTS_DIR/<objective>/compare.md over every evaluated case of that objective, in the thesis's
    order, not only those of the current list (None if there is none)."""
    from eval.cli import compare_main
    from vae import presets

    done = [r for r in plan(list(presets.CASES), [objective], runs_dir, results_dir) if r.evaluated]
    if not done:
        return None
    out = results_dir / objective / "compare.md"
    status = compare_main([*(str(r.results_dir) for r in done), "--names", *(r.case for r in done),
                           "--out", str(out)])
    return out if status == 0 else None


EXAMPLES = """examples:
  %(prog)s                                              # all 15 cases, thesis objective, reference scale
  %(prog)s --cases Exp1-SCLP Exp2-SCLP-ts --objectives thesis improved
  %(prog)s --list                                       # what is done, started and new

Safe to interrupt: rerunning the same command skips evaluated cases and resumes the others."""


def parser() -> argparse.ArgumentParser:
    from vae import presets

    p = Parser(description="Train, evaluate and compare thesis cases at one scale (reference runs).",
                                epilog=EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument("--cases", nargs="+", default=list(presets.CASES), metavar="CASE",
                   help=f"thesis cases, in order (default: all 15: {', '.join(presets.CASES)})")
    p.add_argument("--objectives", nargs="+", default=["thesis"], choices=list(presets.OBJECTIVES),
                   help="named objectives to run each case with")
    p.add_argument("--scale", default="reference", choices=list(presets.SCALES), help="run scale")
    p.add_argument("--runs-dir", default="runs/reference", help="where runs are trained (checkpoints: large)")
    p.add_argument("--results-dir", default="results/reference", help="where evaluated numbers and figures are kept")
    p.add_argument("--train-only", action="store_true", help="train (or resume) without evaluating")
    p.add_argument("--list", action="store_true", help="print each run's state and exit")
    p.add_argument("--evaluate-args", nargs=argparse.REMAINDER, default=[],
                   help="the rest of the line goes to scripts/evaluate.py (after --examples 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Works through the reference list; see `--help`."""
    from vae import settings

    p = parser()
    args = p.parse_args(argv)
    cfg = evaluation_config(args.evaluate_args)
    try:
        cases = [settings.case_name(c) for c in args.cases]
    except ValueError as e:
        p.error(str(e))
    runs = plan(cases, args.objectives, Path(args.runs_dir), Path(args.results_dir))
    if args.list:
        for r in runs:
            print(f"{r.state():10s} {r.objective:9s} {r.case:15s} {r.run_dir}")
        return 0
    failed = []
    bar = tqdm(runs, unit="run", desc="reference runs")
    for r in bar:
        bar.set_postfix_str(f"{r.objective}/{r.case} ({r.state()})")
        if r.evaluated:
            continue
        tqdm.write(f"== {r.objective} {r.case}: {r.state()} -> {r.run_dir}")
        status = run_one(r, args.scale, cfg, args.train_only)
        if status:
            failed.append(f"{r.objective}/{r.case} (exit {status})")
    for objective in args.objectives:
        out = compare_objective(Path(args.results_dir), objective, Path(args.runs_dir))
        if out is not None:
            print(f"comparison of {objective}: {out}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0
