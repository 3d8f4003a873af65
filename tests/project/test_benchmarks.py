"""The benchmarks run end to end on tiny settings: train_step.py (both stacks, both modes, MFCC),
synth_throughput.py (every synth, both ratios), the SynthAX parameter mapping, gpu.sh --cpu-smoke and
encoder_start.py (the latent method from the encoder's guess)."""

import math
import re

import pytest
from tests.checkout import ROOT, load_script


@pytest.mark.slow
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


@pytest.mark.slow
def test_gpu_script_cpu_smoke_writes_the_table(tmp_path):
    """`bash benchmarks/gpu.sh --cpu-smoke` (what CI can run of the GPU script) writes one table with
    every section: throughput rows up to the cap, both training-step modes, a passing parity row."""
    import subprocess
    import sys

    out = tmp_path / "gpu.md"
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("OUT", "JAX_PLATFORMS")}
    env["PYTHON"] = sys.executable
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu.sh"), "--cpu-smoke", "--out", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=330)  # gpu.sh's own limit is 300 s
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    assert text.count("| part | setting | time | throughput | note |") == 1
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    by_part = {}
    for cells in rows:
        by_part.setdefault(cells[0].strip(), []).append([c.strip() for c in cells])
    synth = by_part["synth, jaxsynth xla (raw jit)"]
    assert [r[1].split(",")[0] for r in synth] == ["batch 4", "batch 8"]
    for r in synth:
        printed_ms = re.match(r"([\d.]+) ms/batch", r[2]).group(1)
        ms = float(printed_ms)
        half_digit = 0.5 * 10.0 ** -len(printed_ms.partition(".")[2])  # the time is printed rounded
        realtime = float(re.search(r"= ([\d,]+)x realtime", r[3]).group(1).replace(",", ""))
        batch = int(r[1].split(",")[0].split()[1])
        # x realtime = sounds x 0.05 s / time; its bounds follow from the time's rounding (and its own).
        assert ms > half_digit
        assert batch * 0.05 / ((ms + half_digit) / 1e3) - 0.5 <= realtime <= batch * 0.05 / ((ms - half_digit) / 1e3) + 0.5
    steps = [p for p in by_part if p.startswith("train step")]
    assert {p.split(",")[1].strip() for p in steps} == {"exp1", "synth_head"}
    assert all(float(re.match(r"([\d.]+) ms/step", by_part[p][0][2]).group(1)) > 0 for p in steps)
    (parity_row,) = by_part["parity, xla on cpu vs cpu_kernel on cpu"]
    assert parity_row[3] == "PASS 6/6"
    (largest,) = by_part["synth, largest batch that ran"]
    assert largest[1] == "up to 8" and "cap" in largest[4]
    assert "total" in by_part


@pytest.mark.slow
def test_synth_throughput_prints_every_synth_and_both_ratios(capsys):
    bench = load_script("synth_throughput", folder="benchmarks")
    assert bench.main(["--batches", "8", "--repeats", "2", "--seconds", "0.05", "--sample-rate", "8000"]) == 0
    out = capsys.readouterr().out
    names = set(re.findall(r"^batch=\s*8 (.+?)\s{2,}[\d.]+ ms", out, re.M))
    expected = {"jaxsynth Voice.render[cpu_kernel]", "jaxsynth raw jit[cpu_kernel]"}
    for name, missing in (("torchsynth", bench.torch_missing()), ("SynthAX", bench.synthax_compare.synthax_missing())):
        if missing:
            assert f"# {name} column skipped" in out
        else:
            expected.add(name)
    assert names == expected
    last = out.rstrip().splitlines()[-1]
    m = re.fullmatch(r"ratios at batch 8: jaxsynth/torchsynth = (\S+), jaxsynth/SynthAX = (\S+)", last)
    assert m, last
    for value, name in zip(m.groups(), ("torchsynth", "SynthAX")):
        assert (value == "n/a") == (name not in expected)
        if value != "n/a":
            assert float(value) > 0


@pytest.mark.slow
def test_synthax_mapping_plays_the_same_patch():
    """Our [0, 1] patches mapped to SynthAX's parameter tree give nearly our sound (noise off, one
    patch per call so SynthAX's batch-wide normalization cannot interfere); a wrong column fails."""
    pytest.importorskip("synthax")
    import numpy as np

    from jaxsynth import SynthConfig, Voice

    sx = load_script("synthax_compare", folder="benchmarks")
    # 1 s: SynthAX ceils seconds x control rate where torchsynth rounds, so keep it an integer.
    config = SynthConfig(batch_size=1, sample_rate=8000, buffer_size_seconds=1.0)
    patches = np.random.default_rng(3).uniform(0, 1, (6, 78)).astype(np.float32)
    patches[:, Voice.parameter_names.index("mixer/noise")] = 0.0
    voice, synthax = Voice(config), sx.SynthaxVoice(config)
    synthax.check_tree(sx.to_synthax_params(patches[:1]))
    ours = np.asarray(voice.render(patches, np.zeros((1, config.buffer_size), np.float32)))
    theirs = np.stack([np.asarray(synthax.render(sx.to_synthax_params(p[None])))[0] for p in patches])
    assert np.median(sx.rel_rms(theirs, ours)) < 1e-2
    swapped = patches.copy()  # vco_1 and vco_2 tuning exchanged: a mapping error of one column
    i, j = Voice.parameter_names.index("vco_1/tuning"), Voice.parameter_names.index("vco_2/tuning")
    swapped[:, [i, j]] = swapped[:, [j, i]]
    wrong = np.stack([np.asarray(synthax.render(sx.to_synthax_params(p[None])))[0] for p in swapped])
    assert np.median(sx.rel_rms(wrong, ours)) > 0.1


def test_gpu_bench_stops_at_out_of_memory_or_budget_and_keeps_the_largest_batch(tmp_path, monkeypatch):
    import time
    import types

    gpu = load_script("gpu_bench", folder="benchmarks")
    ran = []

    def fake_row(table, batch, args, synthax):
        if batch >= 32:
            raise RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 9.1GiB")
        ran.append(batch)
        return 0.01

    monkeypatch.setattr(gpu, "throughput_row", fake_row)
    args = types.SimpleNamespace(largest_batch=None)
    table = gpu.Table(str(tmp_path / "t.md"), [])
    stop = gpu.throughput(table, [8, 16, 32, 64], args, None, time.perf_counter() + 100, [])
    assert stop.startswith("out of memory at batch 32") and args.largest_batch == 16 and ran == [8, 16]
    stop = gpu.throughput(table, [8, 16], args, None, time.perf_counter() + 10, [50.0])
    assert stop == "time budget: batch 8 not started"
    monkeypatch.setattr(gpu, "throughput_row", lambda *a: 1 / 0)
    assert gpu.throughput(table, [8], args, None, time.perf_counter() + 100, []).startswith("error at batch 8")


@pytest.mark.slow
def test_encoder_start_benchmark_compares_every_search_and_baseline(tiny_timbre_run, tmp_path, capsys):
    """encoder_start.py on one held-out patch of a tiny run that hears: a table row and medians with every
    method, each cell 'distance / parameter error', and results.json with a row per method."""
    import json

    bench = load_script("encoder_start", folder="benchmarks")
    bench.main(["--run", str(tiny_timbre_run), "--targets", "1", "--budget", "0.05", "--starts", "2",
                "--out", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("| target |"))
    assert header == "| target | " + " | ".join([*bench.BASELINES[:1], *bench.SEARCHES, *bench.BASELINES[1:]]) + " |"
    row = next(line for line in lines if line.startswith("| test-0-0 |"))
    assert len(re.findall(r"\d+\.\d{3} / \d+\.\d{3}", row)) == len(bench.SEARCHES) + len(bench.BASELINES)
    rows = json.loads((tmp_path / "results.json").read_text())
    assert {r["method"] for r in rows} == {*bench.SEARCHES, *bench.BASELINES}
    assert all(math.isfinite(r["distance"]) and 0 <= r["param_error"] <= 1 for r in rows)
