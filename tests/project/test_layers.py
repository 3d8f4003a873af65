"""The packages' layering (docs/layout.md): no module imports from a package above its own."""

import ast
from pathlib import Path

import pytest

from tests.checkout import ROOT

LAYERS = ("jaxsynth", "common", "spectral", "vae", "eval", "matching", "explorer")  # Bottom-up.


def imported_packages(path: Path) -> set[str]:
    """The top-level names a Python file imports (at any depth of the file, absolute imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_packages_below_it(package):
    above = set(LAYERS[LAYERS.index(package) + 1:])
    offending = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & above)
                 for f in sorted((ROOT / package).rglob("*.py"))}
    assert not {f: names for f, names in offending.items() if names}, f"{package} imports from a higher layer"


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from explorer.space import LatentMap\n    import eval.clustering\n")
    assert imported_packages(module) == {"explorer", "eval"}
