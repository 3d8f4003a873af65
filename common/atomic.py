"""Atomic file writes: a file is either its old version or its complete new one, never half-written.

Every file the project writes (run config, metrics, CSV, plots, datasets, evaluation outputs) goes
through `atomic_path`: the writer fills a temporary file in the same folder (same file system, so
the final rename is atomic), which is flushed to disk (fsync) and renamed over the target with
`os.replace`; the folder is fsynced too, so the rename survives a power cut. A crash at any moment
leaves at most a stray temporary file named `TMP_PREFIX...`, never a damaged target.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Iterator

TMP_PREFIX = ".tmp-"  # Temporary files are TMP_PREFIX + token + "-" + the target's name (same suffix).


def is_temporary(name: str) -> bool:
    """Whether a file name is a temporary file `atomic_path` leaves behind when killed mid-write."""
    return name.startswith(TMP_PREFIX)


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    except OSError:  # Some file systems cannot fsync a directory; the rename is still atomic.
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yields a temporary path beside `path` (with the same suffix, so writers that infer the format
    from it work); on a clean exit it is fsynced and renamed over `path`, on an error removed.

        with atomic_path("out/fig.png") as tmp:
            fig.savefig(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent, directory=True)


def write_text(path: str | Path, text: str) -> Path:
    """Writes `text` (UTF-8) to `path` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
