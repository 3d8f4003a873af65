"""The console scripts of pyproject.toml point at real functions, and each answers --help."""

from __future__ import annotations

import importlib
import tomllib

import pytest
from tests.checkout import ROOT

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


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_entry_point_answers_version(name, capsys):
    from common.help import version

    module, function = SCRIPTS[name].split(":")
    with pytest.raises(SystemExit) as done:
        getattr(importlib.import_module(module), function)(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.split()[-1] == version()


@pytest.mark.parametrize(("name", "argv", "expected"), [
    ("jaxsynth-train", ["--max-epocs", "3"], "unrecognized arguments: --max-epocs 3; did you mean --max-epochs?"),
    ("jaxsynth-evaluate", ["runs/x", "--checkpoint", "bets"], "invalid choice: 'bets'"),
    ("jaxsynth-compare", ["runs/x", "--alhpa", "0.1"], "did you mean --alpha?"),
    ("jaxsynth-match", ["t.wav", "--out", "o", "--method", "cmase"], "did you mean cmaes?"),
    ("jaxsynth-evaluate", ["runs/x", "--fad-sounds", "0"], "--fad-sounds: expected a positive number or 'all', got '0'"),
])
def test_a_misspelled_flag_is_one_line_with_a_suggestion(name, argv, expected, capsys):
    module, function = SCRIPTS[name].split(":")
    with pytest.raises(SystemExit) as done:
        getattr(importlib.import_module(module), function)(argv)
    err = capsys.readouterr().err
    assert done.value.code == 2 and expected in err
    assert "usage:" not in err and len(err.strip().splitlines()) == 1 and "--help" in err


def test_a_misspelled_case_name_gets_the_closest_case():
    from vae import settings

    with pytest.raises(ValueError, match="unknown case 'Exp1-SLCP'; did you mean Exp1-SCLP?"):
        settings.case_name("Exp1-SLCP")
