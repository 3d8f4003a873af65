"""Shared fixtures: torchsynth reference voices (skipped with a clear reason if the torch extra is absent)
and two tiny trained runs (a parameter model, a timbre model); the tests of the first are marked slow."""

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from jaxsynth import SynthConfig
from tests.checkout import ROOT


def _torch_bridge():
    try:
        from jaxsynth import torch_bridge

        torch_bridge.import_torchsynth()
    except ImportError as err:  # pragma: no cover - CI installs the extra
        pytest.skip(f"torch extra not installed: {err}")
    return torch_bridge


@pytest.fixture(scope="session")
def tb():
    """jaxsynth.torch_bridge, with torchsynth importable."""
    return _torch_bridge()


@pytest.fixture(scope="session")
def parity_config():
    """The reference setting: 1-second sounds at 44.1 kHz, control rate 441 Hz."""
    return SynthConfig(batch_size=128, sample_rate=44100, buffer_size_seconds=1.0, control_rate=441)


@pytest.fixture(scope="session")
def torch_voice(tb, parity_config):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tb.torch_voice(parity_config)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _train_tiny(root: Path, *flags: str) -> Path:
    """scripts/train.py --scale tiny FLAGS into root/run (its dataset generated at root/data/)."""
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "--scale", "tiny", *flags, "--quiet",
           "--out", str(root / "run")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr
    return root / "run"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run trained by scripts/train.py at the smallest scale (64 patches, 4 kHz, 0.1 s, 2 epochs); the tests that
    use it are marked slow (pytest_collection_modifyitems)."""
    return _train_tiny(tmp_path_factory.mktemp("tiny_run"), "--loss", "sclp", "--feature", "mfcc")


@pytest.fixture(scope="session")
def tiny_timbre_run(tmp_path_factory) -> Path:
    """A tiny run of the timbre objective: its encoder hears sounds, so any WAV can be encoded."""
    return _train_tiny(tmp_path_factory.mktemp("tiny_timbre_run"), "--objective", "timbre")


@pytest.hookimpl(tryfirst=True)  # Before -m selects by marker.
def pytest_collection_modifyitems(items):
    """Mark the tests of the tiny run slow: every test worker trains its own (about a minute on 2 shared cores),
    which the quick loop (`-m "not slow"`) spends on one training test and one of the timbre run instead."""
    for item in items:
        if "tiny_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
