"""Figures, WAV files and scripts/compare.py on synthetic evaluations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.checkout import load_script
import soundfile as sf

from eval import figures, outputs
from eval.spectral_metrics import METRIC_FEATURES
from spectral.features import FeatureConfig

CFG = FeatureConfig(sample_rate=8000, n_fft=256, hop_length=64, n_mels=32)


def _png(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 2000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_written(tmp_path):
    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(60, 2)).astype(np.float32)
    labels = np.repeat([0, 1, 2, -1], 15)
    t = np.arange(2000) / 8000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    paths = [
        figures.umap_figure(embedding, labels, tmp_path / "umap.png", "u"),
        figures.cluster_spectra_figure({0: (np.arange(5.0), np.ones(5)), 2: (np.arange(5.0), np.full(5, 2.0))},
                                       embedding, labels, tmp_path / "clusters.png"),
        figures.waveforms_figure(np.stack([tone, 0.5 * tone, 0.1 * tone]), 8000, ["a", "b", "c"],
                                 tmp_path / "waves.png"),
        figures.comparison_figure(tone, 0.8 * tone, CFG, tmp_path / "sub" / "compare.png", "c"),
        figures.error_distributions_figure({"run a": {f: rng.gamma(2, size=40) for f in METRIC_FEATURES},
                                            "run b": {f: rng.gamma(3, size=30) for f in METRIC_FEATURES}},
                                           tmp_path / "l1.png"),
    ]
    for path in paths:
        _png(path)
    assert figures.spectrogram_db(tone, CFG).shape == (1 + 2000 // 64, 129)


def test_wavs_are_readable(tmp_path):
    t = np.arange(800) / 4000
    clip = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    written = outputs.write_wavs(tmp_path / "s", {"a": clip, "loud": 3 * clip}, 4000)
    audio, sr = sf.read(written["a"])
    assert sr == 4000 and audio.shape == (800,)
    np.testing.assert_allclose(audio, clip, atol=1 / 2 ** 15)
    assert np.abs(sf.read(written["loud"])[0]).max() <= 1.0  # clipped, not wrapped
    with pytest.raises(ValueError):
        outputs.write_wav(tmp_path / "x.wav", np.zeros((2, 10)), 4000)


def _fake_evaluation(folder: Path, case: str | None, l1_scale: float, fad: dict | None, dbcv: float,
                     sample_rate: int = 8000, sound: tuple[float, float, float] | None = None) -> Path:
    """A minimal eval folder as eval.pipeline writes it; sound: the model's (parameter error, log-spectral
    distance, silent fraction), recorded beside a mean patch at 5.0 and 3.0."""
    rng = np.random.default_rng(int(l1_scale * 10))
    (folder / "errors").mkdir(parents=True)
    files, summary = {}, {}
    for f in METRIC_FEATURES:
        l1 = rng.gamma(2.0, l1_scale, size=200)
        np.save(folder / "errors" / f"test_l1_{f}.npy", l1)
        files[f"l1_{f}"] = f"errors/test_l1_{f}.npy"
        summary[f] = {"mse": float(l1_scale ** 2), "l1_mean": float(l1.mean()), "l1_median": float(np.median(l1)),
                      "l1_std": float(l1.std())}
    metrics = {
        "run": {"dir": str(folder.parent), "case": case, "checkpoint": "best", "step": 10, "sample_rate_hz": sample_rate,
                "seconds": 0.25},
        "fad": {"status": "computed" if fad else "skipped (no embedding checkpoint found)", "skipped": {},
                "scores": fad or {}},
        "spectral": {"n": 200, "files": files, "summary": summary, "settings": {"stft": {"n_fft": 512}}},
        "clustering": {"status": "computed", "n_clusters": 12, "n_noise": 40, "dbcv": dbcv,
                       "config": {"n_neighbors": 50, "min_dist": 0.0, "eps": 0.04, "min_samples": 4, "seed": 0}},
    }
    if sound is not None:
        param, lsd, silent = sound
        metrics["baselines"] = {
            "parameters": {"model": {"param_error": param, "active_units": 3}, "mean_patch": {"param_error": 5.0}},
            "sound": {"model": {"lsd_mean": lsd, "rms_ratio_median": 1.0 - silent, "silent_fraction": silent},
                      "mean_patch": {"lsd_mean": 3.0}, "shuffled": {"lsd_mean": 3.5}},
            "spectral": {}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_compare_marks_best_and_runs_kruskal_wallis(tmp_path, capsys):
    fad_a = {"train_subset": {"vggish": 0.74, "panns": 92.3}, "test": {"vggish": 0.73, "panns": 116.3}}
    _fake_evaluation(tmp_path / "Exp1-LMSL" / "eval", "Exp1-LMSL", 1.0, fad_a, 0.41)
    _fake_evaluation(tmp_path / "b" / "eval", "Exp1-LogSL", 3.0, None, 0.38)
    out = tmp_path / "tables" / "compare.md"
    assert load_script("compare").main([str(tmp_path / "Exp1-LMSL"), str(tmp_path / "b" / "eval"), "--out", str(out)]) == 0
    text = out.read_text()
    for heading in ("## FAD", "## Spectral MSE", "## Per-example L1", "## Kruskal–Wallis", "## Clustering"):
        assert heading in text
    assert "| Exp1-LMSL | **0.74** | **92.3** | **0.73** | **116.3** |" in text
    assert "| Exp1-LogSL | — | — | — | — |" in text and "FAD missing for: Exp1-LogSL" in text
    assert "| Exp1-LMSL | **1** | **1** | **1** |" in text  # MSE: lower is better
    assert "| Exp1-LMSL | 12 | 40 | **0.4100** |" in text  # DBCV: higher is better
    assert "| STFT |" in text and "ε²" in text and "statistically significant difference" in text
    summary = json.loads(out.with_suffix(".json").read_text())
    assert set(summary["kruskal_wallis"]) == set(METRIC_FEATURES)
    assert summary["kruskal_wallis"]["stft"]["p_value"] < 0.05  # gamma scales 1 vs 3: clearly different
    _png(out.with_name("compare_l1.png"))

    assert load_script("compare").main([str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    assert f"{tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
    (tmp_path / "unevaluated").mkdir()
    assert load_script("compare").main([str(tmp_path / "unevaluated"), "--out", str(out)]) == 2
    assert "no metrics.json" in capsys.readouterr().err


def _rows(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| {name}")]


def test_compare_never_marks_a_silent_or_collapsed_run_best(tmp_path):
    """A silent run and one no better than the mean patch have the lowest errors, yet are marked in every table
    and never bold; of the two runs that learned, the better is best."""
    _fake_evaluation(tmp_path / "good" / "eval", "Exp1-SCL", 3.0, None, 0.3, sound=(4.0, 2.0, 0.0))
    _fake_evaluation(tmp_path / "worse" / "eval", "Exp1-SCLP", 4.0, None, 0.2, sound=(4.5, 2.2, 0.0))
    _fake_evaluation(tmp_path / "silent" / "eval", "Exp1-LMSL", 1.0, None, 0.5, sound=(4.0, 2.5, 1.0))
    _fake_evaluation(tmp_path / "collapsed" / "eval", "Exp1-LogSL", 1.5, None, 0.6, sound=(5.1, 3.2, 0.0))
    out = tmp_path / "compare.md"
    assert load_script("compare").main([str(tmp_path / k) for k in ("good", "worse", "silent", "collapsed")]
                                       + ["--out", str(out)]) == 0
    text = out.read_text()
    silent, collapsed = _rows(text, "Exp1-LMSL"), _rows(text, "Exp1-LogSL")
    assert len(silent) == len(collapsed) == 7  # runs, FAD, MSE, L1, baselines, organization, clustering
    assert all("⚠ silent (100% of its sounds)" in row and "**" not in row for row in silent)
    assert all("⚠ no better than the mean patch" in row and "**" not in row for row in collapsed)
    good = _rows(text, "Exp1-SCL")
    assert "| Exp1-SCL | **9** | **9** | **9** |" in good  # MSE: best of the runs that are results
    summary = json.loads(out.with_suffix(".json").read_text())
    assert set(summary["not_a_result"]) == {"Exp1-LMSL", "Exp1-LogSL"} and summary["not_comparable"] == []
    assert set(summary["kruskal_wallis"]) == set(METRIC_FEATURES)  # Comparable runs: tested as before.


def test_compare_neither_ranks_nor_tests_runs_at_other_settings(tmp_path):
    _fake_evaluation(tmp_path / "a" / "eval", "Exp1-SCL", 1.0, None, 0.4)
    _fake_evaluation(tmp_path / "b" / "eval", "Exp1-LMSL", 3.0, None, 0.3, sample_rate=16000)
    out = tmp_path / "compare.md"
    assert load_script("compare").main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "**" not in text.split("## Kruskal")[0].replace("**Warning:**", "")
    assert "No best value is marked" in text and "Not run across all runs: they differ in sample rate (Hz)" in text
    assert "statistically significant" not in text and "### Within" not in text
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["kruskal_wallis"] == {} and summary["kruskal_wallis_by_experiment"] == {}
    assert summary["not_comparable"] == ["sample rate (Hz)"]


def test_compare_tests_losses_within_each_experiment(tmp_path):
    """With runs of two experiments, compare also runs Kruskal–Wallis within each (the thesis's test):
    Exp1's two runs differ, Exp2's two identical distributions do not; a run without a case joins neither."""
    _fake_evaluation(tmp_path / "a" / "eval", "Exp1-SCL", 1.0, None, 0.4)
    _fake_evaluation(tmp_path / "b" / "eval", "Exp1-LMSL", 3.0, None, 0.4)
    _fake_evaluation(tmp_path / "c" / "eval", "Exp2-SCL-ts", 2.0, None, 0.4)
    _fake_evaluation(tmp_path / "d" / "eval", "Exp2-LMSL-ts", 2.0, None, 0.4)
    _fake_evaluation(tmp_path / "e" / "eval", None, 2.0, None, 0.4)
    out = tmp_path / "compare.md"
    assert load_script("compare").main([str(tmp_path / k) for k in "abcde"] + ["--out", str(out)]) == 0
    text = out.read_text()
    assert "### Within Exp1" in text and "Across Exp1-SCL, Exp1-LMSL." in text
    assert "### Within Exp2" in text and "Across Exp2-SCL-ts, Exp2-LMSL-ts." in text and "Exp3" not in text
    by_experiment = json.loads(out.with_suffix(".json").read_text())["kruskal_wallis_by_experiment"]
    assert set(by_experiment) == {"Exp1", "Exp2"}
    assert all(by_experiment["Exp1"][f]["significant"] for f in METRIC_FEATURES)
    assert not any(by_experiment["Exp2"][f]["significant"] for f in METRIC_FEATURES)
    assert by_experiment["Exp2"]["stft"]["p_value"] > 0.99  # the same errors: H = 0

    # Runs of one experiment only: the whole-list test is already the thesis's, so no repeat section.
    assert load_script("compare").main([str(tmp_path / k) for k in "ab"] + ["--out", str(out)]) == 0
    assert "### Within" not in out.read_text()
