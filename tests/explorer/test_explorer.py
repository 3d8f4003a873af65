"""The timbre explorer's server (explorer) over real HTTP on 127.0.0.1: the map, sounds equal to jaxsynth's
renders, the k-NN map inversion, paths, export (float, 16- and 24-bit WAV), sound matching, uploads placed by
the encoder, bad input and path traversal as JSON 4xx errors, a bounded burst of concurrent renders, the command
line; the slider-label rule (explorer.measures)."""

from __future__ import annotations

import concurrent.futures
import http.client
import io
import json
import math
import socket
import subprocess
import sys
import time
import urllib.parse

import numpy as np
import pytest
import soundfile as sf

from tests.explorer.helpers import UPLOAD_LIMIT, call, expected_point_audio, expected_upload, pcm_wav, wav_samples
from explorer import Explorer, ExplorerConfig, ServerThread, create_app, measures
from explorer import space as space_lib
from explorer.cli import main as cli_main
from matching import read_patch
from tests.checkout import ROOT



def test_points_are_the_map(explorer, url):
    status, doc = call(url + "/api/points")
    assert status == 200
    points = doc["points"]
    assert len(points) == len(explorer.space) == len(explorer.run.dataset.train)  # tiny: all 48 training patches
    assert [p["index"] for p in points] == list(range(len(points)))
    np.testing.assert_allclose([[p["x"], p["y"]] for p in points], explorer.space.xy, rtol=1e-6)
    assert [p["cluster"] for p in points] == explorer.space.labels.tolist()
    assert set(doc["parameters"]) == set(explorer.run.subset.names)
    assert {"pitch", "note length (s)", "noise level"} <= set(points[0]["main"])
    status, page = call(url + "/")
    assert status == 200 and b'id="map"' in page and b"/static/app.js" in page


def test_point_sound_is_jaxsynths_render_of_the_decoded_patch(explorer, url):
    for index in (0, 7):
        status, data = call(f"{url}/api/sound/{index}.wav")
        assert status == 200
        audio, rate = wav_samples(data)
        assert rate == explorer.run.synth_config.sample_rate
        np.testing.assert_array_equal(audio, expected_point_audio(explorer, index))
        assert np.abs(audio).max() > 0
    status, original = call(f"{url}/api/sound/7.wav?source=original")
    assert status == 200 and not np.array_equal(wav_samples(original)[0], audio)


def test_clicking_a_map_point_inverts_to_its_latent_and_between_points_interpolates(explorer, url):
    i, j = 3, 11
    status, sound = call(url + "/api/decode", {"xy": explorer.space.xy[i].tolist()})
    assert status == 200
    np.testing.assert_allclose(sound["z"], explorer.space.mu[i], atol=1e-5)  # an exact hit takes all the weight
    middle = (explorer.space.xy[i] + explorer.space.xy[j]) / 2
    z = space_lib.invert(explorer.space, middle[None], explorer.config.neighbours)[0]
    lo, hi = explorer.space.mu.min(axis=0), explorer.space.mu.max(axis=0)
    assert np.all(z >= lo - 1e-6) and np.all(z <= hi + 1e-6)   # a weighted mean of latents stays in their box
    status, by_point = call(url + "/api/decode", {"point": j})
    np.testing.assert_allclose(by_point["z"], explorer.space.mu[j], atol=1e-6)
    status, wav = call(url + by_point["wav"])
    np.testing.assert_array_equal(wav_samples(wav)[0], expected_point_audio(explorer, j))


def test_latent_path_and_export(explorer, url):
    a, b = explorer.space.mu[0], explorer.space.mu[5]
    status, doc = call(url + "/api/path", {"a": a.tolist(), "b": b.tolist(), "steps": 5})
    assert status == 200
    sounds = doc["sounds"]
    assert len(sounds) == 5
    np.testing.assert_allclose(sounds[0]["z"], a, atol=1e-5)
    np.testing.assert_allclose(sounds[-1]["z"], b, atol=1e-5)
    np.testing.assert_allclose(sounds[2]["z"], (a + b) / 2, atol=1e-5)
    audios = [wav_samples(call(url + s["wav"])[1])[0] for s in sounds]
    # a batch of five renders each sound as one alone would
    single = explorer.renderer.render(explorer.renderer.decode(np.asarray([sounds[2]["z"]], np.float32)))[0]
    np.testing.assert_allclose(audios[2], single, atol=1e-6)
    status, patch = call(url + sounds[2]["patch"])
    assert status == 200 and patch["format"] == "jaxsynth-patch/1"
    path = explorer.run.run_dir.parent / "exported.json"
    path.write_text(json.dumps(patch))
    params01, synth = read_patch(path)
    assert synth.sample_rate == explorer.run.synth_config.sample_rate
    np.testing.assert_array_equal(params01, explorer.sound(sounds[2]["id"]).full01)
    np.testing.assert_allclose(explorer.renderer.render(params01[None])[0], audios[2], atol=1e-6)
    status, wav = call(url + sounds[2]["wav"] + "?download=1")
    assert status == 200 and wav[:4] == b"RIFF"


@pytest.mark.parametrize("path", [
    "/static/../config.json", "/static/%2e%2e/config.json", "/static/%2e%2e%2f%2e%2e%2fconfig.json",
    "/static/..%2f..%2f..%2fpyproject.toml", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/api/sound/..%2f..%2fconfig.json.wav", "/api/sound/-1.wav", "/api/sound/99999.wav", "/api/sound/1e3.wav",
    "/api/wav/..%2f..%2fconfig.json.wav", "/api/wav/0123456789abcdef.wav", "/api/export/..%2fconfig.json.json",
    "/api/export/%2e%2e.json", "/config.json", "/../config.json", "/explorer/server.py",
])
def test_no_file_route_escapes_its_folder(url, path):
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("GET", path)  # sent as written (urllib would normalize the dots away)
    response = connection.getresponse()
    body = response.read()
    assert 400 <= response.status < 500, (path, response.status)
    assert response.getheader("content-type").startswith("application/json")
    assert "error" in json.loads(body)
    assert b"root:" not in body and b'"model"' not in body and b"[project]" not in body


def test_static_files_are_served(url):
    for name in ("app.js", "style.css", "index.html"):
        status, body = call(f"{url}/static/{name}")
        assert status == 200 and len(body) > 100


@pytest.mark.parametrize("body, fragment", [
    ({"z": [0.0] * 3}, "16 values"),
    ({"z": [0.0] * 17}, "16 values"),
    ({"z": [9.0] + [0.0] * 15}, "outside [-8, 8]"),
    ({"z": [-1e30] * 16}, "outside"),
    ({"z": "0" * 16}, "list of 16 numbers"),
    ({"z": [True] * 16}, "numbers only"),
    ({"z": [0.0] * 16, "xy": [0, 0]}, "exactly one"),
    ({}, "exactly one"),
    ({"xy": [0.0]}, "map position"),
    ({"xy": ["a", 1]}, "map position"),
    ({"point": 10_000}, "integer in [0, 47]"),
    ({"point": -1}, "integer in"),
])
def test_bad_latents_get_json_errors(url, body, fragment):
    status, doc = call(url + "/api/decode", body)
    assert status == 422 and fragment in doc["error"], doc


def test_non_finite_and_non_json_bodies(url):
    status, doc = call(url + "/api/decode", b'{"z": [NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}',
                       {"Content-Type": "application/json"})
    assert status == 422 and "outside" in doc["error"]
    status, doc = call(url + "/api/decode", b"z=1", {"Content-Type": "application/json"})
    assert status == 400 and "JSON" in doc["error"]
    status, doc = call(url + "/api/decode", b"[1, 2]", {"Content-Type": "application/json"})
    assert status == 422 and "JSON object" in doc["error"]
    status, doc = call(url + "/api/path", {"a": [0.0] * 16, "b": [0.0] * 16, "steps": 1000})
    assert status == 422 and "steps" in doc["error"]
    status, doc = call(url + "/api/sound/0.wav?source=../../etc/passwd")
    assert status == 422 and "source" in doc["error"]
    status, doc = call(url + "/api/decode", method="GET")
    assert status == 405 and "error" in doc


def test_large_json_bodies_and_foreign_host_names_are_refused(url):
    status, doc = call(url + "/api/decode", {"z": [0.0] * 16, "pad": "x" * 70_000})
    assert status == 413 and "limit" in doc["error"]
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("GET", "/api/points", headers={"Host": f"attacker.example:{parsed.port}"})
    response = connection.getresponse()
    assert response.status == 400 and b'"points"' not in response.read()
    status, _ = call(url.replace("127.0.0.1", "localhost") + "/api/info")
    assert status == 200


def test_uploads_are_limited_and_must_be_wav(url):
    status, doc = call(url + "/api/match", b"\0" * (UPLOAD_LIMIT + 1), {"Content-Type": "audio/wav"})
    assert status == 413 and str(UPLOAD_LIMIT) in doc["error"]
    # a chunked upload (no Content-Length) is cut off at the limit too
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("POST", "/api/match", body=iter([b"\0" * 16_384] * 8), encode_chunked=True,
                       headers={"Content-Type": "audio/wav"})
    response = connection.getresponse()
    assert response.status == 413 and "limit" in json.loads(response.read())["error"]
    status, doc = call(url + "/api/match", b"ID3\x04 this is an mp3, honest" * 20, {"Content-Type": "audio/wav"})
    assert status == 422 and "not a readable WAV" in doc["error"] and "/tmp" not in doc["error"]
    status, doc = call(url + "/api/match", b"", {"Content-Type": "audio/wav"})
    assert status == 422 and "empty" in doc["error"]
    status, doc = call(url + "/api/match", pcm_wav(np.zeros(2000, np.float32), 4000), {"Content-Type": "audio/wav"})
    assert status == 422 and "silent" in doc["error"]


def test_a_burst_of_concurrent_renders(explorer, url):
    """48 decodes at once against 127.0.0.1 (6 may wait, 2 render): each gets a sound or a JSON 503, and the
    server answers normally afterwards."""
    rng = np.random.default_rng(0)
    latents = rng.normal(size=(48, explorer.latent_dim)).round(4).tolist()
    with concurrent.futures.ThreadPoolExecutor(48) as pool:
        answers = list(pool.map(lambda z: call(url + "/api/decode", {"z": z}), latents))
    statuses = [s for s, _ in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 6
    assert all("busy" in doc["error"] for s, doc in answers if s == 503)
    for z, (status, doc) in zip(latents, answers):
        if status == 200:
            np.testing.assert_allclose(doc["z"], z, atol=1e-6)
    status, doc = call(url + "/api/decode", {"z": latents[0]})
    assert status == 200 and call(url + doc["wav"])[0] == 200


@pytest.mark.slow
def test_dropping_a_wav_places_its_match_on_the_map(explorer, url):
    target = explorer.renderer.render(explorer.renderer.decode(explorer.space.mu[4:5]))[0]
    status, doc = call(url + "/api/match", pcm_wav(target, explorer.renderer.sample_rate), {"Content-Type": "audio/wav"})
    assert status == 200, doc
    match, sound = doc["match"], doc["sound"]
    assert match["method"].startswith("latent") and math.isfinite(match["spectral_distance"])
    lo, hi = explorer.space.xy.min(axis=0), explorer.space.xy.max(axis=0)
    assert np.all(np.asarray(sound["xy"]) >= lo - 1e-5) and np.all(np.asarray(sound["xy"]) <= hi + 1e-5)
    assert sound["origin"] == "match" and call(url + sound["patch"])[0] == 200


def test_cli_rejects_bad_input(tiny_run, tmp_path, capsys):
    assert cli_main([str(tmp_path)]) == 2
    assert "RUN_DIR" in capsys.readouterr().err
    assert cli_main([str(tiny_run), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert cli_main([str(tiny_run), "--port", str(taken.getsockname()[1])]) == 2
        assert "in use" in capsys.readouterr().err
        # With no RUN_DIR the shipped model is the run: its folder passes, and the taken port is what stops it.
        assert cli_main(["--port", str(taken.getsockname()[1])]) == 2
        assert "in use" in capsys.readouterr().err
    assert cli_main([str(tiny_run), "--host", "no-such-host.invalid"]) == 2
    assert "--host" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        cli_main([str(tiny_run), "--points", "2"])
    assert done.value.code == 2


def test_script_serves_the_page(tiny_run):
    """scripts/explore.py RUN_DIR --port 0 prints its URL and serves the page and the map."""
    process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "explore.py"), str(tiny_run), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in process.stdout:
            if line.startswith("explorer: http://"):
                break
        else:
            pytest.fail("explore.py ended without printing its URL")
        url = line.split()[1].rstrip("/")
        assert url.startswith("http://127.0.0.1:")
        deadline = time.monotonic() + 30  # uvicorn starts listening just after the URL is printed
        while True:
            try:
                status, _ = call(url + "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 200
        status, doc = call(url + "/api/points")
        assert status == 200 and len(doc["points"]) == 48
    finally:
        process.terminate()
        process.wait(timeout=30)


# ---------------------------------------------------------------------------------------------- slider labels

def test_sliders_are_named_after_the_descriptor_that_follows_them_above_the_threshold():
    rng = np.random.default_rng(3)
    n = 200
    mu = rng.normal(size=(n, 4))
    values = {d.name: rng.normal(size=n) for d in measures.DESCRIPTORS}
    values["brightness"] = np.exp(mu[:, 0])                      # monotonic in z1: Spearman r = 1
    values["loudness"] = -mu[:, 1] + 0.3 * rng.normal(size=n)    # falls with z2
    values["pitch"][:50] = np.nan                                # unpitched points are left out, not fatal
    values["noisiness"] = 0.6 * mu[:, 2] + rng.normal(size=n)    # a weak relation with z3
    r3 = measures.spearman(mu[:, 2], values["noisiness"])[0]
    labels = measures.slider_labels(mu, values, min_r=abs(r3) + 0.01)
    assert labels[0] == {"label": "z1 · brightness ↑ (r=1.00)", "descriptor": "brightness", "r": 1.0}
    assert labels[1]["descriptor"] == "loudness" and labels[1]["r"] < -0.9 and labels[1]["label"].startswith("z2 · loudness ↓")
    assert labels[2] == {"label": "z3", "descriptor": None, "r": None}       # just under the threshold
    assert labels[3]["label"] == "z4"
    assert measures.slider_labels(mu, values, min_r=abs(r3) - 0.01)[2]["descriptor"] == "noisiness"
    assert np.isnan(measures.spearman(mu[:5, 0], values["brightness"][:5])[0])   # too few pairs


def test_the_map_carries_the_descriptors_of_its_training_patches(explorer, url):
    status, doc = call(url + "/api/points")
    assert set(doc["descriptors"]) == {d.name for d in measures.DESCRIPTORS}
    audio = explorer.renderer.render(explorer.point_parameters[5:6])
    expected = measures.table(audio, explorer.renderer.sample_rate)
    for name, column in doc["descriptors"].items():
        assert len(column) == len(explorer.space)
        assert (column[5] is None and np.isnan(expected[name][0])) or column[5] == pytest.approx(expected[name][0], rel=1e-3)
    status, info = call(url + "/api/info")
    assert [s["label"] for s in info["slider_labels"]] == [s["label"] for s in explorer.slider_labels]
    assert len(info["slider_labels"]) == explorer.latent_dim and info["slider_label_min_r"] == 0.4


def test_a_sound_reports_the_descriptors_of_what_plays(explorer, url):
    status, sound = call(url + "/api/decode", {"point": 2})
    assert status == 200 and sound["origin"] == "point 2 (decoded)"
    audio = wav_samples(call(url + sound["wav"])[1])[0]
    expected = measures.table(audio[None], explorer.renderer.sample_rate)
    assert sound["descriptors"]["loudness"] == pytest.approx(expected["loudness"][0], rel=1e-3)


# ---------------------------------------------------------------------------------------------- exports

@pytest.mark.parametrize("bits, subtype", [("16", "PCM_16"), ("24", "PCM_24"), ("float", "FLOAT")])
def test_wav_exports_at_the_runs_rate_and_length_in_each_bit_depth(explorer, url, bits, subtype):
    status, sound = call(url + "/api/decode", {"point": 1})
    status, data = call(f"{url}{sound['wav']}?download=1&bits={bits}")
    assert status == 200
    info = sf.info(io.BytesIO(data))
    synth = explorer.run.synth_config
    assert (info.subtype, info.samplerate, info.frames, info.channels) == (subtype, synth.sample_rate,
                                                                            synth.buffer_size, 1)
    audio, _ = sf.read(io.BytesIO(data), dtype="float64")
    rendered = explorer.sound(sound["id"]).audio
    step = {"16": 2.0 ** -15, "24": 2.0 ** -23, "float": 1e-7}[bits]
    np.testing.assert_allclose(audio, np.clip(rendered, -1, 1), atol=step)


def test_wav_bits_must_be_offered(url):
    status, sound = call(url + "/api/decode", {"point": 1})
    status, doc = call(f"{url}{sound['wav']}?bits=8")
    assert status == 422 and "bits" in doc["error"] and "24" in doc["error"]


# ---------------------------------------------------------------------------------------------- uploads

def test_an_upload_to_a_model_that_encodes_parameters_is_a_json_422_naming_why(explorer, url):
    target = explorer.renderer.render(explorer.point_parameters[:1])[0]
    status, doc = call(url + "/api/encode", pcm_wav(target, explorer.renderer.sample_rate), {"Content-Type": "audio/wav"})
    assert status == 422 and "encodes synth parameters, not sounds" in doc["error"] and "/api/match" in doc["error"]
    status, doc = call(url + "/api/encode", b"", {"Content-Type": "audio/wav"})
    assert status == 422 and "empty" in doc["error"]


@pytest.fixture(scope="module")
def hearing(tiny_timbre_run):
    """An explorer of a run whose model hears sounds, served."""
    explorer = Explorer.open(tiny_timbre_run, ExplorerConfig(upload_limit_bytes=UPLOAD_LIMIT), progress=False)
    with ServerThread(create_app(explorer)) as server:
        yield explorer, server.url


@pytest.mark.slow
def test_an_upload_lands_on_the_map_where_its_encoding_projects(hearing, tmp_path):
    explorer, url = hearing
    rate = 2 * explorer.run.synth_config.sample_rate          # another rate and length: loaded like match.py
    t = np.arange(rate // 20) / rate                          # 0.05 s: shorter than the run, padded
    path = tmp_path / "upload.wav"
    path.write_bytes(pcm_wav(0.4 * np.sign(np.sin(2 * np.pi * 220 * t)), rate))
    status, doc = call(url + "/api/encode", path.read_bytes(), {"Content-Type": "audio/wav"})
    assert status == 200, doc
    mu, xy = expected_upload(explorer, path)
    np.testing.assert_allclose(doc["mu"], mu, atol=1e-5)
    np.testing.assert_allclose(doc["xy"], xy, atol=1e-5)
    assert doc["sound"]["xy"] == doc["xy"] and doc["sound"]["origin"] == "upload" and doc["id"] == doc["sound"]["id"]
    assert any("padding" in note for note in doc["notes"]) and all(str(tmp_path) not in n for n in doc["notes"])
    # the key plays the decoded encoding: jaxsynth's render of decode(mu) (the JSON's mu is rounded to 6 digits)
    stored = explorer.sound(doc["id"]).z
    np.testing.assert_allclose(stored, mu, atol=1e-6)
    status, wav = call(f"{url}/api/wav/{doc['id']}.wav")
    expected = explorer.renderer.render(explorer.renderer.decode(stored[None]))[0]
    np.testing.assert_array_equal(wav_samples(wav)[0], expected)
    status, info = call(url + "/api/info")
    assert info["hears_audio"] is True
    status, doc = call(url + "/api/encode", b"RIFF not really a wav", {"Content-Type": "audio/wav"})
    assert status == 422 and "not a readable WAV" in doc["error"]
