"""Errors and range checks of configuration settings, named by the dataclass field they concern.

A configuration class raises `SettingError("ModelConfig.latent_dim", "must be ...")`; Python callers read
"ModelConfig.latent_dim must be ...", and the training CLI (`vae.flags`) names the flag instead
("--latent must be ..."). Other settings a message speaks of are written `{Class.field}` so that each
reader names them its own way.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Optional

from common import limits
from common.help import did_you_mean

_NAMED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


class SettingError(ValueError):
    """A setting out of its range or at odds with another; `field` is 'Class.field' (or a setting's own name)."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(self.describe(str))

    def describe(self, name: Callable[[str], str]) -> str:
        """The error with the field and every `{Class.field}` in the message written as `name(field)`."""
        return f"{name(self.field)} {_NAMED.sub(lambda m: name(m[1]), self.message)}"


class SettingLimitError(SettingError, limits.SizeLimitError):
    """A setting above its bound in `common.limits`."""


def check_range(field: str, value, low: float, *, above: bool = False, limit: Optional[float] = None) -> None:
    """Raises `SettingError` unless `value` (or each value of a list or tuple) is a finite number >= low (> low with
    `above`), and `SettingLimitError` when one is above `limit`."""
    for v in value if isinstance(value, (list, tuple)) else (value,):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and (v > low if above else v >= low)):
            raise SettingError(field, f"must be a finite number {'>' if above else '>='} {low}, got {v!r}")
        if limit is not None and v > limit:
            raise SettingLimitError(field, limits.above_limit(v, limit))


def check_choice(field: str, value, valid) -> None:
    """Raises `SettingError` naming the closest of `valid` unless `value` is one of them."""
    if value not in valid:
        raise SettingError(field, f"{value!r} is unknown{did_you_mean(str(value), valid)}; valid: {', '.join(valid)}")
