"""Command-line entry points of the evaluation: `evaluate` (one run) and `compare` (several).

Each `*_main(argv)` parses argv (None: sys.argv[1:]) and returns the exit status; they are the
console scripts of pyproject.toml (`jaxsynth-evaluate`, `jaxsynth-compare`) and what
`scripts/evaluate.py` and `scripts/compare.py` run. Neither needs torch (FAD then reports
that its embedding networks need the torch extra); heavy modules are imported after parsing,
so `--help` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from common.help import (EXIT_BAD_INPUT, HelpFormatter, Parser, bounded, check_writable_dir, os_error_message,
                         report_error)

EVALUATE_EXAMPLES = """examples:
  %(prog)s runs/quick                                  # writes runs/quick/eval/report.md
  %(prog)s runs/quick --test-limit 500 --no-fad
  %(prog)s runs/quick --weights-dir ~/weights --dbscan-eps 0.05

Stages and what they hold in memory: eval.pipeline; thesis settings are the defaults."""


def _count_or_all(text: str) -> int | None:
    """A positive count, or None for 'all'."""
    if text == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'all', got {text!r}")
    return int(text)


def evaluate_parser() -> argparse.ArgumentParser:
    """The flags, each checked as it is parsed (`bounded`), so that a bad one is named before jax loads."""
    from eval.settings import EvalConfig

    cfg = EvalConfig()
    count, index, fraction = bounded(int, 1), bounded(int, 0), bounded(float, 0, 1, low_open=True)
    p = Parser(
        description="Evaluate a SynthParam-VAE run (thesis section 4.2, chapter 5):\n"
                    "FAD, spectral MSE / L1, latent clustering, figures and sounds.",
        epilog=EVALUATE_EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument("run_dir", help="run directory written by scripts/train.py")
    p.add_argument("--out", help="output folder (default RUN_DIR/eval)")
    p.add_argument("--checkpoint", choices=["best", "latest"], default=cfg.which,
                   help="which checkpoint to evaluate: best validation loss or the last one saved")
    data = p.add_argument_group("data")
    data.add_argument("--test-limit", type=count, help="evaluate only the first N test patches (default: all)")
    data.add_argument("--train-fraction", type=fraction, default=cfg.train_fraction,
                      help="fraction of the training set whose reconstructions enter the FAD")
    data.add_argument("--cluster-fraction", type=fraction, default=cfg.cluster_fraction,
                      help="fraction of the training set whose latents are clustered")
    data.add_argument("--batch-size", type=count, default=cfg.batch_size,
                      help="patches rendered and featurised at once; bounds memory (64 at 44.1 kHz x 1 s: "
                           "~2.9 GB peak)")
    data.add_argument("--seed", type=int, default=cfg.seed, help="seed of every random draw, UMAP's included")
    fad = p.add_argument_group("FAD")
    fad.add_argument("--no-fad", action="store_true", help="skip FAD")
    fad.add_argument("--weights-dir", help="folder with the VGGish / PANNs checkpoints (else $JAXSYNTH_WEIGHTS_DIR, "
                                           "then ~/.cache/jaxsynth/weights)")
    fad.add_argument("--no-download", action="store_true", help="do not try to fetch missing checkpoints")
    fad.add_argument("--fad-sounds", type=_count_or_all, default=cfg.fad_sounds, metavar="N|all",
                     help="at most N sounds per FAD set (CDPAM: ~2.8 s per second of audio on 2 cores)")
    latent = p.add_argument_group("latent space")
    latent.add_argument("--umap-neighbors", type=bounded(int, 2), default=cfg.clustering.n_neighbors,
                        help="UMAP neighbourhood size (lowered to n - 1 for fewer points)")
    latent.add_argument("--umap-min-dist", type=bounded(float, 0), default=cfg.clustering.min_dist,
                        help="UMAP minimum distance between embedded points")
    latent.add_argument("--dbscan-eps", type=bounded(float, 0, low_open=True), default=cfg.clustering.eps,
                        help="DBSCAN neighbourhood radius in UMAP units (Experiment 3 used 0.05)")
    latent.add_argument("--dbscan-min-samples", type=count, default=cfg.clustering.min_samples,
                        help="DBSCAN points within eps (self included) that make a core point")
    examples = p.add_argument_group("figures and sounds")
    examples.add_argument("--examples", type=index, default=cfg.n_examples,
                          help="test sounds shown as original vs reconstruction")
    examples.add_argument("--example-indices", type=index, nargs="+", help="test-set indices to show instead")
    examples.add_argument("--interpolation-steps", type=index, default=cfg.interpolation_steps,
                          help="latent points between the two interpolated sounds")
    examples.add_argument("--interpolation-pair", type=index, nargs=2,
                          help="test-set indices to interpolate between (default: a seeded draw)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def eval_config(args: argparse.Namespace):
    """The `eval.pipeline.EvalConfig` of parsed evaluate arguments."""
    from eval.settings import ClusteringConfig, EvalConfig

    clustering = ClusteringConfig(n_neighbors=args.umap_neighbors, min_dist=args.umap_min_dist, eps=args.dbscan_eps,
                                  min_samples=args.dbscan_min_samples, seed=args.seed)
    return EvalConfig(which=args.checkpoint, test_limit=args.test_limit, train_fraction=args.train_fraction,
                      cluster_fraction=args.cluster_fraction, batch_size=args.batch_size, fad=not args.no_fad,
                      fad_sounds=args.fad_sounds,
                      weights_dir=args.weights_dir, download=not args.no_download, clustering=clustering,
                      seed=args.seed, n_examples=args.examples,
                      example_indices=tuple(args.example_indices) if args.example_indices else None,
                      interpolation_steps=args.interpolation_steps,
                      interpolation_pair=tuple(args.interpolation_pair) if args.interpolation_pair else None,
                      progress=not args.quiet)


def evaluate_main(argv: list[str] | None = None) -> int:
    """Evaluates one run into RUN_DIR/eval (or --out); see `--help`."""
    args = evaluate_parser().parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"error: run directory {run_dir} does not exist", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        config = eval_config(args)
    except ValueError as e:
        return _evaluation_error(e, args.batch_size)
    return evaluate_run(run_dir, config, args.out)


def evaluate_run(run_dir: Path, config, out: str | Path | None = None) -> int:
    """Evaluates the run in run_dir with `config` (an `eval.settings.EvalConfig`) into `out` (default RUN_DIR/eval),
    printing where its report is; the exit status (2 with one line on stderr for bad input, `_evaluation_error`)."""
    folder = Path(out) if out else run_dir / "eval"
    try:
        check_writable_dir(folder, "--out")
        from eval.pipeline import evaluate  # jax and the rest: only once the flags are known to be good.

        metrics = evaluate(run_dir, config, out)
    except Exception as e:
        return _evaluation_error(e, config.batch_size)
    print(f"report: {folder / 'report.md'}")
    print(f"metrics: {folder / 'metrics.json'}")
    print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in metrics["timings_s"].items()))
    return 0


def _evaluation_error(e: Exception, batch_size: int) -> int:
    """One line on stderr for a failed evaluation, with what to do; the exit status (re-raises the unexpected)."""
    return report_error(e, resource=lambda problem: f"{problem} ({type(e).__name__}); lower --batch-size (now "
                                                    f"{batch_size}) or free memory or disk space, and run it again "
                                                    "(finished outputs are rewritten)",
                        os_hint="choose another --out or fix the permissions")


COMPARE_EXAMPLES = """examples:
  scripts/evaluate.py runs/a && scripts/evaluate.py runs/b
  %(prog)s runs/a runs/b --out results/compare.md

Writes the markdown (--out), an L1 distribution figure next to it (<stem>_l1.png) and the
Kruskal–Wallis results as JSON (<stem>.json)."""


def compare_parser() -> argparse.ArgumentParser:
    p = Parser(
        description="Compare evaluated SynthParam-VAE runs in thesis-style tables (chapter 5; best in bold),\n"
                    "with Kruskal–Wallis tests on the per-example L1 errors. Runs that are not comparable\n"
                    "(sample rate, length, features) get neither; silent or collapsed runs are marked, never bold.",
        epilog=COMPARE_EXAMPLES, formatter_class=HelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories (with eval/metrics.json) or eval folders")
    p.add_argument("--out", default="compare.md", help="markdown file to write")
    p.add_argument("--names", nargs="+", help="case names for the rows, one per run (default: case or folder)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the Kruskal–Wallis test")
    return p


def compare_main(argv: list[str] | None = None) -> int:
    """Writes the comparison of evaluated runs; see `--help`."""
    p = compare_parser()
    args = p.parse_args(argv)
    if args.names and len(args.names) != len(args.runs):
        p.error(f"--names needs one name per run ({len(args.runs)}), got {len(args.names)}")
    out = Path(args.out)
    figure, summary_file = out.with_name(f"{out.stem}_l1.png"), out.with_suffix(".json")
    if len({out, figure, summary_file}) < 3:
        p.error(f"--out {out}: the markdown needs a name of its own (the figure goes to {figure.name} and the JSON "
                f"summary to {summary_file.name} beside it); give a .md file")
    from eval import compare, figures
    from common.atomic import write_text

    try:
        names = args.names or [None] * len(args.runs)
        folders = [compare.eval_dir_of(r) for r in args.runs]
        for i, folder in enumerate(folders):
            twice = [args.runs[j] for j, f in enumerate(folders[:i]) if f.resolve() == folder.resolve()]
            if twice:
                raise ValueError(f"{args.runs[i]} and {twice[0]} are the same evaluation ({folder}); compare "
                                 "different runs")
        runs = compare.unique_names([_load_evaluation(f, n) for f, n in zip(folders, names)])
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    tests = compare.kruskal_tests(runs)
    summary = {"runs": {r.name: str(r.eval_dir) for r in runs}, "not_comparable": compare.setting_mismatches(runs),
               "not_a_result": {r.name: compare.failure(r) for r in runs if compare.failure(r)},
               **tests.as_json(args.alpha)}
    try:
        figures.error_distributions_figure({compare.label(r): r.l1 for r in runs}, figure,
                                           "Per-example L1 errors on the test set")
        write_text(out, compare.comparison_markdown(runs, args.alpha, figure.name, tests))
        write_text(summary_file, json.dumps(summary, indent=2) + "\n")
    except OSError as e:
        print(f"error: {os_error_message(e, 'choose another --out or fix the permissions')}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {out}, {figure}, {summary_file}")
    return 0


def _load_evaluation(folder: Path, name: str | None):
    """`compare.load_evaluation`, a damaged metrics.json or error file (`[]`, a missing key, a bad .npy) turned into
    one ValueError naming it and what to do."""
    from eval import compare

    try:
        return compare.load_evaluation(folder, name)
    except (KeyError, TypeError, AttributeError, ValueError, OSError) as e:
        raise ValueError(f"{folder / 'metrics.json'} (or an error file it lists) is damaged or not an evaluation "
                         f"({type(e).__name__}: {e}); run scripts/evaluate.py on the run again") from None
