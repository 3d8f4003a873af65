"""Reliability (issue 10): bad input gets one clear line naming the flag or file and exit status 2, with
nothing written or deleted; files are written atomically; a run killed at any moment (SIGKILL, during
training, during a checkpoint write, during a metrics write) resumes to the uninterrupted run; a resume
never continues metrics with a gap.

Probes are numbered as in issue 10; `PASSING` holds the cases that already passed when it was filed.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from eval import cli as eval_cli
from jaxsynth import SynthConfig, Voice
from common import atomic
from vae import cli, data, run_files, settings, train
from vae.config import to_json
from tests.checkout import ROOT, run_cli
from tests.vae.short_runs import run_weights, short_config, without_times



def _tree(root: Path) -> list[str]:
    """Every path under root (relative), to show that nothing was written or deleted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _train(argv, capsys) -> tuple[int, str]:
    """(exit status, stderr) of the training CLI."""
    return run_cli(cli.train_main, argv, capsys)


def _copy_run(tiny_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    return out


# ------------------------------------------------------------ bad input: exit 2, one line, nothing written

def _bad_dataset(folder: Path, kind: str) -> Path:
    """A dataset file with one defect (`kind`), from a valid 8-patch dataset."""
    good = data.generate(data.DataConfig(8, (6, 1, 1)))
    npz, js = data.save(good, folder / "good", progress=False)
    text = js.read_text()
    if kind == "npz_columns":
        path = folder / "bad.npz"
        arrays = dict(np.load(npz))
        arrays["train"] = arrays["train"][:, :10]
        np.savez(path, **arrays)
        return path
    path = folder / "bad.json"
    doc = json.loads(text)
    if kind == "truncated":
        path.write_text(text[: len(text) // 2])
    elif kind == "empty":
        path.write_text("")
    else:
        record = doc["train"][0]
        if kind == "out_of_range":
            record["keyboard"]["midi_f0"] = 1000.0
        elif kind == "nan":
            record["keyboard"]["midi_f0"] = float("nan")
        elif kind == "missing_parameter":
            del record["keyboard"]["midi_f0"]
        path.write_text(json.dumps(doc))
    return path


# (extra flags, words the one-line error must hold)
PASSING = {
    "unknown_loss": (["--loss", "l9"], "--loss 'l9' is unknown; valid: lmsl"),
    "unknown_feature": (["--feature", "mel"], "--feature 'mel' is unknown"),
    "unknown_case": (["--case", "Exp9-X"], "unknown case 'Exp9-X'"),
    "unknown_scale": (["--scale", "huge"], "unknown scale 'huge'"),
    "bad_batch": (["--batch-size", "0"], "--batch-size must be"),
    "bad_split": (["--split", "40", "8", "8"], "--split 40 8 8 must be three sizes"),
    "bad_latent": (["--latent", "0"], "--latent must be"),
    "bad_hidden": (["--hidden", "8", "0"], "--hidden must be"),
    "bad_sample_rate": (["--sample-rate", "0"], "--sample-rate must be"),
    "bad_buffer": (["--buffer-seconds", "0"], "--buffer-seconds must be"),
    "bad_devices": (["--devices", "3"], "--devices 3"),
    "bad_epochs": (["--max-epochs", "0"], "--max-epochs"),
    "bad_patience": (["--patience", "0"], "--patience"),
}
# Probes 6, 9, 10 of the issue.
FIXED = {
    "p6_batch_over_training_set": (["--batch-size", "100"], "--batch-size 100 exceeds the 48 training patches"),
    "p9_sample_rate_mfcc": (["--sample-rate", "500", "--feature", "mfcc"],
                            "--sample-rate 500 is too low for --feature mfcc"),
    "p9_sample_rate_cqt": (["--sample-rate", "500", "--feature", "cqt"], "--sample-rate 500"),
    "p10_lr_zero": (["--lr", "0"], "--lr must be a finite number > 0, got 0.0"),
    "nan_alpha": (["--alpha", "nan"], "--alpha must be a finite number >= 0, got nan"),  # Trained to NaN before.
}


@pytest.mark.parametrize("name", [*PASSING, *FIXED])
def test_bad_flags_exit_2_naming_the_flag_and_write_nothing(name, tmp_path, monkeypatch, capsys):
    flags, words = {**PASSING, **FIXED}[name]
    monkeypatch.chdir(tmp_path)  # The default dataset would be generated under ./data.
    code, err = _train(["--scale", "tiny", "--quiet", "--out", str(tmp_path / "r"), *flags], capsys)
    assert code == 2, err
    assert words in err and "Traceback" not in err
    assert _tree(tmp_path) == []  # No run folder, no generated dataset.


@pytest.mark.parametrize("kind", ["truncated", "empty", "out_of_range", "nan", "missing_parameter", "npz_columns"])
def test_bad_dataset_files_are_named(kind, tmp_path, capsys):
    path = _bad_dataset(tmp_path, kind)
    code, err = _train(["--scale", "tiny", "--quiet", "--data", str(path), "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and str(path) in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_p1_missing_data_path_is_an_error_not_a_new_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for missing in (tmp_path / "some" / "typo" / "nope.npz", tmp_path / "nope.json"):
        code, err = _train(["--scale", "tiny", "--quiet", "--data", str(missing), "--out", str(tmp_path / "r")],
                           capsys)
        assert code == 2 and f"--data {missing} does not exist" in err
    assert _tree(tmp_path) == []


def test_p2_overwrite_deletes_only_a_run(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "important.csv").write_text("a,b\n1,2\n")
    before = _tree(folder)
    code, err = _train(["--scale", "tiny", "--quiet", "--out", str(folder), "--overwrite"], capsys)
    assert code == 2 and "refusing to --overwrite" in err and "important.csv" in err
    assert _tree(folder) == before
    (folder / "important.csv").unlink()  # config.json alone is not a run either.
    with pytest.raises(run_files.RunFileError, match="lacks config.json with checkpoints"):
        run_files.clear_run(folder)
    # A run's own files (and an atomic write's leftover) are deleted, the folder kept.
    for name in ("metrics.jsonl", ".tmp-0a1b2c3d-metrics.csv"):
        (folder / name).write_text("")
    (folder / "checkpoints" / "latest").mkdir(parents=True)
    run_files.clear_run(folder)
    assert folder.is_dir() and _tree(folder) == []


def test_p3_p11_resume_refuses_metrics_that_lack_finished_epochs(tiny_run, tmp_path, capsys):
    out = _copy_run(tiny_run, tmp_path)
    metrics = run_files.RunPaths(out).metrics
    lines = metrics.read_text().splitlines(keepends=True)
    for kept in ("".join(lines[:1]), ""):  # Cut after epoch 1 (of 2), then emptied (probe 11).
        metrics.write_text(kept)
        code, err = _train(["--resume", "--out", str(out), "--quiet"], capsys)
        assert code == 2 and "does not match the latest checkpoint" in err and "Traceback" not in err
        assert metrics.read_text() == kept  # Refused: nothing rewritten.
    metrics.write_text("".join(lines))
    assert _train(["--resume", "--out", str(out), "--quiet"], capsys)[0] == 0


def test_p3_metrics_must_be_every_finished_epoch():
    def records(*pairs):  # (phase, epoch) -> records 3 steps per epoch
        return [{"phase": p, "epoch": e, "step": 3 * i} for i, (p, e) in enumerate(pairs, 1)]

    ok = records((0, 1), (0, 2), (1, 1))
    train._check_records(ok, train.Progress(step=9, phase=1, epoch=1), Path("m"))
    train._check_records(ok[:2], train.Progress(step=6, phase=1, epoch=0), Path("m"))  # Phase 1 starting.
    train._check_records([], train.Progress(step=2, phase=0, epoch=0, batch=2), Path("m"))  # Mid first epoch.
    gap = [{"phase": 0, "epoch": e, "step": 3 * e} for e in (*range(1, 8), *range(13, 31))]  # The probe: 1-7, 13-30.
    bad = [(gap, train.Progress(step=90, phase=0, epoch=30)), (ok[:1], train.Progress(step=9, phase=1, epoch=1)),
           (ok[:2], train.Progress(step=9, phase=1, epoch=1)), ([], train.Progress(step=6, phase=1, epoch=0))]
    for recs, prog in bad:
        with pytest.raises(run_files.RunFileError, match="does not match the latest checkpoint"):
            train._check_records(recs, prog, Path("m"))


def test_p4_damaged_run_files_are_named_with_what_to_do(tiny_run, tmp_path, capsys):
    out = _copy_run(tiny_run, tmp_path)
    paths = run_files.RunPaths(out)
    good = paths.metrics.read_text()
    paths.metrics.write_text(good[: len(good) // 2])  # A torn last line.
    code, err = _train(["--resume", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and f"{paths.metrics} line" in err and "is damaged" in err
    paths.config.write_text("")
    code, err = _train(["--resume", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and f"{paths.config} is damaged" in err and "--overwrite" in err


def test_p4_atomic_writes_leave_the_old_file_whole(tmp_path):
    target = tmp_path / "metrics.jsonl"
    atomic.write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old\n" and _tree(tmp_path) == ["metrics.jsonl"]
    # SIGKILL mid-write: the old file stays whole; the leftover temporary is recognized as the run's.
    child = ("import os, signal, sys; from common import atomic\n"
             "with atomic.atomic_path(sys.argv[1]) as tmp:\n"
             "    tmp.write_text('half')\n"
             "    os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", child, str(target)], cwd=ROOT, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert target.read_text() == "old\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "metrics.jsonl"]
    assert len(leftovers) == 1 and atomic.is_temporary(leftovers[0])
    assert run_files.foreign_entries(tmp_path) == []


@pytest.mark.slow
def test_p5_evaluate_without_checkpoints_is_one_error_and_writes_nothing(tiny_run, tmp_path):
    out = _copy_run(tiny_run, tmp_path)
    shutil.rmtree(out / "checkpoints")
    shutil.rmtree(out / "eval", ignore_errors=True)
    before = _tree(out)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(out), "--no-fad", "--quiet"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "has no 'best' checkpoint" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and _tree(out) == before
    # --resume of a folder without checkpoints (e.g. from an older rejected start): one error, no orbax traceback.
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), "--resume", "--out", str(out),
                           "--quiet"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "no checkpoint to resume from" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and _tree(out) == before


def test_p7_damaged_weights_are_named(tiny_run, tmp_path, capsys):
    pytest.importorskip("torch")
    from eval.embeddings import weights

    folder = tmp_path / "weights"
    folder.mkdir()
    vggish = folder / weights.KNOWN_WEIGHTS["vggish"].filename
    for content in (b"", b"not a checkpoint at all"):
        vggish.write_bytes(content)
        with pytest.raises(weights.WeightsCorruptError) as err:
            weights.load_checkpoint(vggish)
        message = str(err.value)
        assert str(vggish) in message and "download it again" in message and "weights_only" not in message
    out = _copy_run(tiny_run, tmp_path)
    code = eval_cli.evaluate_main([str(out), "--weights-dir", str(folder), "--no-download", "--quiet",
                                   "--out", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 2 and str(vggish) in err and "Traceback" not in err


def test_p8_out_that_cannot_be_written(tiny_run, tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for out in (a_file, a_file / "run"):
        code, err = _train(["--scale", "tiny", "--quiet", "--out", str(out)], capsys)
        assert code == 2 and "is a file, not a folder" in err and "Traceback" not in err
    assert eval_cli.evaluate_main([str(tiny_run), "--no-fad", "--quiet", "--out", str(a_file / "eval")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    if os.geteuid() != 0:  # Root writes anywhere.
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        code, err = _train(["--scale", "tiny", "--quiet", "--out", str(locked / "run")], capsys)
        assert code == 2 and "no permission to write" in err
    # A folder that turns read-only mid-run: one line that says how to continue.
    out = _copy_run(tiny_run, tmp_path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(out / "checkpoints" / "latest"))

    monkeypatch.setattr(train, "train", denied)
    code, err = _train(["--resume", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and "Permission denied" in err and f"--resume --out {out}" in err


def test_p9_sample_rate_500_trains_with_features_that_fit():
    dataset = data.generate(data.DataConfig(8, (6, 1, 1)))
    resolved = settings.resolve({"scale": "tiny", "sample_rate": 500, "feature": "stft"})
    config = settings.build_config(resolved, dataset, "d.npz")  # STFT needs no mel bands.
    assert config.loss.feature_config.sample_rate == 500


def test_p12_synth_edge_cases_raise_clear_errors():
    with pytest.raises(ValueError, match="buffer_size_seconds must be a finite number"):
        SynthConfig(buffer_size_seconds=float("inf"))
    voice = Voice(SynthConfig(batch_size=2, sample_rate=4000, buffer_size_seconds=0.1))
    with pytest.raises(ValueError, match="must hold numbers"):
        voice.render(np.array([["a"] * 78] * 2))
    with pytest.raises(ValueError, match="batch >= 1"):
        voice.render(np.zeros((0, 78), np.float32))
    with pytest.raises(ValueError, match="noise holds NaN"):
        voice.render(np.full((2, 78), 0.5, np.float32), np.full((2, 400), np.nan, np.float32))
    with pytest.raises(ValueError, match="is not finite"):  # Already passing: NaN and out-of-range patches.
        voice.render(np.full((2, 78), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        voice.render(np.full((2, 78), 2.0, np.float32))


def test_missing_weights_skip_fad_with_instructions(tmp_path):
    pytest.importorskip("torch")
    from eval.embeddings import weights

    with pytest.raises(weights.WeightsNotFoundError, match="Download it"):
        weights.find_weights("vggish", tmp_path, download=False)


# ------------------------------------------------------------------- SIGKILL at any moment, then resume

_CHILD = r"""
import os, signal, sys
from pathlib import Path
from vae import data, run_files, train
from vae.config import from_json

config_file, out, mode, at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = from_json(Path(config_file).read_text())
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if mode == "checkpoint":  # Killed with checkpoint `at` fully written but not yet renamed into place.
    from orbax.checkpoint._src.path import async_path
    rename = async_path.rename

    async def dying_rename(src, dst):
        if Path(str(dst)).name == str(at) and Path(str(dst)).parent.name == "latest":
            die()
        return await rename(src, dst)

    async_path.rename = dying_rename
elif mode == "metrics":  # Killed halfway through appending metrics.jsonl's `at`-th record.
    append = run_files._append

    def dying_append(path, text):
        if path.name == "metrics.jsonl" and len(path.read_text().splitlines()) == at - 1:
            append(path, text[: len(text) // 2])
            die()
        return append(path, text)

    run_files._append = dying_append
hook = (lambda step: die() if step == at else None) if mode == "step" else None
train.train(config, out, data.load(config.dataset_path, progress=False), resume=(Path(out) / "checkpoints").exists(),
            show_progress=False, on_step=hook)
"""


@pytest.mark.slow
def test_sigkill_during_training_and_writes_then_resume_equals_uninterrupted(dataset_file, uninterrupted,
                                                                            tmp_path):
    straight, expected = uninterrupted
    config_file, out = tmp_path / "config.json", tmp_path / "killed"
    config_file.write_text(to_json(short_config(dataset_file)))
    # A step mid-epoch; the epoch-end checkpoint that ends phase 1 mid-write; the 5th epoch's metrics record.
    for mode, at in (("step", 5), ("checkpoint", 9), ("metrics", 5)):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(config_file), str(out), mode, str(at)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == -signal.SIGKILL, (mode, done.stderr[-2000:])
    paths = run_files.RunPaths(out)
    *whole, torn = paths.metrics.read_text().split("\n")
    assert [json.loads(line)["epoch"] for line in whole] == [1, 2, 3, 1]  # Then the 5th record, torn mid-append.
    assert torn.startswith('{"phase": 1, "phase_name": "second", "epoch": 2, ') and not torn.endswith("}")
    with pytest.raises(run_files.RunFileError, match="line 5 is damaged"):
        run_files.read_metrics(out)
    leftover = out / f"{atomic.TMP_PREFIX}0a1b2c3d-metrics.jsonl"  # What a kill in a resume's rewrite leaves.
    leftover.write_text("")
    result = train.train(run_files.load_config(out), out, dataset_file[0], resume=True, show_progress=False)
    assert result.step == expected.step
    assert not any(atomic.is_temporary(p.name) for p in out.iterdir())  # Resume removed the leftover.
    assert without_times(run_files.read_metrics(out)) == without_times(run_files.read_metrics(straight))
    assert without_times(_csv_rows(paths.metrics_csv)) == without_times(_csv_rows(run_files.RunPaths(straight).metrics_csv))
    for which in ("best", "latest"):
        a, b = run_weights(out, which), run_weights(straight, which)
        assert jax.tree.all(jax.tree.map(lambda u, v: bool(jnp.array_equal(u, v)), a, b)), which


def _csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
