"""Sizes a small input asks for are bounded before allocation (`common.limits`, issue 21 probes 2 and 5): a WAV
header claiming 1,000,000,007 Hz, a float WAV peaking at 5e29, `--hidden 200000 200000`, a split of 1e12
patches. Each is one named error, exit 2, nothing written."""

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jaxsynth import SynthConfig
from common import limits
from vae import cli, data
from matching import TargetError, load_target
from tests.checkout import ROOT

SYNTH = SynthConfig(batch_size=1, sample_rate=4000, buffer_size_seconds=0.1, control_rate=40)


def claimed_rate_wav(path: Path, rate: int, n: int = 2000) -> Path:
    """A small PCM-16 WAV whose header claims `rate` Hz (the fmt chunk's rate and byte rate rewritten)."""
    sf.write(path, 0.5 * np.sin(np.arange(n) / 5.0), 16000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    assert raw[12:16] == b"fmt "
    raw[24:32] = struct.pack("<II", rate, rate * 2)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("rate, words", [(1_000_000_007, "the sample rate in its header 1000000007 is above the limit"),
                                         (1, "below 1000 Hz")])
def test_a_wav_header_rate_is_bounded_before_resampling(tmp_path, rate, words):
    path = claimed_rate_wav(tmp_path / "bomb.wav", rate)
    assert path.stat().st_size < 5000
    with pytest.raises(TargetError, match=words) as err:
        load_target(path, SYNTH)
    assert str(path) in str(err.value)


def test_a_float_wav_peaking_at_5e29_is_refused(tmp_path):
    path = tmp_path / "loud.wav"
    audio = np.zeros(400, np.float32)
    audio[10] = 5e29
    sf.write(path, audio, 4000, subtype="FLOAT")
    with pytest.raises(TargetError, match=r"peaks at 5e\+29, above 1000"):
        load_target(path, SYNTH)


@pytest.mark.slow
def test_match_cli_names_the_bomb_and_exits_2(tmp_path):
    path = claimed_rate_wav(tmp_path / "bomb.wav", 1_000_000_007)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "match.py"), str(path), "--out", str(tmp_path / "m"),
                           "--budget", "1"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 2 and "above the limit" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("flags, words", [
    (["--hidden", "200000", "200000"], "--hidden 200000 is above the limit of 16384"),
    (["--split", "1000000000000", "8", "8"], "--split 1000000000000 is above the limit"),
    (["--sample-rate", "1000000007"], "--sample-rate 1000000007 is above the limit"),
    (["--buffer-seconds", "3600"], "--buffer-seconds 3600 is above the limit of 60"),
])
def test_training_sizes_are_bounded_before_any_work(flags, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = cli.train_main(["--scale", "tiny", "--quiet", "--out", str(tmp_path / "r"), *flags])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # No run folder, no dataset.


def test_make_dataset_bounds_the_patch_count(tmp_path, capsys):
    code = cli.make_dataset_main(["--n-patches", "1000000000016", "--split", "1000000000000", "8", "8",
                                  "--out", str(tmp_path / "d"), "--quiet"])
    assert code == 2 and "--n-patches 1000000000016 is above the limit" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_one_bound_per_size():
    with pytest.raises(limits.SizeLimitError, match="x 11 is above the limit of 10; do less"):
        limits.check_size("x", 11, 10, "do less")
    limits.check_size("x", 10, 10)
    with pytest.raises(limits.SizeLimitError):
        data.DataConfig(limits.MAX_PATCHES + 3, (limits.MAX_PATCHES + 1, 1, 1))
