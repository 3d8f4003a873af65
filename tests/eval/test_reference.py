"""eval.reference: a list of cases trained, evaluated, kept and compared; rerunning skips what is done."""

import json

import pytest

from eval import reference

EVAL = ["--evaluate-args", "--no-fad", "--test-limit", "6", "--cluster-fraction", "1.0", "--umap-neighbors", "8"]


@pytest.mark.slow
def test_reference_runs_resume_skip_and_compare(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # The tiny dataset is generated under ./data.
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--cases", "exp1-sclp", "--scale", "tiny", "--runs-dir", str(runs), "--results-dir", str(results)]
    # A first pass that only trains, as a session that ends before the evaluation would leave it.
    assert reference.main([*args, "--train-only"]) == 0
    plan = reference.plan(["Exp1-SCLP"], ["thesis"], runs, results)
    assert [r.state() for r in plan] == ["started"]
    capsys.readouterr()
    assert reference.main([*args, *EVAL]) == 0
    printed = capsys.readouterr()
    assert "== thesis Exp1-SCLP: started" in printed.out + printed.err
    assert [r.state() for r in plan] == ["evaluated"]
    kept = results / "thesis" / "Exp1-SCLP"
    metrics = json.loads((kept / "eval" / "metrics.json").read_text())
    assert metrics["run"]["case"] == "Exp1-SCLP" and "baselines" in metrics
    assert (kept / "metrics.jsonl").is_file() and (kept / "eval" / "report.md").is_file()
    assert not (kept / "checkpoints").exists() and not (kept / "eval" / "latent").exists()
    wavs = {p.relative_to(kept / "eval" / "sounds").parts[0] for p in kept.rglob("*.wav")}
    assert "examples" in wavs and "clusters" not in wavs
    assert len(list((kept / "eval" / "figures").glob("reconstruction_*.png"))) == 1  # --examples 1
    from PIL import Image  # Kept figures are palette PNGs of the same plots, smaller than the run's.

    with Image.open(kept / "loss_curve.png") as small, Image.open(runs / "thesis" / "Exp1-SCLP" / "loss_curve.png") as full:
        assert small.mode == "P" and small.size == full.size
    assert (kept / "loss_curve.png").stat().st_size < (runs / "thesis" / "Exp1-SCLP" / "loss_curve.png").stat().st_size
    record = json.loads((kept / "metrics.jsonl").read_text().splitlines()[-1])
    assert "val/param_error" in record and "val/per_param" not in record and len(record["val/kl_per_dim"]) == 16
    run_record = json.loads((runs / "thesis" / "Exp1-SCLP" / "metrics.jsonl").read_text().splitlines()[-1])
    assert len(run_record["val/per_param"]) == 63
    compare = (results / "thesis" / "compare.md").read_text()
    assert "| Exp1-SCLP" in compare and "## Against baselines" in compare  # (marked when silent or collapsed)
    # Done cases are skipped: nothing is trained or evaluated again.
    before = (runs / "thesis" / "Exp1-SCLP" / "metrics.jsonl").stat().st_mtime_ns
    capsys.readouterr()
    assert reference.main([*args, *EVAL]) == 0
    printed = capsys.readouterr()
    assert "== thesis Exp1-SCLP" not in printed.out + printed.err
    assert (runs / "thesis" / "Exp1-SCLP" / "metrics.jsonl").stat().st_mtime_ns == before
    assert reference.main([*args, "--list"]) == 0
    assert "evaluated  thesis    Exp1-SCLP" in capsys.readouterr().out
