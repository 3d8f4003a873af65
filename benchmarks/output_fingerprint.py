"""Fingerprints of what training and evaluation write, to show that a refactor changes no output bit.

Trains a tiny run (`--scale tiny`, on a 64-patch dataset made here) of each thesis experiment and named
objective, evaluates two of them, and prints one SHA-256 per output: the final weights (every array's bytes),
metrics.jsonl and eval/metrics.json (wall times and paths left out), the latent codes and the WAVs. Run it
before and after a change and compare the two JSON files (`--json`); any difference names the output.

  python benchmarks/output_fingerprint.py --json /tmp/before.json   # on the old commit
  python benchmarks/output_fingerprint.py --json /tmp/after.json    # on the new one
  diff /tmp/before.json /tmp/after.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "Exp1-SCLP": ["--case", "Exp1-SCLP"],
    "Exp2-SCLP-ts": ["--case", "Exp2-SCLP-ts"],
    "Exp3-MFCC": ["--case", "Exp3-MFCC"],
    "improved": ["--case", "Exp2-SCLP-ts", "--objective", "improved"],
    "improved-pretrained": ["--case", "Exp2-SCLP-ts", "--objective", "improved-pretrained"],
    "timbre": ["--objective", "timbre"],
}
EVALUATED = ("Exp2-SCLP-ts", "timbre")
VOLATILE = ("time", "timing", "elapsed", "seconds_per", "path", "dir", "weights_dir")  # Keys that differ run to run.


def _clean(value):
    """A JSON value without wall times and machine paths."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not any(s in k for s in VOLATILE)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _digest(chunks) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:16]


def _json_digest(docs) -> str:
    return _digest(json.dumps(_clean(d), sort_keys=True).encode() for d in docs)


def _weights_digest(run: Path) -> str:
    """The final (latest) checkpoint's weights: each array's name, dtype, shape and bytes."""
    import orbax.checkpoint as ocp

    latest = run / "checkpoints" / "latest"
    step = max(int(p.name) for p in latest.iterdir() if p.name.isdigit())
    params = ocp.StandardCheckpointer().restore((latest / str(step) / "params").absolute())
    leaves = sorted(((".".join(map(str, path)), np.asarray(leaf)) for path, leaf in _flatten(params)))
    return _digest(f"{name}{a.dtype}{a.shape}".encode() + a.tobytes() for name, a in leaves)


def _flatten(tree, prefix=()):
    if isinstance(tree, dict):
        for k in sorted(tree):
            yield from _flatten(tree[k], prefix + (k,))
    else:
        yield prefix, tree


def fingerprint(work: Path) -> dict[str, str]:
    """{output name: digest} of the tiny runs and evaluations, made under `work`, with this checkout's code."""
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # This tree's packages, ahead of any installed checkout.
    data = work / "data" / "tiny"
    subprocess.run([py, "scripts/make_dataset.py", "--n-patches", "64", "--split", "48", "8", "8", "--out",
                    str(data), "--quiet"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    out = {}
    for name, flags in RUNS.items():
        run = work / name
        subprocess.run([py, "scripts/train.py", *flags, "--scale", "tiny", "--data", f"{data}.npz", "--out", str(run),
                        "--quiet"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        out[f"{name}/weights"] = _weights_digest(run)
        out[f"{name}/metrics.jsonl"] = _json_digest(json.loads(line) for line in (run / "metrics.jsonl").open())
        config = json.loads((run / "config.json").read_text())
        out[f"{name}/config.json"] = _json_digest([config])
        print(name, "trained", flush=True)
    for name in EVALUATED:
        run = work / name
        subprocess.run([py, "scripts/evaluate.py", str(run), "--no-download", "--no-fad", "--test-limit", "8"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        ev = run / "eval"
        out[f"{name}/eval/metrics.json"] = _json_digest([json.loads((ev / "metrics.json").read_text())])
        for f in sorted(ev.rglob("*.npy")):
            out[f"{name}/eval/{f.relative_to(ev)}"] = _digest([np.load(f).tobytes()])
        out[f"{name}/eval/sounds"] = _digest(f.read_bytes() for f in sorted(ev.rglob("*.wav")))
        print(name, "evaluated", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the fingerprints to this JSON file")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="make the runs in DIR (a new folder) and keep them, to compare two fingerprints' files")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        prints = fingerprint(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            prints = fingerprint(Path(tmp))
    for name, digest in prints.items():
        print(f"{digest}  {name}")
    if args.json:
        args.json.write_text(json.dumps(prints, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
