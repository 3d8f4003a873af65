"""Thesis-style markdown tables: cases as rows, one metric per column, the best value in bold.

As in the thesis tables, ties for best are all marked; arrows in the headers say which
direction is better (↓ lower, ↑ higher). Missing values (None, NaN) print as '—' and never
count as best, and neither do the rows named in `unranked` (a silent or collapsed run; every row
when the runs are not comparable).

The thesis's result tables, from evaluation metrics (`metrics.json` of `eval.pipeline`), each
taking {case name: metrics} (one row per case) and returning markdown:

  fad_table         Tables 5.2/5.6/5.10: FAD (VGGish, PANNs, CDPAM) on the training subset and the test set
  mse_table         Tables 5.3/5.7/5.11: STFT / MFCC / CQT MSE on the test set
  l1_table          median and mean per-example L1 on the test set
  clustering_table  Tables 5.4/5.8/5.12: clusters, noise points, DBCV
  kruskal_table     Kruskal–Wallis H-test per feature on the L1 distributions, with epsilon²
"""

from __future__ import annotations

import dataclasses
import math
from typing import Collection, Optional, Sequence

from eval.embeddings.registry import EMBEDDING_MODELS
from eval.spectral_metrics import METRIC_FEATURES
from eval.stats import KruskalResult

MISSING = "—"


@dataclasses.dataclass(frozen=True)
class Column:
    """A metric column: header text, which direction is best ('min', 'max' or None), number format."""

    header: str
    best: Optional[str] = None
    fmt: str = "{:.6g}"

    def __post_init__(self):
        if self.best not in (None, "min", "max"):
            raise ValueError(f"best must be 'min', 'max' or None, got {self.best!r}")

    @property
    def title(self) -> str:
        return self.header + {"min": " ↓", "max": " ↑", None: ""}[self.best]


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def format_value(value, fmt: str = "{:.6g}") -> str:
    """A cell's text: '—' when missing, integers as integers, other numbers with fmt, else str()."""
    if not _present(value):
        return MISSING
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return fmt.format(value)


def best_rows(values: Sequence, best: Optional[str]) -> set[int]:
    """Rows holding the best present value of a column (all ties; none if best is None)."""
    present = [(i, v) for i, v in enumerate(values) if _present(v) and isinstance(v, (int, float))]
    if best is None or not present:
        return set()
    target = (min if best == "min" else max)(v for _, v in present)
    return {i for i, v in present if v == target}


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (pipes escaped, no line breaks)."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(first_header: str, columns: Sequence[Column], rows: Sequence[tuple[str, Sequence]],
                   unranked: Collection[str] = ()) -> str:
    """A markdown table: one row per (name, values) with len(values) == len(columns), best in bold
    (when at least two rows compete; rows named in `unranked` are never best)."""
    for name, values in rows:
        if len(values) != len(columns):
            raise ValueError(f"row {name!r} has {len(values)} values for {len(columns)} columns")
    # Unranked rows compete as missing values; a single row has nothing to be best against: no marks.
    ranked = [name not in unranked for name, _ in rows]
    marked = [best_rows([values[c] if keep else None for keep, (_, values) in zip(ranked, rows)],
                        col.best if sum(ranked) > 1 else None)
              for c, col in enumerate(columns)]
    lines = ["| " + " | ".join([first_header] + [c.title for c in columns]) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for r, (name, values) in enumerate(rows):
        cells = []
        for c, (col, value) in enumerate(zip(columns, values)):
            text = _cell(format_value(value, col.fmt))
            cells.append(f"**{text}**" if r in marked[c] else text)
        lines.append("| " + " | ".join([_cell(name)] + cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------ the thesis tables

FAD_SETS = (("train_subset", "Subset of train"), ("test", "Test"))


def _get(tree: dict, *keys):
    """tree[k0][k1]... or None where any level is missing."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def fad_table(metrics: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """FAD per case: (train subset, test) x the networks any case has scores of (else all), lower is better."""
    used = [n for n in EMBEDDING_MODELS if any(_get(m, "fad", "scores", "test", n) is not None
                                               for m in metrics.values())] or list(EMBEDDING_MODELS)
    columns = [Column(f"{title} {EMBEDDING_MODELS[n].title}", "min") for _, title in FAD_SETS for n in used]
    rows = [(case, [_get(m, "fad", "scores", s, n) for s, _ in FAD_SETS for n in used])
            for case, m in metrics.items()]
    return markdown_table("Case", columns, rows, unranked)


def mse_table(metrics: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """Test-set MSE per case and feature, lower is better."""
    columns = [Column(f"{f.upper()} MSE", "min") for f in METRIC_FEATURES]
    rows = [(case, [_get(m, "spectral", "summary", f, "mse") for f in METRIC_FEATURES]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows, unranked)


def l1_table(metrics: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """Median (and mean) per-example L1 per case and feature, lower is better."""
    columns = [Column(f"{f.upper()} L1 {stat}", "min") for f in METRIC_FEATURES for stat in ("median", "mean")]
    rows = [(case, [_get(m, "spectral", "summary", f, f"l1_{stat}") for f in METRIC_FEATURES
                    for stat in ("median", "mean")]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows, unranked)


def clustering_table(metrics: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """Clusters, noise points and DBCV (higher is better) per case."""
    columns = [Column("Cluster Number"), Column("Noise"), Column("DBCV", "max", "{:.4f}")]
    rows = [(case, [_get(m, "clustering", "n_clusters"), _get(m, "clustering", "n_noise"),
                    _get(m, "clustering", "dbcv")]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows, unranked)


def kruskal_table(results: dict[str, KruskalResult], alpha: float = 0.05) -> str:
    """One row per feature: H, p, significance at alpha, epsilon² and its magnitude label."""
    columns = [Column("H"), Column("p-value", fmt="{:.3g}"), Column(f"significant (p < {alpha})"),
               Column("ε²", fmt="{:.4f}"), Column("effect size"), Column("n"), Column("groups")]
    rows = [(feature.upper(), [r.h, r.p_value, "yes" if r.significant(alpha) else "no", r.epsilon_squared,
                               r.magnitude, r.n, r.k]) for feature, r in results.items()]
    return markdown_table("Feature (L1)", columns, rows)
