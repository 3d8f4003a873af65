"""benchmarks/train_step.py runs end to end on a tiny setting (both stacks, both modes, MFCC)."""

import math
import re

from conftest import load_script


def test_train_step_benchmark_prints_both_stacks_and_ratios(capsys):
    bench = load_script("train_step", folder="benchmarks")
    assert bench.main(["--batch", "4", "--seconds", "0.1", "--sample-rate", "8000", "--repeats", "1",
                       "--feature", "mfcc"]) == 0
    out = capsys.readouterr().out
    rows = re.findall(r"^(exp1|synth_head)\s+(ours\[\w+\]|torch\+torchsynth)\s+([\d.]+) s/step.*loss ([^\]]+)\]$",
                      out, re.M)
    assert {(mode, name.split("[")[0]) for mode, name, _, _ in rows} == {
        (m, n) for m in ("exp1", "synth_head") for n in ("ours", "torch+torchsynth")}
    assert all(float(t) > 0 and math.isfinite(float(loss)) for _, _, t, loss in rows)
    ratios = re.findall(r"^ratio ours/baseline (exp1|synth_head): ([\d.]+)x$", out, re.M)
    assert [mode for mode, _ in ratios] == ["exp1", "synth_head"]  # The synth-head ratio is the last line.
    assert out.rstrip().splitlines()[-1].startswith("ratio ours/baseline synth_head")
