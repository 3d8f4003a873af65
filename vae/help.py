"""The help layout every command-line tool shares (`vae.cli`, `eval.cli`)."""

from __future__ import annotations

import argparse


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
