"""What every command-line tool shares (`vae.cli`, `eval.cli`, ...): the parser (`Parser`: --version,
one-line errors with a close-match suggestion), the help layout, the exit statuses and how a
file-system error is told to the user."""

from __future__ import annotations

import argparse
import errno
import math
import difflib
import importlib.metadata
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

# Exit statuses: 2 bad input (arguments, files, permissions), 3 a training loss went non-finite.
EXIT_BAD_INPUT, EXIT_NON_FINITE = 2, 3


def os_error_message(err: OSError, hint: str) -> str:
    """One line for a file-system error: the file, the reason, then `hint` (what to do)."""
    where = f" {err.filename}" if err.filename else ""
    return f"cannot write or read{where}: {err.strerror or err}; {hint}"


def resource_problem(err: BaseException) -> str | None:
    """'out of memory' or 'the disk is full' when `err` (or what it was raised from: orbax and XLA wrap them) is
    a MemoryError, an XLA RESOURCE_EXHAUSTED or an ENOSPC; None for any other error."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        text = str(err)
        if isinstance(err, MemoryError) or "RESOURCE_EXHAUSTED" in text or "Out of memory" in text:
            return "out of memory"
        if getattr(err, "errno", None) == errno.ENOSPC or "No space left on device" in text:
            return "the disk is full"
        err = err.__cause__ or err.__context__
    return None


def report_error(err: BaseException, *, resource: Callable[[str], str], os_hint: str,
                 told: tuple = (ValueError, FileNotFoundError), describe: Callable[[BaseException], str] = str) -> int:
    """Prints one line on stderr for bad input or a lacking resource and returns EXIT_BAD_INPUT; re-raises anything
    else. resource(problem): the line for out of memory or a full disk (`resource_problem`); errors of the `told`
    types read as describe(err); other OSErrors (permissions, a file where a folder belongs) end with os_hint."""
    problem = resource_problem(err)
    if problem:
        message = resource(problem)
    elif isinstance(err, told):
        message = describe(err)
    elif isinstance(err, OSError):
        message = os_error_message(err, os_hint)
    else:
        raise err
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


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


def bounded(kind, low: float, high: float | None = None, low_open: bool = False):
    """An argparse `type`: `kind` (int or float) of the text, finite, >= low (> low with `low_open`) and <= high;
    argparse names the flag as typed ("argument --batch-size: must be >= 1, got 0") and exits 2 before any work."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not (math.isfinite(value) and (value > low if low_open else value >= low)
                and (high is None or value <= high)):
            rng = f"{'>' if low_open else '>='} {low}" + ("" if high is None else f" and <= {high}")
            raise argparse.ArgumentTypeError(f"must be {rng}, got {text}")
        return value
    return parse
def version() -> str:
    """The project's version: the installed distribution's, else pyproject.toml's (a checkout)."""
    try:
        return importlib.metadata.version("jaxsynth-vae")
    except importlib.metadata.PackageNotFoundError:
        with open(Path(__file__).resolve().parents[1] / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """'; did you mean X?' for the option closest to `word` (difflib, any letter case), else ''."""
    by_lower = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]}?" if close else ""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with `--version` whose errors are one line (no usage dump) naming the closest
    flag or choice to a misspelled one, and exit with EXIT_BAD_INPUT."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("--version", action="version", version=f"%(prog)s {version()}")

    def _suggestion(self, message: str) -> str:
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown:
            return did_you_mean(unknown[1].split("=")[0], [o for o in self._option_string_actions if o.startswith("--")])
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        return did_you_mean(choice[1], re.findall(r"'([^']*)'", choice[2])) if choice else ""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}{self._suggestion(message)} "
                                  f"(see {self.prog} --help)\n")
