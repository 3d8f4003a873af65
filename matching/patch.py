"""patch.json: a matched patch as all 78 parameters by `module/param`, in physical units and in [0, 1],
with the synth settings and the noise it was rendered with, readable back into jaxsynth and torchsynth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jaxsynth import N_PARAMETERS, PARAMETER_NAMES, RANGES, SynthConfig
from common import atomic

FORMAT = "jaxsynth-patch/1"


def patch_dict(params01: np.ndarray, synth: SynthConfig, **info) -> dict:
    """The JSON document of a patch [78] in [0, 1]; `normalized` holds the exact float32 values."""
    params01 = np.asarray(params01, np.float32).reshape(N_PARAMETERS)
    return {
        "format": FORMAT,
        "synth": {"sample_rate": synth.sample_rate, "buffer_size_seconds": synth.buffer_size_seconds,
                  "control_rate": synth.control_rate, "eps": synth.eps},
        "parameters": {
            name: {"physical": float(r.from_0to1_float64(np.float64(x))), "normalized": float(x),
                   "range": r.describe()}
            for name, r, x in zip(PARAMETER_NAMES, RANGES, params01)
        },
        **info,
    }


def write_patch(path: str | Path, params01: np.ndarray, synth: SynthConfig, **info) -> Path:
    """Writes `patch_dict(params01, synth, **info)` to path; returns the path."""
    path = Path(path)
    atomic.write_text(path, json.dumps(patch_dict(params01, synth, **info), indent=1) + "\n")
    return path


def read_patch(path: str | Path) -> tuple[np.ndarray, SynthConfig]:
    """(params01 float32 [78] in torchsynth's order, SynthConfig) from a patch.json."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file (format {doc.get('format')!r})")
    missing = [n for n in PARAMETER_NAMES if n not in doc["parameters"]]
    if missing:
        raise ValueError(f"{path} lacks parameters {', '.join(missing)}")
    params01 = np.array([doc["parameters"][n]["normalized"] for n in PARAMETER_NAMES], np.float32)
    return params01, SynthConfig(batch_size=1, **doc["synth"])
