"""scripts/evaluate.py end to end on a tiny trained run; FAD skipped and (stand-in) computed; bad input."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from eval import baselines, frechet, report
from eval.pipeline import EvalConfig, evaluate
from eval.spectral_metrics import METRIC_FEATURES
from tests.checkout import ROOT, load_script



def _env(home: Path) -> dict:
    """The subprocess environment with no embedding weights anywhere (empty HOME cache, no env var)."""
    env = {k: v for k, v in os.environ.items() if k != "JAXSYNTH_WEIGHTS_DIR"}
    env.update(HOME=str(home), MPLCONFIGDIR=matplotlib.get_configdir())
    return env


class _StandIn(nn.Module):
    """Instead of VGGish: per clip [mean, std, max |x|, energy] of the 16 kHz waveform."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def embed_waveform(self, waveform: torch.Tensor) -> torch.Tensor:
        w = waveform
        return self.scale * torch.stack([w.mean(-1), w.std(-1), w.abs().amax(-1), (w ** 2).mean(-1)], dim=-1)


def _links(markdown: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", markdown)


def test_evaluate_cli_end_to_end(tiny_run, tmp_path, monkeypatch):
    # 1. The CLI with no embedding weights anywhere: FAD skipped, everything else computed.
    (tmp_path / "empty").mkdir()
    cmd = [sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(tiny_run), "--weights-dir",
           str(tmp_path / "empty"), "--no-download", "--test-limit", "6", "--cluster-fraction", "1.0",
           "--umap-neighbors", "8", "--dbscan-eps", "0.5", "--batch-size", "8", "--examples", "2",
           "--interpolation-pair", "0", "5", "--seed", "3", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path / "home"), timeout=600)
    assert done.returncode == 0, done.stderr
    out = tiny_run / "eval"
    assert f"report: {out / 'report.md'}" in done.stdout

    text = (out / "report.md").read_text()
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == list(report.SECTIONS)
    assert "FAD was skipped for: vggish, panns" in text and "vggish-10086976.pth" in text
    assert "--weights-dir FOLDER" in text and "JAXSYNTH_WEIGHTS_DIR" in text
    links = _links(text)
    assert any(link.endswith(".wav") for link in links) and any(link.endswith(".png") for link in links)
    for link in links:
        path = out / link
        assert path.is_file() and path.stat().st_size > 0, link
        if link.endswith(".wav"):
            audio, sr = sf.read(path)
            assert sr == 4000 and audio.shape == (400,)
        if link.endswith(".png"):
            assert path.read_bytes()[:4] == b"\x89PNG"

    metrics = json.loads((out / "metrics.json").read_text())
    # CDPAM ships with the fad extra (in the test extra): computed where it is installed, skipped elsewhere.
    fad = metrics["fad"]
    assert {"vggish", "panns"} <= set(fad["skipped"])
    assert set(fad["scores"].get("test", {})) == (set() if "cdpam" in fad["skipped"] else {"cdpam"})
    assert metrics["spectral"]["n"] == 6 and metrics["sets"]["test"] == {"n": 6, "of": 8}
    for feature in METRIC_FEATURES:
        assert math.isfinite(metrics["spectral"]["summary"][feature]["mse"])
        assert np.load(out / metrics["spectral"]["files"][f"l1_{feature}"]).shape == (6,)
    clustering = metrics["clustering"]
    assert clustering["n_points"] == 48 and clustering["config"]["n_neighbors"] == 8
    assert clustering["config"]["eps"] == 0.5 and clustering["config"]["seed"] == 3
    assert clustering["n_noise"] + np.sum(np.load(out / "latent" / "labels.npy") >= 0) == 48
    assert metrics["settings"]["seeds"]["umap"] == 3 and metrics["examples"]["interpolation"]["test_indices"] == [0, 5]
    assert len(metrics["examples"]["interpolation"]["wavs"]) == 2 + 7
    assert len(metrics["examples"]["reconstructions"]) == 2
    assert {"load", "reconstruct", "test_set", "clustering", "baselines", "figures_sounds", "report"} \
        <= set(metrics["timings_s"])
    # Every metric has its baselines beside it, computed on the same 6 test patches.
    b = metrics["baselines"]
    assert set(b["spectral"]) == set(b["sound"]) == {"model", "mean_patch", "untrained", "shuffled"}
    assert b["spectral"]["model"] == metrics["spectral"]["summary"]
    assert b["spectral"]["shuffled"]["stft"]["mse"] > 0 and 0 <= b["sound"]["model"]["silent_fraction"] <= 1
    params = b["parameters"]
    assert params["model"]["param_error"] >= 0 and len(params["model"]["per_param"]) == 63
    assert params["mean_patch"]["param_error"] > 0 and params["linear_code"]["param_error"] > 0
    assert set(b["clustering"]) == {"raw_parameters", "untrained_encoder"}
    assert "| parameter error (sum of squares, from mu) |" in text and "Clustering, same points and settings" in text
    assert text.splitlines()[2] == f"**Verdict:** {baselines.verdict_sentence(b)}"  # The headline, from the numbers.

    # 2. In process, with a stand-in for VGGish and PANNs missing: FAD computed for the one network.
    monkeypatch.setattr(frechet, "load_embedders",
                        lambda *a, **k: ({"vggish": _StandIn().eval()}, {"panns": "Checkpoint 'x.pth' not found"}))
    cfg = EvalConfig(test_limit=6, cluster_fraction=0.05, batch_size=8, n_examples=1, progress=False)
    fad_out = tmp_path / "eval_fad"
    metrics = evaluate(tiny_run, cfg, fad_out)
    fad = metrics["fad"]
    assert fad["status"] == "computed with vggish only" and set(fad["skipped"]) == {"panns"}
    assert set(fad["scores"]) == {"test", "train_subset"}
    assert all(math.isfinite(fad["scores"][s]["vggish"]) and fad["scores"][s]["vggish"] >= -1e-9 for s in fad["scores"])
    assert fad["embedding_rows"] == {"test": {"vggish": 6}, "train_subset": {"vggish": 10}}  # 20 % of 48
    assert set(fad["baselines"]) == {"mean_patch", "other_real_sounds"}
    assert all(math.isfinite(v["vggish"]) for v in fad["baselines"].values())
    assert "| network | model | mean patch | other real sounds |" in (fad_out / "report.md").read_text()
    assert metrics["clustering"]["status"].startswith("skipped")  # 2 latents are too few
    text = (fad_out / "report.md").read_text()
    assert "| Subset of train VGGish ↓ |" in text and "FAD was skipped for: panns" in text
    assert "zero-padded to 1.0 s" in text

    # 3. Both evaluations side by side.
    table = tmp_path / "compare.md"
    assert load_script("compare").main([str(tiny_run), str(fad_out), "--out", str(table)]) == 0
    assert "## Kruskal–Wallis" in table.read_text() and "## Against baselines" in table.read_text()


def test_bad_run_directories_are_explained(tmp_path, capsys):
    cli = load_script("evaluate")
    assert cli.main([str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "not_a_run").mkdir()
    assert cli.main([str(tmp_path / "not_a_run"), "--quiet"]) == 2
    assert "not a run directory" in capsys.readouterr().err

    from vae import data, run_files, settings

    resolved = settings.resolve({"scale": "tiny", "loss": "sclp", "feature": "mfcc"})
    dataset = data.generate(settings.data_config(resolved.settings))
    data.save(dataset, tmp_path / "d.npz", progress=False)
    run_files.write_config(tmp_path / "untrained", settings.build_config(resolved, dataset, tmp_path / "d.npz"))
    assert cli.main([str(tmp_path / "untrained"), "--quiet"]) == 2
    assert "no 'best' checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path / "untrained"), "--checkpoint", "final"])
    with pytest.raises(SystemExit) as done:  # Named as typed, by argparse, before any work.
        cli.main([str(tmp_path / "untrained"), "--train-fraction", "0", "--quiet"])
    assert done.value.code == 2 and "argument --train-fraction: must be > 0 and <= 1" in capsys.readouterr().err
