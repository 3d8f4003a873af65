"""The explorer's web app (FastAPI): the page, its static files and the JSON API.

    GET  /                          the page (static/index.html)
    GET  /static/{file}             the page's script and style (no other files are served)
    GET  /api/info                  the run, sample rate, latent size, slider ranges and names, descriptors, limits
    GET  /api/points                map points: index, x, y, cluster, main parameters; parameter columns
    GET  /api/sound/{index}.wav     map point `index`'s decoded patch as WAV (?source=original: the training patch)
    POST /api/decode                {"z": [latent]} | {"xy": [x, y]} | {"point": index} -> a sound (JSON, see below)
    POST /api/path                  {"a": z, "b": z, "steps": n} -> {"sounds": [n sounds from a to b]}
    GET  /api/wav/{id}.wav          a decoded sound's WAV (32-bit float, the samples as rendered; ?bits=16|24: PCM)
    GET  /api/export/{id}.json      its patch.json (sound-matching format, `matching.patch`), as a download
    POST /api/match                 a WAV file as the body -> sound matching -> {"sound": ..., "match": {...}}
    POST /api/encode                a WAV file as the body -> encoded by a model that hears, at once ->
                                    {"xy", "mu", "id", "sound", "notes"} (422 for a model that encodes parameters)

A sound is {"id", "wav", "patch", "z", "xy", "origin", "main", "parameters", "descriptors"}. Every error is JSON
{"error": message} with a 4xx status (503 when too many renders are waiting); JSON bodies are limited to
64 KiB, uploads to `upload_limit_bytes`; a server on loopback answers only Host headers naming loopback. Decoding and rendering
run in worker threads (`render_workers` at once, at most `max_pending` waiting), never on the event loop.
A POST must carry its Content-Type (application/json; audio/wav for /api/match and /api/encode) and, when the browser sends an
Origin, the page's own: another site's page cannot make the server render or match (no "simple" cross-site
request passes), with 415 and 403 otherwise.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path

import anyio
import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from explorer import requests as rq
from explorer.sound import WAV_SUBTYPES
from explorer.state import Explorer

STATIC_DIR = Path(__file__).resolve().parent / "static"
WAV_TYPE = "audio/wav"
JSON_LIMIT = 64 * 1024  # Bytes of a JSON request body (a latent vector takes a few hundred).
JSON_TYPES = ("application/json",)
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")  # Host headers accepted by a server bound to loopback.


def is_loopback(host: str) -> bool:
    """Whether --host reaches only this machine: every address the system resolves it to is loopback (127.1,
    127.0.0.2, ::1, localhost and names mapped to them included)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def allowed_hosts(host: str) -> tuple[str, ...] | None:
    """The Host headers a server listening on `host` answers: loopback's names and `host` as typed when it is
    loopback (so that another site's DNS name cannot reach it), None (any) on a network address."""
    if not is_loopback(host):
        return None
    return (*LOOPBACK_HOSTS, host.lower(), f"[{host.lower()}]")


class Gate:
    """Bounds work off the event loop: `workers` threads at once, at most `max_pending` calls waiting or running."""

    def __init__(self, workers: int, max_pending: int):
        self.limiter = anyio.CapacityLimiter(workers)
        self.max_pending = max_pending
        self.pending = 0

    async def run(self, fn, *args):
        if self.pending >= self.max_pending:
            raise rq.RequestError(503, f"busy: {self.pending} renders are waiting; try again in a moment")
        self.pending += 1
        try:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)
        finally:
            self.pending -= 1


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes (Content-Length is checked first)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise rq.RequestError(413, f"the request body is {int(declared)} bytes; the limit is {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise rq.RequestError(413, f"the request body passes the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_post(request: Request, media_types: tuple[str, ...]) -> None:
    """Refuses a POST whose Content-Type is not one of `media_types` (415) or whose Origin, when sent, is not
    the page's own scheme://host (403): what a cross-site form or "simple" fetch would send."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise rq.RequestError(415, f"Content-Type must be {media_types[0]}, got {media_type or 'none'!r:.60}")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin.lower() != own.lower():
        raise rq.RequestError(403, f"requests from {origin!r:.80} are refused: only the explorer's own page "
                                   f"({own}) may post")


async def _json_body(request: Request) -> dict:
    """The request's JSON object (at most JSON_LIMIT bytes; numbers finite, nesting within Python's limit)."""
    _check_post(request, JSON_TYPES)
    data = await _read_limited(request, JSON_LIMIT)
    try:  # The hooks raise RequestError(400) for numbers beyond a float; NaN is refused by the validators.
        body = json.loads(data, parse_float=rq.json_number, parse_int=rq.json_number)
    except (ValueError, RecursionError) as err:
        why = "it is nested too deeply" if isinstance(err, RecursionError) else "it is not valid JSON"
        raise rq.RequestError(400, f"the request body must be a JSON object ({why})") from None
    return rq.body_object(body)


async def _wav_body(request: Request, limit: int) -> bytes:
    """An uploaded WAV file's bytes (a WAV Content-Type, the raw body, at most `limit` bytes, not empty)."""
    _check_post(request, WAV_TYPES)
    data = await _read_limited(request, limit)
    if not data:
        raise rq.RequestError(422, "the upload is empty; send a WAV file as the request body")
    return data


def create_app(explorer: Explorer, allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS) -> FastAPI:
    """The app serving `explorer` (see the module doc for the routes).

    allowed_hosts: Host headers answered (others get HTTP 400), so that a web page elsewhere cannot reach a
    server on 127.0.0.1 through a DNS name it controls; None answers any (a server on a network address).
    """
    app = FastAPI(title="jaxsynth timbre explorer", docs_url=None, redoc_url=None)  # the docs pages need a CDN
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    cfg = explorer.config
    gate = Gate(cfg.render_workers, cfg.max_pending)
    match_lock = anyio.Lock()

    @app.exception_handler(rq.RequestError)
    async def request_error(_, err: rq.RequestError):
        return JSONResponse({"error": err.message}, status_code=err.status)

    @app.exception_handler(HTTPException)
    async def http_error(_, err: HTTPException):
        message = {404: "not found", 405: "method not allowed"}.get(err.status_code, str(err.detail))
        return JSONResponse({"error": message}, status_code=err.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_, err: RequestValidationError):
        return JSONResponse({"error": f"invalid request: {err.errors()[:1]}"}, status_code=422)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/api/info")
    async def info():
        return explorer.info()

    points_cache = {}

    @app.get("/api/points")
    async def points():
        if "doc" not in points_cache:
            points_cache["doc"] = await gate.run(explorer.points)
        return points_cache["doc"]

    @app.get("/api/sound/{index}.wav")
    async def point_wav(index: str, source: str = "decoded"):
        i = rq.point_index(index, len(explorer.space))
        if source not in ("decoded", "original"):
            raise rq.RequestError(422, f"source must be 'decoded' or 'original', got {source!r:.40}")
        sound = await gate.run(explorer.point_sound if source == "decoded" else explorer.original_sound, i)
        return Response(explorer.wav(sound), media_type=WAV_TYPE, headers={"X-Sound-Id": sound.id})

    @app.post("/api/decode")
    async def decode(request: Request):
        body = await _json_body(request)
        given = [k for k in ("z", "xy", "point") if k in body]
        if len(given) != 1:
            raise rq.RequestError(422, "give exactly one of 'z' (a latent vector), 'xy' (a map position) or "
                                       f"'point' (a map point's index); got {given or list(body)[:5]}")
        if "z" in body:
            sound = await gate.run(explorer.at_latent, rq.latent(body["z"], explorer.latent_dim, cfg.latent_limit))
        elif "xy" in body:
            sound = await gate.run(explorer.at_position, rq.position(body["xy"]))
        else:
            sound = await gate.run(explorer.point_sound,
                                   rq.integer(body["point"], 0, len(explorer.space) - 1, "point"))
        return explorer.describe(sound)

    @app.post("/api/path")
    async def path(request: Request):
        body = await _json_body(request)
        z_a = rq.latent(body.get("a"), explorer.latent_dim, cfg.latent_limit, "a")
        z_b = rq.latent(body.get("b"), explorer.latent_dim, cfg.latent_limit, "b")
        steps = rq.integer(body.get("steps", 8), 2, cfg.path_steps_max, "steps")
        sounds = await gate.run(explorer.path, z_a, z_b, steps)
        return {"sounds": [explorer.describe(s) for s in sounds]}

    @app.get("/api/wav/{key}.wav")
    async def wav(key: str, download: bool = False, bits: str = "float"):
        sound = explorer.sound(rq.sound_key(key))
        if bits not in WAV_SUBTYPES:
            raise rq.RequestError(422, f"bits must be one of {', '.join(WAV_SUBTYPES)}, got {bits!r:.20}")
        headers = {"Content-Disposition": f'attachment; filename="explorer-{sound.id}.wav"'} if download else {}
        return Response(explorer.wav(sound, bits), media_type=WAV_TYPE, headers=headers)

    @app.get("/api/export/{key}.json")
    async def export(key: str):
        sound = explorer.sound(rq.sound_key(key))
        return JSONResponse(explorer.patch_document(sound),
                            headers={"Content-Disposition": f'attachment; filename="patch-{sound.id}.json"'})

    @app.post("/api/match")
    async def match(request: Request):
        wav_data = await _wav_body(request, cfg.upload_limit_bytes)
        if match_lock.locked():
            raise rq.RequestError(409, "a match is already running; wait for it to finish")
        async with match_lock:
            sound, numbers = await anyio.to_thread.run_sync(explorer.match, wav_data)
        rq.check_finite(sound.audio, numbers.get("spectral_distance"), "the match of the uploaded file")
        return {"sound": explorer.describe(sound), "match": numbers}

    @app.post("/api/encode")
    async def encode(request: Request):
        wav_data = await _wav_body(request, cfg.upload_limit_bytes)
        sound, notes = await gate.run(explorer.encode_upload, wav_data)
        rq.check_finite(sound.audio, None, "the decoded encoding of the uploaded file")
        return {"xy": sound.xy.astype(np.float64).tolist(), "mu": np.round(sound.z.astype(np.float64), 6).tolist(),
                "id": sound.id, "sound": explorer.describe(sound), "notes": notes}

    return app
