"""scripts/train.py end to end at the tiny scale, resume of a finished run, and bad input."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from vae import run, run_files
from tests.checkout import ROOT, load_script

SCRIPT = ROOT / "scripts" / "train.py"


def _cli():
    return load_script("train")


def test_tiny_run_writes_a_loadable_run(tmp_path, caplog):
    out, data_path = tmp_path / "run", tmp_path / "data" / "voice63_48-8-8_seed0.npz"  # The default dataset.
    cmd = [sys.executable, str(SCRIPT), "--scale", "tiny", "--loss", "sclp", "--feature", "mfcc", "--quiet",
           "--out", str(out), "--tensorboard", str(tmp_path / "tb")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "scale tiny expands to: --n-patches 64" in done.stdout and "beta = " in done.stdout
    paths = run_files.RunPaths(out)
    for path in (paths.config, paths.metrics, paths.metrics_csv, paths.curve, paths.checkpoints / "best",
                 paths.checkpoints / "latest", data_path, data_path.with_suffix(".json")):
        assert path.exists(), path
    config = json.loads(paths.config.read_text())
    assert config["phases"][0]["beta"] is None  # Calibrated: config.json keeps it as given, written once.
    records = run_files.read_metrics(out)
    beta = float(re.search(r"beta = (\S+)", done.stdout).group(1))
    assert len(records) == 2 and records[0]["beta"] > 0 and all(r["beta"] == records[0]["beta"] for r in records)
    assert records[0]["beta"] == pytest.approx(beta, rel=1e-5)  # The printed value (6 significant digits).
    assert {"train/spectral", "val/recon", "val/clamp", "val/kl", "val/total", "lr"} <= set(records[0])
    # --tensorboard: the event file holds every numeric entry of each epoch's record, at its step.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert {"val/objective", "val/kl", "train/recon", "lr", "epoch"} <= set(events.Tags()["scalars"])
    for tag in events.Tags()["scalars"]:
        logged = [(e.step, e.value) for e in events.Scalars(tag)]
        assert logged == [(r["step"], pytest.approx(r[tag], rel=1e-6)) for r in records], tag
    assert "improved" not in events.Tags()["scalars"]  # Flags are not curves.

    with caplog.at_level("INFO"):
        loaded = run.load_run(out)
    assert not [r for r in caplog.records if "read only" in r.getMessage() or "read_only" in r.getMessage()]
    rec = run.reconstruct(loaded, loaded.dataset.val)
    assert rec.shape == (8, 63) and np.isfinite(rec).all()

    assert _cli().main(["--resume", "--out", str(out), "--quiet"]) == 0  # Finished: nothing left to train.
    assert len(run_files.read_metrics(out)) == 2


def test_bad_input_is_explained(tmp_path, capsys):
    cli = _cli()
    assert cli.main(["--case", "Exp9-X", "--out", str(tmp_path / "r")]) == 2
    assert "unknown case 'Exp9-X'; valid: Exp1-SCL" in capsys.readouterr().err
    assert cli.main(["--feature", "mel", "--scale", "tiny", "--out", str(tmp_path / "r")]) == 2
    assert "--feature 'mel' is unknown; valid: cqt, mfcc, stft" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--resume", "--out", str(tmp_path), "--loss", "scl"])
    assert "drop --loss" in capsys.readouterr().err
    full = tmp_path / "d78.npz"
    from vae import data
    data.save(data.generate(data.DataConfig(8, (6, 1, 1), all_params=True)), full, progress=False)
    assert cli.main(["--scale", "tiny", "--data", str(full), "--out", str(tmp_path / "r2"), "--quiet"]) == 2
    assert "has 78 free parameters but the model expects 63" in capsys.readouterr().err
