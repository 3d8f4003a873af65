"""What the explorer's tests share: the upload limit of their explorer (conftest.py), HTTP calls that return
(status, body) whatever the status, the sound a map point must make and the map position an uploaded WAV must
land on, computed independently of the server."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import numpy as np
import soundfile as sf

from jaxsynth import Voice
from vae import run as run_lib
from explorer import space as space_lib
from matching import load_target

UPLOAD_LIMIT = 64_000  # Bytes: the tests' explorer refuses larger uploads.


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


def pcm_wav(audio: np.ndarray, rate: int) -> bytes:
    """A 16-bit PCM WAV file's bytes of mono audio [T]."""
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def expected_upload(explorer, path) -> tuple[np.ndarray, np.ndarray]:
    """(mu [latent], map position [2]) of the WAV file at `path`, from the public pieces: loaded like
    scripts/match.py at the run's rate and length, `vae.run.encode_audio`, `space.project` over the map."""
    target = load_target(path, explorer.run.synth_config)
    mu = np.asarray(run_lib.encode_audio(explorer.run, target[None])[0], np.float32)
    return mu[0], space_lib.project(explorer.space, mu, explorer.config.neighbours)[0]
