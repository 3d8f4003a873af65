"""The checkout under test: its root folder, its scripts and benchmarks loaded by path (they are not packages),
and a command-line entry point's exit status and stderr."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, folder: str = "scripts"):
    """Import FOLDER/NAME.py (scripts/ or benchmarks/) as a module (they are not packages)."""
    spec = importlib.util.spec_from_file_location(f"{name}_{folder}", ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cli(main, argv, capsys) -> tuple[int, str]:
    """(exit status, stderr) of a command-line entry point `main(argv)`; argparse's own exits count as their status."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err
