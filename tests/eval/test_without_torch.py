"""Evaluation without the torch extra: with torch hidden, the evaluation modules import,
`scripts/compare.py --help` answers, and a whole evaluation and comparison run, FAD reporting
that its embedding networks need the torch extra.

Two ways to hide torch, each in a fresh interpreter:
- `sys.modules['torch'] = None` (any `import torch` raises ImportError). scipy's array-API
  probing dereferences a `torch` entry of sys.modules whenever one exists (at `scipy.stats`
  import and in some calls), so scipy is imported before the entry is set, and only imports are
  checked this way;
- a meta-path finder refusing torch, which is what an environment without the extra looks like
  (no entry at all): the whole evaluation runs under it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

from eval.embeddings.registry import EMBEDDING_MODELS, TORCH_EXTRA_MESSAGE
from tests.checkout import ROOT

NONE_ENTRY = """import sys
import scipy.signal, scipy.stats  # see the module doc
sys.modules["torch"] = None  # import torch now raises ImportError
"""
NOT_INSTALLED = """import importlib.abc, sys


class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoTorch())
"""


def _python(hide: str, code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter after `hide` (NONE_ENTRY or NOT_INSTALLED)."""
    env = {**os.environ, "MPLCONFIGDIR": matplotlib.get_configdir()}
    return subprocess.run([sys.executable, "-c", hide + code], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env=env)


@pytest.mark.slow
def test_evaluation_modules_and_compare_help_import_without_torch(tmp_path):
    code = f"""
import runpy
import eval.compare, eval.pipeline, eval.report
from eval import frechet
models, skipped = frechet.load_embedders(download=False)
assert models == {{}} and set(skipped) == {set(EMBEDDING_MODELS)!r}, skipped
assert all(m == {TORCH_EXTRA_MESSAGE!r} for m in skipped.values()), skipped
sys.argv = ["compare.py", "--help"]
try:
    runpy.run_path({str(ROOT / "scripts" / "compare.py")!r}, run_name="__main__")
except SystemExit as e:
    assert e.code in (0, None), e.code
print("ok")
"""
    done = _python(NONE_ENTRY, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "usage: compare.py" in done.stdout and done.stdout.strip().endswith("ok")


def test_compare_help_does_not_import_torch(tmp_path):
    code = f"""
import runpy
sys.argv = ["compare.py", "--help"]
try:
    runpy.run_path({str(ROOT / "scripts" / "compare.py")!r}, run_name="__main__")
except SystemExit:
    pass
print("torch imported:", "torch" in sys.modules)
"""
    done = _python("import sys\n", code, cwd=tmp_path)  # torch installed and visible
    assert done.returncode == 0, done.stderr[-4000:]
    assert "torch imported: False" in done.stdout


def test_evaluate_and_compare_run_without_torch(tiny_run, tmp_path):
    out = tmp_path / "eval"
    code = f"""
from eval.cli import compare_main, evaluate_main
code = evaluate_main([{str(tiny_run)!r}, "--out", {str(out)!r}, "--test-limit", "6", "--cluster-fraction", "1.0",
                      "--umap-neighbors", "8", "--dbscan-eps", "0.5", "--batch-size", "8", "--examples", "1",
                      "--quiet"])
assert code == 0, code
assert compare_main([{str(out)!r}, "--out", {str(tmp_path / "compare.md")!r}]) == 0
assert "torch" not in sys.modules
"""
    done = _python(NOT_INSTALLED, code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    metrics = json.loads((out / "metrics.json").read_text())
    fad = metrics["fad"]
    assert fad["status"].startswith("skipped") and fad["scores"] == {}
    assert fad["skipped"] == dict.fromkeys(EMBEDDING_MODELS, TORCH_EXTRA_MESSAGE)
    assert metrics["spectral"]["n"] == 6 and metrics["clustering"]["status"] == "computed"
    report = (out / "report.md").read_text()
    assert f"FAD was skipped for: {', '.join(EMBEDDING_MODELS)}" in report and "torch extra" in report
    assert (tmp_path / "compare.md").exists()
