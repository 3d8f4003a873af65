"""What the explorer's tests share: an explorer of the tiny run served on 127.0.0.1, HTTP calls that return
(status, body) whatever the status, and the sound a map point must make, computed independently of the server."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import numpy as np
import soundfile as sf

from jaxsynth import Voice
from vae import run as run_lib


def call(url: str, data: bytes | dict | None = None, headers: dict | None = None, method: str | None = None):
    """(status, parsed JSON or raw bytes) of one request; a JSON dict `data` is sent as JSON."""
    headers = dict(headers or {})
    if isinstance(data, dict):
        data = json.dumps(data).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, body, kind = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        status, body, kind = err.code, err.read(), err.headers.get("content-type", "")
    return status, (json.loads(body) if "json" in kind else body)


def wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """(float32 samples [T], sample rate) of WAV bytes."""
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    return audio, rate


def expected_point_audio(explorer, index: int) -> np.ndarray:
    """What map point `index` must sound like, from the public pieces (not the explorer's Renderer): the run's
    decoder on the point's encoder mean, the subset expanded to 78, `Voice.render` on noise row 0."""
    run = explorer.run
    mu = np.asarray(run_lib.encode(run, np.asarray(run.dataset.train, np.float32)[explorer.space.indices])[0])
    full = np.asarray(run.subset.expand(run_lib.decode(run, mu[index:index + 1])), np.float32)
    voice = Voice(run.synth_config, run.config.noise_seed)
    return np.asarray(voice.render(full, voice.noise_rows[:1]), np.float32)[0]
