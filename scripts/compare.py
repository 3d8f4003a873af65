"""Compare evaluated runs in thesis-style tables (best in bold) with Kruskal–Wallis on the L1 errors.

  python scripts/evaluate.py runs/a && python scripts/evaluate.py runs/b
  python scripts/compare.py runs/a runs/b --out results/compare.md

Writes the markdown (--out), an L1 distribution figure next to it (<stem>_l1.png) and the
Kruskal–Wallis results as JSON (<stem>.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval import compare, figures


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Compare evaluated SynthParam-VAE runs (thesis chapter 5 tables).",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories (with eval/metrics.json) or eval folders")
    p.add_argument("--out", default="compare.md", help="markdown file to write")
    p.add_argument("--names", nargs="+", help="case names for the rows, one per run (default: case or folder)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the Kruskal–Wallis test")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.names and len(args.names) != len(args.runs):
        p.error(f"--names needs one name per run ({len(args.runs)}), got {len(args.names)}")
    try:
        names = args.names or [None] * len(args.runs)
        runs = compare.unique_names([compare.load_evaluation(r, n) for r, n in zip(args.runs, names)])
    except (FileNotFoundError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure = out.with_name(f"{out.stem}_l1.png")
    figures.error_distributions_figure({r.name: r.l1 for r in runs}, figure, "Per-example L1 errors on the test set")
    out.write_text(compare.comparison_markdown(runs, args.alpha, figure.name))
    results = compare.kruskal_json(compare.kruskal(runs), args.alpha) if len(runs) >= 2 else {}
    summary = {"runs": {r.name: str(r.eval_dir) for r in runs}, "kruskal_wallis": results}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {out}, {figure}, {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
