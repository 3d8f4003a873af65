"""Out of memory and a full disk are caught at the edges (issue 21, probe 5): one line that says what to do
(--resume once a checkpoint exists), and a new run that fails before its first checkpoint leaves nothing behind.
Also: evaluate.py checks its flags before any work (jax is not even imported), named as typed; match.py's
--budget covers the random-search reference too, with a bar, and a full disk after the search keeps nothing
half-written."""

import errno
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from common import help
from vae import cli, run_files, train
from tests.checkout import ROOT



class XlaLike(RuntimeError):
    """What XLA raises when the accelerator's memory runs out."""


def _oom(*args, **kwargs):
    raise XlaLike("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 149.00GiB")


def _disk_full(*args, **kwargs):
    try:
        raise OSError(errno.ENOSPC, "No space left on device", "checkpoints/latest/4")
    except OSError as e:
        raise ValueError("orbax: the save failed") from e  # A wrapped ENOSPC, as orbax raises it.


def test_resource_problems_are_recognized_through_wrappers():
    for raiser, words in ((_oom, "out of memory"), (_disk_full, "the disk is full")):
        with pytest.raises(Exception) as err:
            raiser()
        assert help.resource_problem(err.value) == words
    assert help.resource_problem(MemoryError()) == "out of memory"
    assert help.resource_problem(ValueError("bad flag")) is None


@pytest.mark.parametrize("raiser, words", [(_oom, "out of memory"), (_disk_full, "the disk is full")])
def test_a_new_run_that_fails_before_its_first_checkpoint_leaves_nothing(tmp_path, monkeypatch, capsys, raiser, words):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(train._Loop, "run_phase", raiser)
    code = cli.train_main(["--scale", "tiny", "--quiet", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and f"{words} before the first checkpoint" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("raiser, words", [(_oom, "out of memory"), (_disk_full, "the disk is full")])
def test_a_resumed_run_out_of_resources_says_resume(tiny_run, tmp_path, monkeypatch, capsys, raiser, words):
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    before = sorted(p.name for p in (out / "checkpoints" / "latest").iterdir())
    monkeypatch.setattr(train, "train", raiser)  # The tiny run is finished: a resume runs no phase.
    code = cli.train_main(["--resume", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and f"--resume --out {out}" in err and "Traceback" not in err
    assert sorted(p.name for p in (out / "checkpoints" / "latest").iterdir()) == before


@pytest.mark.parametrize("flag, value", [("--batch-size", "0"), ("--train-fraction", "2"), ("--dbscan-eps", "-1"),
                                         ("--umap-min-dist", "nan"), ("--test-limit", "x")])
def test_evaluate_flags_are_checked_before_any_work(tiny_run, flag, value):
    child = ("import sys; from eval.cli import evaluate_main\n"
             "try:\n    evaluate_main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
             "print('jax loaded' if 'jax' in sys.modules else 'jax not loaded', code)\n")
    done = subprocess.run([sys.executable, "-c", child, str(tiny_run), flag, value], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.stdout.split() == ["jax", "not", "loaded", "2"], done.stdout + done.stderr
    assert f"argument {flag}:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_random_search_stops_when_its_time_is_up():
    from jaxsynth import SynthConfig
    from matching import Problem, random_search

    problem = Problem.create(SynthConfig(batch_size=1, sample_rate=4000, buffer_size_seconds=0.1, control_rate=40))
    target = np.sin(np.arange(400) / 3.0).astype(np.float32)
    assert random_search(problem, target, 10_000, batch=16, budget_s=0.0).renders == 16  # One batch, then stops.
    assert random_search(problem, target, 40, batch=16).renders == 40


@pytest.mark.slow
def test_match_budget_covers_the_reference_and_a_full_disk_keeps_nothing(tmp_path, monkeypatch, capsys):
    from matching import cli as match_cli
    from matching import figure

    wav = tmp_path / "t.wav"
    sf.write(wav, 0.3 * np.sin(np.arange(1000) / 4.0), 4000)
    help_text = match_cli.parser().format_help()
    assert "reference the rest" in " ".join(help_text.split())

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(figure, "match_figure", full)
    out = tmp_path / "m"
    code = match_cli.main([str(wav), "--out", str(out), "--budget", "1", "--sample-rate", "4000", "--seconds", "0.25",
                           "--starts", "4"])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "nothing of this match was kept" in err
    assert "direct search" in err and "random-search reference" in err  # The progress bars.
    assert not out.exists()
