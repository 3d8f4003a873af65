"""eval.demo end to end at the tiny scale: it trains through vae.settings and vae.train, evaluates through
eval.pipeline (no argv in between), prints the verdict and the latent space's organization, and replaces its run."""

import json

import pytest

from eval import demo


@pytest.mark.slow
def test_demo_trains_evaluates_and_summarizes_a_tiny_timbre_space(tmp_path, monkeypatch, capsys):
    settings = {"objective": "timbre", "scale": "tiny", "data": str(tmp_path / "tiny.npz")}
    monkeypatch.setattr(demo, "TRAIN_SETTINGS", settings)
    monkeypatch.setattr(demo, "TEST_LIMIT", 8)
    out = tmp_path / "demo"
    assert demo.main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert config["objective"] == "timbre" and config["scale"] == "tiny" and config["model"]["sound_input"] is not None
    assert metrics["spectral"]["n"] == 8 and f"{metrics['spectral']['n']} test patches" in printed
    assert "Verdict: " in printed and "explore it: scripts/explore.py" in printed
    organization = metrics["organization"]
    assert f"Does the latent space organize sound? {organization['k']} nearest neighbours" in printed
    assert f"ratio {organization['neighbours']['model']['ratio']:5.2f}" in printed
    assert "FAD: left out of the demo" in printed
    first = (out / "metrics.jsonl").read_text()
    assert demo.main(["--out", str(out)]) == 0  # A second demo replaces the run, and trains it the same way.
    assert (out / "metrics.jsonl").read_text().count("\n") == first.count("\n")
