"""The explorer refuses what another web page or a hostile client can send (issue 21, probe 1): cross-site
"simple" POSTs (text/plain, form bodies, a foreign Origin), Host spoofing on every loopback spelling, numbers
beyond a float and deep nesting, and a WAV whose match is not finite; each a JSON 4xx, never a render."""

from __future__ import annotations

import http.client
import io
import urllib.parse

import numpy as np
import pytest
import soundfile as sf

from tests.explorer.helpers import call
from explorer import ServerThread, create_app
from explorer import requests as rq
from explorer.server import allowed_hosts, is_loopback


def _raw(url: str, path: str, body: bytes, headers: dict) -> tuple[int, str, bytes]:
    """(status, content type, body) of a POST sent exactly as given (no header added)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.headers.get("content-type", ""), response.read()


def _float_wav(audio: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, rate, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
def test_cross_site_simple_posts_are_refused(url, content_type):  # noqa: F811
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, kind, body = _raw(url, "/api/decode", b'{"point": 0}', headers)
    assert status == 415 and "json" in kind and b"Content-Type must be application/json" in body
    status, kind, body = _raw(url, "/api/path", b'{"a": [0], "b": [0]}', headers)
    assert status == 415
    status, kind, body = _raw(url, "/api/match", b"RIFF....WAVE", headers)
    assert status == 415 and b"audio/wav" in body


def test_a_foreign_origin_is_refused_and_the_own_one_answered(url):  # noqa: F811
    json_type = {"Content-Type": "application/json"}
    for origin in ("https://attacker.example", "null", url.replace("127.0.0.1", "localhost")):
        status, _, body = _raw(url, "/api/decode", b'{"point": 0}', {**json_type, "Origin": origin})
        assert status == 403 and b"refused" in body, origin
    status, _, body = _raw(url, "/api/match", b"RIFF", {"Content-Type": "audio/wav", "Origin": "https://a.example"})
    assert status == 403
    status, _, body = _raw(url, "/api/decode", b'{"point": 0}', {**json_type, "Origin": url})
    assert status == 200 and b'"wav"' in body
    assert call(url + "/api/decode", {"point": 0}, {"Content-Type": "application/json; charset=utf-8"})[0] == 200


@pytest.mark.parametrize("body, words", [
    (b'{"z": [1e400]}', "too large for a float"),
    (b'{"point": 1' + b"0" * 400 + b"}", "too large for a float"),
    (b'{"z": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nested too deeply"),
    (b"[" * 20_000, "nested too deeply"),
])
def test_malformed_json_is_a_json_400(url, body, words):  # noqa: F811
    status, kind, answer = _raw(url, "/api/decode", body, {"Content-Type": "application/json"})
    assert status == 400 and "json" in kind and words.encode() in answer


def test_a_match_that_is_not_finite_is_a_422(url):  # noqa: F811
    audio = np.zeros(400, np.float32)
    audio[10:20] = 5e29
    status, doc = call(url + "/api/match", _float_wav(audio, 4000), {"Content-Type": "audio/wav"})
    assert status == 422 and "peaks at 5e+29" in doc["error"] and "/tmp" not in doc["error"]
    with pytest.raises(rq.RequestError, match="not finite") as err:
        rq.check_finite(np.array([0.0, np.nan]), 1.0, "the match")
    assert err.value.status == 422
    with pytest.raises(rq.RequestError, match="not finite"):
        rq.check_finite(np.zeros(2), float("inf"), "the match")
    rq.check_finite(np.zeros(2), 1.0, "the match")


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.1", True), ("127.0.0.2", True),
                                            ("localhost", True), ("::1", True), ("0.0.0.0", False),
                                            ("no-such-host.invalid", False)])
def test_every_loopback_spelling_gets_the_host_check(host, loopback):
    assert is_loopback(host) is loopback
    hosts = allowed_hosts(host)
    assert (hosts is not None) is loopback  # None: the CLI warns that anyone can reach the page.
    if loopback:
        assert host in hosts and "attacker.example" not in hosts


def test_a_server_on_127_1_answers_its_own_name_only(explorer):  # noqa: F811
    with ServerThread(create_app(explorer, allowed_hosts("127.1"))) as server:
        parsed = urllib.parse.urlsplit(server.url)
        for host, expected in (("127.1", 200), ("attacker.example", 400), ("127.0.0.1", 200)):
            connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
            connection.request("GET", "/api/info", headers={"Host": f"{host}:{parsed.port}"})
            assert connection.getresponse().status == expected, host
