"""Evaluate a trained run: FAD, spectral MSE / L1, latent clustering, figures and sounds.

  python scripts/evaluate.py runs/quick                       # writes runs/quick/eval/report.md
  python scripts/evaluate.py runs/quick --test-limit 500 --no-fad
  python scripts/evaluate.py runs/quick --weights-dir ~/weights --dbscan-eps 0.05

See `eval.pipeline` for the stages; thesis settings are the defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eval.clustering import ClusteringConfig
from eval.pipeline import EvalConfig, evaluate


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Evaluate a SynthParam-VAE run (thesis section 4.2, chapter 5).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("run_dir", help="run directory written by scripts/train.py")
    p.add_argument("--out", help="output folder (default RUN_DIR/eval)")
    p.add_argument("--checkpoint", choices=["best", "latest"], default="best")
    data = p.add_argument_group("data")
    data.add_argument("--test-limit", type=int, help="evaluate only the first N test patches")
    data.add_argument("--train-fraction", type=float, default=0.2, help="training subset for FAD")
    data.add_argument("--cluster-fraction", type=float, default=0.1, help="training subset for clustering")
    data.add_argument("--batch-size", type=int, default=64, help="patches rendered and featurised at once; bounds memory (64 at 44.1 kHz x 1 s: ~2.9 GB peak)")
    data.add_argument("--seed", type=int, default=0, help="seed of every random draw, UMAP's included")
    fad = p.add_argument_group("FAD")
    fad.add_argument("--no-fad", action="store_true", help="skip FAD")
    fad.add_argument("--weights-dir", help="folder with the VGGish / PANNs checkpoints (else $JAXSYNTH_WEIGHTS_DIR, "
                                           "then ~/.cache/jaxsynth/weights)")
    fad.add_argument("--no-download", action="store_true", help="do not try to fetch missing checkpoints")
    latent = p.add_argument_group("latent space")
    latent.add_argument("--umap-neighbors", type=int, default=50)
    latent.add_argument("--umap-min-dist", type=float, default=0.0)
    latent.add_argument("--dbscan-eps", type=float, default=0.04)
    latent.add_argument("--dbscan-min-samples", type=int, default=4)
    examples = p.add_argument_group("figures and sounds")
    examples.add_argument("--examples", type=int, default=3, help="test sounds shown as original vs reconstruction")
    examples.add_argument("--example-indices", type=int, nargs="+", help="test-set indices to show instead")
    examples.add_argument("--interpolation-steps", type=int, default=5)
    examples.add_argument("--interpolation-pair", type=int, nargs=2, help="test-set indices to interpolate between")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def config_from_args(args: argparse.Namespace) -> EvalConfig:
    clustering = ClusteringConfig(n_neighbors=args.umap_neighbors, min_dist=args.umap_min_dist, eps=args.dbscan_eps,
                                  min_samples=args.dbscan_min_samples, seed=args.seed)
    return EvalConfig(which=args.checkpoint, test_limit=args.test_limit, train_fraction=args.train_fraction,
                      cluster_fraction=args.cluster_fraction, batch_size=args.batch_size, fad=not args.no_fad,
                      weights_dir=args.weights_dir, download=not args.no_download, clustering=clustering,
                      seed=args.seed, n_examples=args.examples,
                      example_indices=tuple(args.example_indices) if args.example_indices else None,
                      interpolation_steps=args.interpolation_steps,
                      interpolation_pair=tuple(args.interpolation_pair) if args.interpolation_pair else None,
                      progress=not args.quiet)


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        print(f"error: run directory {run_dir} does not exist", file=sys.stderr)
        return 2
    try:
        cfg = config_from_args(args)
        metrics = evaluate(run_dir, cfg, args.out)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else run_dir / "eval"
    print(f"report: {out / 'report.md'}")
    print(f"metrics: {out / 'metrics.json'}")
    print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in metrics["timings_s"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
