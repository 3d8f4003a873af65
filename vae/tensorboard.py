"""Per-epoch training metrics as TensorBoard scalars (`scripts/train.py --tensorboard DIR`).

Written with tensorboard's own event-file writer (the `tensorboard` extra; no TensorFlow needed), one
scalar per numeric entry of each epoch's metrics record (the same record as metrics.jsonl: losses,
validation terms, active units, parameter error beside the mean patch, ...), at the record's step.
Watch a run live with `tensorboard --logdir DIR`.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

TENSORBOARD_EXTRA = "pip install -e '.[tensorboard]'"


def scalars(record: dict) -> dict[str, float]:
    """The finite numbers of an epoch record by tag (flags, names and missing terms left out)."""
    return {k: float(v) for k, v in record.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


class EpochWriter:
    """Appends each epoch record to an event file in `logdir` (created); call it with the record, close at the end."""

    def __init__(self, logdir: str | Path):
        try:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            raise ValueError(f"--tensorboard needs the tensorboard package: {TENSORBOARD_EXTRA}") from None
        Path(logdir).mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(logdir))

    def __call__(self, record: dict) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [Summary.Value(tag=tag, simple_value=v) for tag, v in scalars(record).items()]
        self._writer.add_event(Event(wall_time=time.time(), step=int(record["step"]), summary=Summary(value=values)))
        self._writer.flush()  # Seen live, epoch by epoch.

    def close(self) -> None:
        self._writer.close()
