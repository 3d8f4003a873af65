"""Click-to-sound latency of the timbre explorer (`explorer`), warm, beside the raw synth render.

    .venv/bin/python benchmarks/explorer_latency.py runs/demo                 # 1-s sounds at 16 kHz (the target)
    .venv/bin/python benchmarks/explorer_latency.py runs/demo --sample-rate 8000 --seconds 0.25

Serves the run on 127.0.0.1 (a free port) in this process and times what the page does on a click, over
HTTP: POST /api/decode (decode the latent, render it with jaxsynth, describe it) then GET the WAV, for
--clicks distinct map points and as many empty-space positions (k-NN inverse), plus GET
/api/sound/{index}.wav. The reference point is measured in the same process: the raw jitted
`Voice.render` of one patch and `vae.run.decode` of one latent. Target: click to sound < 150 ms for a
1-s sound at 16 kHz on 2 CPU cores. Prints one line per measurement (median and 90th percentile, ms).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request

import numpy as np

from vae import run as run_lib
from explorer.cli import synth_settings
from vae.run_files import load_config
from explorer import Explorer, ExplorerConfig, ServerThread, create_app

TARGET_MS = 150.0


def timed(fn, repeats: int) -> list[float]:
    """Milliseconds of `repeats` calls of fn(i) (i = 0, 1, ...)."""
    out = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        out.append(1000 * (time.perf_counter() - t0))
    return out


def summary(label: str, ms: list[float]) -> str:
    return (f"{label:44s} median {statistics.median(ms):7.1f} ms   p90 {np.percentile(ms, 90):7.1f} ms   "
            f"(n={len(ms)})")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def post(url: str, data: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(data).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", nargs="?", default="runs/demo", help="a trained run (default runs/demo)")
    p.add_argument("--sample-rate", type=int, default=16000, help="render rate in Hz (default 16000)")
    p.add_argument("--seconds", type=float, default=1.0, help="sound length (default 1.0)")
    p.add_argument("--clicks", type=int, default=30, help="timed clicks of each kind (default 30)")
    p.add_argument("--points", type=int, help="compute a fresh map of N points (default: the run's evaluation map)")
    args = p.parse_args(argv)

    synth = synth_settings(load_config(args.run_dir).synth, args.sample_rate, args.seconds)
    explorer = Explorer.open(args.run_dir, ExplorerConfig(points=args.points), synth=synth)
    n = len(explorer.space)
    print(f"run {args.run_dir}: {n} map points ({explorer.space.source}); sounds {synth.sample_rate} Hz x "
          f"{synth.buffer_size_seconds} s; loaded and warmed in {explorer.warm_seconds:.1f} s")

    renderer = explorer.renderer
    full = renderer.decode(explorer.space.mu[:1])
    lines = [summary("reference: raw Voice.render of one patch", timed(lambda i: renderer.render(full), 50)),
             summary("reference: vae.run.decode of one latent",
                     timed(lambda i: run_lib.decode(explorer.run, explorer.space.mu[i % n:i % n + 1]), 50))]
    rng = np.random.default_rng(0)
    lo, hi = explorer.space.xy.min(axis=0), explorer.space.xy.max(axis=0)
    positions = rng.uniform(lo, hi, (args.clicks, 2))
    points = rng.permutation(n)[:args.clicks] if n >= args.clicks else np.arange(args.clicks) % n
    with ServerThread(create_app(explorer)) as server:
        url = server.url

        def click_point(i):
            get(url + post(url + "/api/decode", {"point": int(points[i])})["wav"])

        def click_space(i):
            get(url + post(url + "/api/decode", {"xy": positions[i].tolist()})["wav"])

        click_point(0)  # the HTTP path's own first call
        explorer.cache.clear()
        lines += [summary("click a point: POST /api/decode + GET wav", timed(click_point, args.clicks)),
                  summary("click empty space: POST /api/decode + GET wav", timed(click_space, args.clicks)),
                  summary("GET /api/sound/{index}.wav",
                          timed(lambda i: get(f"{url}/api/sound/{int(points[i])}.wav"), args.clicks))]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
