"""Data parallelism (vae.sharding): 4 fake CPU devices give the one-device results within float tolerance.

XLA_FLAGS must be set before JAX initializes, so the comparison runs in a subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHECK = r"""
import json, sys
import jax, numpy as np
from vae import data, models, presets, run, sharding, train

assert jax.local_device_count() == 4, jax.devices()
out = sys.argv[1]
args = vars(presets.parser().parse_args(["--scale", "tiny", "--synth-head", "--max-epochs", "1", "--batch-size", "8",
                                          "--data", out + "/tiny.npz"]))
resolved = presets.resolve(args)
path = presets.dataset_path(resolved.settings)
dataset = data.load_or_generate(path, presets.data_config(resolved.settings), progress=False)
config = presets.build_config(resolved, dataset, path)
result = {}
for name, devices in (("one", None), ("four", 4)):
    res = train.train(config, f"{out}/{name}", dataset, show_progress=False, devices=devices)
    loaded = run.load_run(f"{out}/{name}", which="latest")
    leaves = jax.tree_util.tree_leaves(loaded.params)
    result[name] = {"metrics": res.metrics, "params": [np.asarray(l).ravel().tolist() for l in leaves]}
# The sharded step really is partitioned: the batch lands on all 4 devices.
noise = sharding.shard_batch(np.zeros((8, 3), np.float32), sharding.data_mesh(4))
result["shards"] = len(noise.addressable_shards)
print(json.dumps(result))
"""


def test_four_devices_match_one(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _CHECK, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shards"] == 4
    one, four = result["one"], result["four"]
    assert len(one["metrics"]) == len(four["metrics"]) == 1
    for a, b in zip(one["metrics"], four["metrics"]):
        for key in ("train/total", "train/spectral", "train/recon", "train/grad_norm", "val/total", "beta"):
            assert abs(a[key] - b[key]) <= 1e-4 * max(1.0, abs(a[key])), (key, a[key], b[key])
    for p1, p4 in zip(one["params"], four["params"]):
        diff = max(abs(x - y) for x, y in zip(p1, p4))
        assert diff <= 1e-5, diff
