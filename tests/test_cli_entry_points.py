"""The console scripts of pyproject.toml point at real functions, and each answers --help."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def test_every_script_has_a_console_entry_point():
    scripts = {p.stem for p in (ROOT / "scripts").glob("*.py")}
    assert {name.removeprefix("jaxsynth-").replace("-", "_") for name in SCRIPTS} == scripts


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_entry_point_resolves_and_answers_help(name, capsys):
    module, function = SCRIPTS[name].split(":")
    main = getattr(importlib.import_module(module), function)
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out
