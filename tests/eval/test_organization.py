"""eval.organization, how a timbre space organizes sound: nearest neighbours and their ratio to random pairs,
compare's organization table beside its baselines, and the measure in an evaluation of a timbre run."""

import numpy as np
import pytest

from eval import organization


def test_nearest_and_neighbour_ratio():
    e = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    assert organization.nearest(e, 1).ravel().tolist() == [1, 0, 3, 2, 3]
    rng = np.random.default_rng(0)
    spectra = rng.normal(size=(200, 4, 8)).astype(np.float32)
    spectra[:100] += 3.0                         # two families of sounds
    i, j = organization.random_pairs(200, 4000, 0)
    assert np.all(i != j)
    random_lsd = float(organization.pair_lsd(spectra, i, j).mean())
    organized = organization.neighbour_ratio(np.r_[np.zeros(100), np.ones(100)][:, None] + rng.normal(0, .01, (200, 1)),
                                             spectra, 5, random_lsd)
    blind = organization.neighbour_ratio(rng.normal(size=(200, 2)), spectra, 5, random_lsd)
    assert organized["ratio"] > 1.3 and abs(blind["ratio"] - 1.0) < 0.1


def _evaluated(model_ratio: float, model_lsd: float) -> dict:
    """A metrics.json of an evaluation with the organization record and the sound baselines."""
    names = ("model", "untrained", "parameters", "pca", "mfcc_stats")
    ratios = dict(zip(names, (model_ratio, 2.08, 1.09, 1.03, 1.52)))
    return {"organization": {"neighbours": {n: {"ratio": r, "neighbour_lsd": 3.8 / r} for n, r in ratios.items()},
                             "paths": {"model": {"path_over_ends": 5.3}, "parameters": {"path_over_ends": 5.4}}},
            "baselines": {"sound": {"model": {"lsd_mean": model_lsd}, "mean_patch": {"lsd_mean": 3.5},
                                    "shuffled": {"lsd_mean": 3.8}}}}


def test_compare_puts_organization_beside_its_baselines():
    from eval.compare import organization_table
    table = organization_table({"timbre": _evaluated(2.17, 2.45), "params": _evaluated(1.04, 3.49),
                                "broken": _evaluated(9.0, 1.0)}, unranked={"broken"})
    header, _, *rows = table.splitlines()
    assert "ratio untrained" in header and "ratio mfcc_stats" in header and "path / ends parameters" in header
    timbre, params, broken = rows
    assert "**2.170**" in timbre and "2.080" in timbre and "+30.0%" in timbre   # 1 - 2.45 / 3.5
    assert "**" not in broken and "1.040" in params
    assert timbre.rstrip(" |").count("—") == 1   # An evaluation from before the log_mel row: a dash, not an error.


@pytest.mark.slow
def test_evaluating_a_timbre_run_measures_organization(tiny_timbre_run, tmp_path):
    from eval.pipeline import EvalConfig, evaluate
    cfg = EvalConfig(test_limit=6, cluster_fraction=0.05, batch_size=8, n_examples=1, fad=False, progress=False)
    metrics = evaluate(tiny_timbre_run, cfg, tmp_path / "eval")
    assert metrics["run"]["objective"] == "timbre" and metrics["run"]["encoder_reads"].startswith("sound")
    record = metrics["organization"]
    assert set(record["neighbours"]) == {"model", "untrained", "parameters", "pca", "mfcc_stats", "log_mel"}
    assert all(v["ratio"] > 0 for v in record["neighbours"].values())
    text = (tmp_path / "eval" / "report.md").read_text()
    assert text.startswith("# Evaluation of the timbre objective (tiny)")
    assert "| spectral loss | none (no spectral term) |" in text and "| encoder reads | sound (log-mel frames) |" in text
