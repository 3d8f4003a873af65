"""The thesis's result tables from evaluation metrics (`metrics.json` of `eval.pipeline`).

  fad_table         Tables 5.2/5.6/5.10: FAD (VGGish, PANNs) on the training subset and the test set
  mse_table         Tables 5.3/5.7/5.11: STFT / MFCC / CQT MSE on the test set
  clustering_table  Tables 5.4/5.8/5.12: clusters, noise points, DBCV
  kruskal_table     Kruskal–Wallis H-test per feature on the L1 distributions, with epsilon²

Each takes {case name: metrics} (one row per case) and returns markdown.
"""

from __future__ import annotations

from eval.audio_fad import EMBEDDING_MODELS
from eval.spectral_metrics import METRIC_FEATURES
from eval.stats import KruskalResult
from eval.tables import Column, markdown_table

FAD_SETS = (("train_subset", "Subset of train"), ("test", "Test"))
MODEL_TITLES = {"vggish": "VGGish", "panns": "PANNs"}


def _get(tree: dict, *keys):
    """tree[k0][k1]... or None where any level is missing."""
    for key in keys:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def fad_table(metrics: dict[str, dict]) -> str:
    """FAD per case: (train subset, test) x (VGGish, PANNs), lower is better."""
    columns = [Column(f"{title} {MODEL_TITLES[m]}", "min") for _, title in FAD_SETS for m in EMBEDDING_MODELS]
    rows = [(case, [_get(m, "fad", "scores", s, model) for s, _ in FAD_SETS for model in EMBEDDING_MODELS])
            for case, m in metrics.items()]
    return markdown_table("Case", columns, rows)


def mse_table(metrics: dict[str, dict]) -> str:
    """Test-set MSE per case and feature, lower is better."""
    columns = [Column(f"{f.upper()} MSE", "min") for f in METRIC_FEATURES]
    rows = [(case, [_get(m, "spectral", "summary", f, "mse") for f in METRIC_FEATURES]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows)


def l1_table(metrics: dict[str, dict]) -> str:
    """Median (and mean) per-example L1 per case and feature, lower is better."""
    columns = [Column(f"{f.upper()} L1 {stat}", "min") for f in METRIC_FEATURES for stat in ("median", "mean")]
    rows = [(case, [_get(m, "spectral", "summary", f, f"l1_{stat}") for f in METRIC_FEATURES
                    for stat in ("median", "mean")]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows)


def clustering_table(metrics: dict[str, dict]) -> str:
    """Clusters, noise points and DBCV (higher is better) per case."""
    columns = [Column("Cluster Number"), Column("Noise"), Column("DBCV", "max", "{:.4f}")]
    rows = [(case, [_get(m, "clustering", "n_clusters"), _get(m, "clustering", "n_noise"),
                    _get(m, "clustering", "dbcv")]) for case, m in metrics.items()]
    return markdown_table("Case", columns, rows)


def kruskal_table(results: dict[str, KruskalResult], alpha: float = 0.05) -> str:
    """One row per feature: H, p, significance at alpha, epsilon² and its magnitude label."""
    columns = [Column("H"), Column("p-value", fmt="{:.3g}"), Column(f"significant (p < {alpha})"),
               Column("ε²", fmt="{:.4f}"), Column("effect size"), Column("n"), Column("groups")]
    rows = [(feature.upper(), [r.h, r.p_value, "yes" if r.significant(alpha) else "no", r.epsilon_squared,
                               r.magnitude, r.n, r.k]) for feature, r in results.items()]
    return markdown_table("Feature (L1)", columns, rows)
