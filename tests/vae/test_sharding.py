"""Data parallelism (vae.sharding): 4 fake CPU devices give the one-device results within float tolerance.

XLA_FLAGS must be set before JAX initializes, so the comparison runs in a subprocess.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.checkout import ROOT


_CHECK = r"""
import json, sys
import jax, numpy as np
from vae import data, flags, run, settings, steps, train

assert jax.local_device_count() == 4, jax.devices()
out = sys.argv[1]
args = vars(flags.parser().parse_args(["--scale", "tiny", "--synth-head", "--max-epochs", "1", "--batch-size", "8",
                                          "--data", out + "/tiny.npz"]))
resolved = settings.resolve(args)
path = settings.dataset_path(resolved.settings)
dataset = data.load_or_generate(path, settings.data_config(resolved.settings), progress=False)
config = settings.build_config(resolved, dataset, path)
# Spy on the training step the loop calls: the devices its results live on, and (first call) the
# per-device shape of the batch in the compiled, partitioned program.
step_fn, seen = steps.train_step, []


def spy(*args, **kwargs):
    out = step_fn(*args, **kwargs)
    record = {"devices": len(jax.tree.leaves(out[0])[0].sharding.device_set)}
    if not any(s["name"] == current for s in seen):
        hlo = step_fn.lower(*args, **kwargs).compile().as_text()
        record["rows_2"] = "f32[2,63]" in hlo  # 8 patches / 4 devices, 63 parameters
        record["rows_8"] = "f32[8,63]" in hlo
    seen.append(dict(record, name=current))
    return out


steps.train_step = spy
result = {}
for current, devices in (("one", None), ("four", 4)):
    res = train.train(config, f"{out}/{current}", dataset, show_progress=False, devices=devices)
    loaded = run.load_run(f"{out}/{current}", which="latest")
    leaves = jax.tree_util.tree_leaves(loaded.params)
    result[current] = {"metrics": res.metrics, "params": [np.asarray(l).ravel().tolist() for l in leaves],
                       "steps": [s for s in seen if s["name"] == current]}
print(json.dumps(result))
"""


@pytest.mark.slow
def test_four_devices_match_one(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _CHECK, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    one, four = result["one"], result["four"]
    # The training step really is partitioned: with 4 devices its state lives on all 4 and each holds
    # a quarter of the batch; on one device, one device and the whole batch.
    assert four["steps"] and all(s["devices"] == 4 for s in four["steps"])
    assert four["steps"][0]["rows_2"] and not four["steps"][0]["rows_8"]
    assert one["steps"] and all(s["devices"] == 1 for s in one["steps"])
    assert one["steps"][0]["rows_8"] and not one["steps"][0]["rows_2"]
    assert len(one["metrics"]) == len(four["metrics"]) == 1
    for a, b in zip(one["metrics"], four["metrics"]):
        for key in ("train/total", "train/spectral", "train/recon", "train/grad_norm", "val/total", "beta"):
            assert abs(a[key] - b[key]) <= 1e-4 * max(1.0, abs(a[key])), (key, a[key], b[key])
    for p1, p4 in zip(one["params"], four["params"]):
        diff = max(abs(x - y) for x, y in zip(p1, p4))
        assert diff <= 1e-5, diff
