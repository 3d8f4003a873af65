"""Wall-clock seconds per named stage of a pipeline."""

from __future__ import annotations

import contextlib
import time


class StageTimer:
    """Accumulates wall-clock seconds per stage name: `with timer.stage("fad"): ...`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def total(self) -> float:
        return float(sum(self.seconds.values()))
