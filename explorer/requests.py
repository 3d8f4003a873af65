"""Validation of what clients send: every bad value becomes a `RequestError` with an HTTP status and a
message that says what was expected (the server answers it as JSON {"error": ...})."""

from __future__ import annotations

import math
import re

import numpy as np

SOUND_ID = re.compile(r"^[0-9a-f]{16}$")
INDEX = re.compile(r"^[0-9]{1,9}$")


class RequestError(Exception):
    """A client error: `status` (4xx, or 503 when busy) and a message for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def latent(value, dim: int, limit: float, name: str = "z") -> np.ndarray:
    """A JSON list of `dim` finite numbers in [-limit, limit] -> float32 [dim]; else RequestError(422)."""
    if not isinstance(value, list):
        raise RequestError(422, f"{name} must be a list of {dim} numbers, got {type(value).__name__}")
    if len(value) != dim:
        raise RequestError(422, f"{name} must have {dim} values (the run's latent size), got {len(value)}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise RequestError(422, f"{name} must hold numbers only")
    bad = [i for i, v in enumerate(value) if not math.isfinite(v) or abs(v) > limit]
    if bad:
        raise RequestError(422, f"{name}[{bad[0]}] = {value[bad[0]]} is outside [-{limit:g}, {limit:g}] "
                                f"(latents are in prior standard deviations; {len(bad)} value(s) out of range)")
    return np.asarray(value, np.float32)


def position(value, name: str = "xy") -> np.ndarray:
    """A JSON list [x, y] of finite numbers -> float32 [2]; else RequestError(422)."""
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        raise RequestError(422, f"{name} must be a map position [x, y] of two finite numbers, got {value!r:.80}")
    return np.asarray(value, np.float32)


def integer(value, low: int, high: int, name: str) -> int:
    """An int (or its decimal string) in [low, high]; else RequestError (404 for a path's index, 422 otherwise)."""
    if isinstance(value, str) and INDEX.match(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RequestError(422, f"{name} must be an integer in [{low}, {high}], got {value!r:.40}")
    return value


def point_index(text: str, n: int) -> int:
    """A map point's index from a URL -> int in [0, n); else RequestError(404)."""
    if not INDEX.match(text) or int(text) >= n:
        raise RequestError(404, f"no map point {text!r:.40}; points are numbered 0 to {n - 1}")
    return int(text)


def sound_key(text: str) -> str:
    """A sound id from a URL (16 lower-case hex digits); else RequestError(404)."""
    if not SOUND_ID.match(text):
        raise RequestError(404, f"{text!r:.40} is not a sound id (16 hex digits from /api/decode)")
    return text


def body_object(body) -> dict:
    """A decoded JSON body that must be an object."""
    if not isinstance(body, dict):
        raise RequestError(422, f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def json_number(text: str) -> int | float:
    """json.loads' parse_float / parse_int: a number a float can hold (1e400 or a 400-digit integer ->
    RequestError(400))."""
    value = float(text) if any(c in text for c in ".eE") else int(text)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # An int beyond a float's range.
        finite = False
    if not finite:
        raise RequestError(400, f"the number {text:.40} is too large for a float")
    return value


def check_finite(audio: np.ndarray, distance, what: str) -> None:
    """RequestError(422) when a rendered sound or its distance is NaN or infinite (it could not be played or sent)."""
    if not np.all(np.isfinite(audio)) or (distance is not None and not math.isfinite(distance)):
        raise RequestError(422, f"{what} is not finite (NaN or infinite samples or distance); try another file")
