"""Comparing evaluated runs (thesis chapter 5): result tables and Kruskal–Wallis on the L1 errors.

Each run must have been evaluated (`scripts/evaluate.py`), leaving RUN_DIR/eval/metrics.json
and the per-example L1 errors errors/test_l1_{stft,mfcc,cqt}.npy. The tables put cases in
rows with the best value in bold (`eval.tables`); the L1 distributions of all runs
are compared per feature with `eval.stats.kruskal_per_feature` (H, p, epsilon²).

Runs at different sample rates, lengths or feature settings are measured on different audio:
then nothing is bold and no test is run. A run that is silent or no better than the mean patch
(`eval.baselines.failure`) is marked so in every table and never bold.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Collection, Optional, Sequence

import numpy as np

from eval import baselines, organization, tables
from eval.spectral_metrics import METRIC_FEATURES
from eval.stats import SMALL_MEDIUM_LARGE, KruskalResult, kruskal_per_feature


@dataclasses.dataclass(frozen=True, eq=False)
class EvaluatedRun:
    """An evaluation on disk: case name, its folder, metrics.json and the L1 errors {feature: [n]}."""

    name: str
    eval_dir: Path
    metrics: dict
    l1: dict[str, np.ndarray]


def eval_dir_of(path: str | Path) -> Path:
    """The folder holding metrics.json: `path` itself or path/eval."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist (or is not a folder): give a run directory or its eval folder")
    for candidate in (path, path / "eval"):
        if (candidate / "metrics.json").is_file():
            return candidate
    raise FileNotFoundError(f"no metrics.json in {path} or {path / 'eval'}: run scripts/evaluate.py {path} first")


def default_name(metrics: dict, eval_dir: Path) -> str:
    """The run's case (e.g. Exp1-LMSL) or, without one, its directory name."""
    return metrics["run"].get("case") or Path(metrics["run"]["dir"]).name or eval_dir.parent.name


def load_evaluation(path: str | Path, name: Optional[str] = None) -> EvaluatedRun:
    """Loads RUN_DIR/eval (or an eval folder) with its per-example L1 errors."""
    folder = eval_dir_of(path)
    metrics = json.loads((folder / "metrics.json").read_text())
    files = metrics["spectral"]["files"]
    l1 = {f: np.load(folder / files[f"l1_{f}"]) for f in METRIC_FEATURES}
    return EvaluatedRun(name or default_name(metrics, folder), folder, metrics, l1)


def _folder_label(eval_dir: Path) -> str:
    """The run folder's name for RUN_DIR/eval, else the eval folder's own name."""
    return eval_dir.parent.name if eval_dir.name == "eval" else eval_dir.name


def unique_names(runs: Sequence[EvaluatedRun]) -> list[EvaluatedRun]:
    """Runs renamed 'name (folder)' where two share a name, so table rows stay distinct."""
    counts = {}
    for r in runs:
        counts[r.name] = counts.get(r.name, 0) + 1
    return [dataclasses.replace(r, name=f"{r.name} ({_folder_label(r.eval_dir)})") if counts[r.name] > 1 else r
            for r in runs]


def setting_mismatches(runs: Sequence[EvaluatedRun]) -> list[str]:
    """Audio and feature settings that differ between runs (their errors are then not comparable)."""
    def settings(r: EvaluatedRun) -> dict:
        return {"sample rate (Hz)": r.metrics["run"]["sample_rate_hz"], "sound length (s)": r.metrics["run"]["seconds"],
                **{f"{f} settings": r.metrics["spectral"]["settings"].get(f) for f in METRIC_FEATURES}}

    per_run = [settings(r) for r in runs]
    return [key for key in per_run[0] if any(s[key] != per_run[0][key] for s in per_run[1:])]


def failure(run: EvaluatedRun) -> Optional[str]:
    """Why the run is not a result ('silent ...', 'no better than the mean patch'), or None."""
    return baselines.failure(run.metrics.get("baselines"))


def label(run: EvaluatedRun) -> str:
    """The run's row name in every table: its name, with its failure when it has one."""
    why = failure(run)
    return f"{run.name} ⚠ {why}" if why else run.name


def unranked(runs: Sequence[EvaluatedRun]) -> set[str]:
    """Rows that are never best: every row when the runs are not comparable, else the failed runs."""
    return {label(r) for r in runs if setting_mismatches(runs) or failure(r)}


def kruskal(runs: Sequence[EvaluatedRun]) -> dict[str, KruskalResult]:
    """Kruskal–Wallis per feature across the runs' L1 distributions (needs >= 2 runs)."""
    return kruskal_per_feature({r.name: r.l1 for r in runs}, SMALL_MEDIUM_LARGE)


def by_experiment(runs: Sequence[EvaluatedRun]) -> dict[str, list[EvaluatedRun]]:
    """The runs of thesis cases grouped by experiment (Exp1/Exp2/Exp3), groups of two or more only: the
    thesis tests its losses within one experiment at a time."""
    from vae.settings import experiment_of

    groups: dict[str, list[EvaluatedRun]] = {}
    for r in runs:
        experiment = experiment_of(r.metrics["run"].get("case"))
        if experiment is not None:
            groups.setdefault(experiment, []).append(r)
    return {e: group for e, group in sorted(groups.items()) if len(group) >= 2}


@dataclasses.dataclass(frozen=True)
class KruskalTests:
    """Kruskal–Wallis per feature across all runs ({} with fewer than two) and within each thesis experiment
    that has two or more of them ({experiment: {feature: result}})."""

    overall: dict[str, KruskalResult]
    within: dict[str, dict[str, KruskalResult]]

    def as_json(self, alpha: float) -> dict:
        return {"kruskal_wallis": kruskal_json(self.overall, alpha),
                "kruskal_wallis_by_experiment": {e: kruskal_json(k, alpha) for e, k in self.within.items()}}


def kruskal_tests(runs: Sequence[EvaluatedRun]) -> KruskalTests:
    """Every Kruskal–Wallis test a comparison reports, each computed once; none across runs that are not
    comparable (`setting_mismatches`)."""
    return KruskalTests(kruskal(runs) if len(runs) >= 2 and not setting_mismatches(runs) else {},
                        {e: kruskal(group) for e, group in by_experiment(runs).items() if not setting_mismatches(group)})


def kruskal_lines(results: dict[str, KruskalResult], alpha: float) -> list[str]:
    """The Kruskal–Wallis table and one verdict line per feature, as markdown lines."""
    lines = [tables.kruskal_table(results, alpha), ""]
    for feature, r in results.items():
        verdict = "a statistically significant difference" if r.significant(alpha) else "no significant difference"
        lines.append(f"- {feature.upper()}: {verdict} (p = {r.p_value:.3g}); effect size {r.magnitude} "
                     f"(ε² = {r.epsilon_squared:.4f}).")
    return lines + [""]


def comparison_markdown(runs: Sequence[EvaluatedRun], alpha: float = 0.05, figure: Optional[str] = None,
                        tests: Optional[KruskalTests] = None) -> str:
    """Thesis-style FAD, MSE, L1 and clustering tables plus the Kruskal–Wallis results (`tests`, computed
    here if not given), as markdown."""
    tests = tests or kruskal_tests(runs)
    by_case, skip = {label(r): r.metrics for r in runs}, unranked(runs)
    mismatches = setting_mismatches(runs)
    best = ("No best value is marked: the runs are not comparable (below)." if mismatches else
            "Best value per column in **bold** (↓ lower is better, ↑ higher is better), among the runs not marked ⚠.")
    lines = ["# Comparison of evaluated runs", "", f"{best} — = not computed.", "",
             "| Case | evaluation | test sounds | checkpoint |", "|---|---|---|---|"]
    lines += [f"| {label(r)} | `{r.eval_dir}` | {r.metrics['spectral']['n']} | {r.metrics['run']['checkpoint']} "
              f"(step {r.metrics['run']['step']}) |" for r in runs]
    if mismatches:
        lines += ["", f"**Warning:** the runs differ in {', '.join(mismatches)}; their spectral errors (and FAD) "
                      "are measured on different audio and are not comparable: no best value, no significance test."]
    failed = [f"{r.name} is {failure(r)}" for r in runs if failure(r)]
    if failed:
        lines += ["", f"**⚠ Not a result:** {'; '.join(failed)} (`eval.baselines.failure`); never marked best."]
    lines += ["", "## FAD (thesis Tables 5.2/5.6/5.10)", "", tables.fad_table(by_case, skip), ""]
    skipped = {label(r): r.metrics["fad"]["status"] for r in runs if not r.metrics["fad"]["scores"]}
    if skipped:
        lines += ["FAD missing for: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()) + ".", ""]
    lines += ["## Spectral MSE on the test set (thesis Tables 5.3/5.7/5.11)", "", tables.mse_table(by_case, skip), "",
              "## Per-example L1 on the test set", "", tables.l1_table(by_case, skip), ""]
    if figure:
        lines += [f"![L1 distributions]({figure})", ""]
    lines += ["## Kruskal–Wallis H-test on the L1 distributions", ""]
    if tests.overall:
        lines += [f"Per feature, across the {len(runs)} runs' per-example L1 errors; effect size ε² = H / (n − 1) "
                  "(negligible < 0.01 ≤ small < 0.08 ≤ medium < 0.26 ≤ large).", "",
                  *kruskal_lines(tests.overall, alpha)]
    elif mismatches:
        lines += [f"Not run across all runs: they differ in {', '.join(mismatches)}.", ""]
    else:
        lines += ["Needs at least two runs.", ""]
    groups = {e: group for e, group in by_experiment(runs).items() if e in tests.within}
    if groups and list(groups.values()) != [list(runs)]:  # Within one experiment only: the test above.
        for experiment, group in groups.items():
            lines += [f"### Within {experiment} (the thesis's test: its losses, one experiment at a time)", "",
                      f"Across {', '.join(label(r) for r in group)}.", "",
                      *kruskal_lines(tests.within[experiment], alpha)]
    lines += ["## Against baselines", "", baseline_table(by_case, skip), "",
              "Parameter error: sum over parameters of the squared error of decode(mu), mean over test patches; "
              "mean patch: the training mean for every patch. LSD: log-spectral distance (`eval.baselines`); "
              "shuffled: another test patch's sound. Active units: latent dimensions whose mean varies (Var > 0.01).",
              ""]
    lines += ["## Does the latent space organize sound?", "", organization_table(by_case, skip), "",
              "Neighbour ratio: mean log-spectral distance of random test-sound pairs over that between each sound "
              "and its 5 nearest neighbours in the embedding (1: no closer than random; higher: similar sounds sit "
              "together), for the model's encoder means and, on the same sounds, the same model's untrained encoder, "
              "the raw parameters, their PCA at the latent width, MFCC statistics and the log-mel frames themselves (no "
              "generator; log_mel is what an encoder that hears reads: a ceiling for such a code). Path: summed "
              "LSD along a straight latent path over its end points' (1: steady), beside straight parameter paths "
              "between the same ends. Reconstruction: 1 - LSD / the mean patch's LSD.", ""]
    lines += ["## Clustering (thesis Tables 5.4/5.8/5.12)", "", tables.clustering_table(by_case, skip), ""]
    settings = {label(r): r.metrics["clustering"].get("config") for r in runs}
    lines += ["Clustering settings: " + "; ".join(
        f"{k}: " + (f"n_neighbors {c['n_neighbors']}, min_dist {c['min_dist']}, eps {c['eps']}, "
                    f"min_samples {c['min_samples']}, seed {c['seed']}" if c else "not clustered")
        for k, c in settings.items()) + ".", ""]
    return "\n".join(lines)


def baseline_table(by_case: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """One row per run: the model's parameter error and sound measures beside the baselines' (`eval.baselines`)."""
    columns = [tables.Column("param error", "min"), tables.Column("mean patch"), tables.Column("LSD", "min"),
               tables.Column("LSD mean patch"), tables.Column("LSD shuffled"), tables.Column("RMS ratio"),
               tables.Column("silent"), tables.Column("active units", "max")]
    rows = []
    for name, m in by_case.items():
        b = m.get("baselines")
        if b is None:
            rows.append((name, [None] * len(columns)))
            continue
        p, snd = b["parameters"], b["sound"]
        rows.append((name, [p["model"]["param_error"], p["mean_patch"]["param_error"], snd["model"]["lsd_mean"],
                            snd["mean_patch"]["lsd_mean"], snd["shuffled"]["lsd_mean"],
                            snd["model"]["rms_ratio_median"], snd["model"]["silent_fraction"],
                            p["model"]["active_units"]]))
    return tables.markdown_table("Case", columns, rows, unranked)


def organization_table(by_case: dict[str, dict], unranked: Collection[str] = ()) -> str:
    """One row per run: neighbour ratios of the model and its baselines, path smoothness and the reconstruction
    margin over the mean patch (`eval.organization`); `unranked` runs are never marked best."""
    names = ("model", "untrained", "parameters", "pca", "mfcc_stats", "log_mel")
    columns = [tables.Column(f"ratio {n}", "max" if n == "model" else None, "{:.3f}") for n in names]
    columns += [tables.Column("path / ends", "min", "{:.3f}"), tables.Column("path / ends parameters", None, "{:.3f}"),
                tables.Column("recon. nearer than mean patch", "max", "{:+.1%}")]
    rows = []
    for name, m in by_case.items():
        rec = m.get("organization") or {}
        ratios = [rec.get("neighbours", {}).get(n, {}).get("ratio") for n in names]  # Older evaluations lack some.
        paths = [rec["paths"][n]["path_over_ends"] if "paths" in rec else None for n in ("model", "parameters")]
        margin = organization.reconstruction_margin(m.get("baselines"))
        rows.append((name, [*ratios, *paths, margin["nearer"] if margin else None]))
    return tables.markdown_table("Case", columns, rows, unranked)


def kruskal_json(results: dict[str, KruskalResult], alpha: float) -> dict:
    """Kruskal–Wallis results as plain JSON values."""
    return {f: {**dataclasses.asdict(r), "significant": r.significant(alpha), "alpha": alpha}
            for f, r in results.items()}
