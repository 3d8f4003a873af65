"""What every command-line tool shares (`vae.cli`, `eval.cli`): the help layout, the exit statuses
and how a file-system error is told to the user."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

# Exit statuses: 2 bad input (arguments, files, permissions), 3 a training loss went non-finite.
EXIT_BAD_INPUT, EXIT_NON_FINITE = 2, 3


def os_error_message(err: OSError, hint: str) -> str:
    """One line for a file-system error: the file, the reason, then `hint` (what to do)."""
    where = f" {err.filename}" if err.filename else ""
    return f"cannot write or read{where}: {err.strerror or err}; {hint}"


def check_writable_dir(path: str | Path, flag: str) -> None:
    """Raises ValueError naming `flag` unless `path` is a directory that can be written, or could be
    created as one (its nearest existing ancestor is a writable directory). Creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path} is a file, not a folder; choose a folder")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"{flag} {path}: {existing} is a file, not a folder; choose another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: no permission to write in {existing}; choose another {flag} or fix "
                         "the folder's permissions")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Description and epilog printed as written (examples keep their lines); each option's default
    appended once, as "(default: X)", unless its help already speaks of the default or there is
    none to show (None, False, suppressed)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default is argparse.SUPPRESS \
                or not action.option_strings:
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default: {shown})".strip()
