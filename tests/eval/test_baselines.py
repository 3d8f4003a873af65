"""eval.baselines: the reference predictions and the verdicts a report prints beside each metric."""

import numpy as np
import pytest

from eval import baselines
from spectral.features import FeatureConfig


def test_derangement_moves_every_row():
    for n in (2, 3, 10, 257):
        perm = baselines.derangement(n)
        assert sorted(perm) == list(range(n)) and not np.any(perm == np.arange(n))


def test_verdict_names_the_baselines_not_beaten():
    assert baselines.verdict(1.0, [("mean_patch", 2.0), ("shuffled", 3.0)], True) == "better than all"
    assert baselines.verdict(2.5, [("mean_patch", 2.0), ("shuffled", 3.0)], True) == "not better than mean_patch"
    assert baselines.verdict(2.0, [("mean_patch", 2.0)], True) == "not better than mean_patch"  # A tie is not better.
    assert baselines.verdict(5.0, [("untrained", 3.0), ("x", None)], False) == "better than all"
    assert baselines.verdict(0.7, [("mean_patch", 0.3)], None) == ""


def test_sound_measures_see_silence_and_loudness():
    cfg = FeatureConfig(sample_rate=8000, n_fft=256, hop_length=64)
    rng = np.random.default_rng(0)
    target = (0.1 * rng.standard_normal((3, 2000))).astype(np.float32)
    same = baselines.summarize_measures(baselines.sound_measures(target, target, cfg))
    assert same["lsd_mean"] == pytest.approx(0.0, abs=1e-6) and same["rms_ratio_median"] == pytest.approx(1.0)
    silent = baselines.summarize_measures(baselines.sound_measures(target, np.zeros_like(target), cfg))
    half = baselines.summarize_measures(baselines.sound_measures(target, 0.5 * target, cfg))
    assert silent["silent_fraction"] == 1.0 and half["silent_fraction"] == 0.0
    assert half["rms_ratio_median"] == pytest.approx(0.5, rel=1e-5)
    assert half["lsd_mean"] == pytest.approx(np.log(2.0), rel=0.05) and silent["lsd_mean"] > 3 * half["lsd_mean"]


def test_table_rows_have_a_value_per_column_and_a_verdict():
    record = {"parameters": {"model": {"param_error": 4.0}, "mean_patch": {"param_error": 5.0},
                             "untrained": {"param_error": 17.0}, "shuffled": {"param_error": 10.0}},
              "spectral": {w: {f: {"mse": v, "l1_median": v} for f in ("stft", "mfcc", "cqt")}
                           for w, v in (("model", 1.0), ("mean_patch", 0.5), ("untrained", 2.0), ("shuffled", 3.0))},
              "sound": {w: {"lsd_mean": v, "rms_ratio_median": 1.0, "silent_fraction": 0.0}
                        for w, v in (("model", 2.0), ("mean_patch", 3.0), ("untrained", 4.0), ("shuffled", 3.5))}}
    rows = dict(baselines.table_rows(record))
    assert all(len(v) == len(baselines.COLUMNS) + 1 for v in rows.values())
    assert rows["parameter error (sum of squares, from mu)"][-1] == "better than all"
    assert rows["STFT MSE"][-1] == "not better than mean_patch"
    assert rows["RMS ratio prediction / target (median)"][-1] == ""


def _record(param: float, lsd: float, mse: float, silent: float = 0.0, rms: float = 0.5) -> dict:
    """A baselines record whose model scores param/lsd/mse against a mean patch at 5.0 / 3.0 / 1.0."""
    return {"parameters": {"model": {"param_error": param}, "mean_patch": {"param_error": 5.0}},
            "spectral": {w: {f: {"mse": v, "l1_median": v} for f in ("stft", "mfcc", "cqt")}
                         for w, v in (("model", mse), ("mean_patch", 1.0))},
            "sound": {"model": {"lsd_mean": lsd, "rms_ratio_median": rms, "silent_fraction": silent},
                      "mean_patch": {"lsd_mean": 3.0, "rms_ratio_median": 1.0, "silent_fraction": 0.0}}}


def test_failure_names_silent_and_collapsed_runs_only():
    assert baselines.failure(_record(4.0, 2.0, 2.0)) is None  # Beats the mean patch on parameters and LSD.
    assert baselines.failure(_record(6.0, 2.0, 2.0)) is None  # Beats it on LSD alone: still a result.
    assert baselines.failure(_record(5.0, 3.0, 0.5)) == "no better than the mean patch"  # Ties; MSE alone can be gamed.
    assert baselines.failure(_record(4.0, 2.0, 0.5, silent=1.0)) == "silent (100% of its sounds)"
    assert baselines.failure(_record(4.0, 2.0, 0.5, silent=0.5)) is None
    assert baselines.failure(None) is None


def test_verdict_sentence_is_read_off_the_numbers():
    mixed = baselines.verdict_sentence(_record(4.0, 2.0, 2.0, rms=0.5))
    assert mixed == ("The model beats the mean patch (a collapsed model) on parameter error and log-spectral "
                     "distance, but not on STFT MSE, MFCC MSE, CQT MSE and STFT L1 (its sounds at 0.5x the "
                     "targets' loudness, median RMS ratio).")
    assert "on every measure" in baselines.verdict_sentence(_record(4.0, 2.0, 0.5))
    assert "beats it on no measure" in baselines.verdict_sentence(_record(6.0, 4.0, 2.0))
    assert baselines.verdict_sentence(_record(4.0, 2.0, 0.5, silent=0.9)).startswith("Not a result: the model is silent")
    assert baselines.verdict_sentence(None).startswith("No verdict")


def test_demo_summary_opens_with_the_verdict():
    from eval.demo import summary

    record = _record(4.0, 2.0, 2.0)
    record["parameters"]["model"].update(active_units=5, kl_total=12.0)
    record["parameters"]["linear_code"] = {"param_error": 3.9}
    lines = summary({"baselines": record, "run": {"latent_dim": 16}})
    assert lines[0] == f"Verdict: {baselines.verdict_sentence(record)}" and "parameter error" in lines[0]
    units = next(i for i, line in enumerate(lines) if line.startswith("active latent units: 5 of 16"))
    assert lines[units + 1:] == ["", "latent organization: not measured"]  # Then the timbre space, or why not.


def test_demo_prints_fad_beside_its_baselines():
    from eval.demo import fad_line

    fad = {"status": "computed with cdpam only", "scores": {"test": {"cdpam": 0.19}},
           "baselines": {"mean_patch": {"cdpam": 0.45}, "other_real_sounds": {"cdpam": 0.12}}}
    line = fad_line({"fad": fad, "settings": {"fad_sounds": 32}})
    assert line == ("FAD on the test set (lower is better): cdpam 0.19 (mean patch 0.45, other real sounds 0.12), "
                    "32 sounds per set")
    assert fad_line({"fad": {"status": "disabled (--no-fad)", "scores": {}}}) == "FAD: disabled (--no-fad)"
