"""DBCV (eval.dbcv) against hdbscan's validity index: peak traced memory, time and agreement.

    .venv/bin/python benchmarks/dbcv_memory.py

10,000 float64 2-D points planted in clusters (`tests/planted.py`); the results are quoted in
eval/dbcv.py's module doc.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # The checkout, for tests.planted.

from eval.dbcv import dbcv  # noqa: E402
from tests.planted import planted_clusters  # noqa: E402


def main() -> None:
    """Print peak traced memory, time and agreement with hdbscan for 10,000 planted points."""
    from hdbscan.validity import validity_index

    cases = {"20 clusters + 10% noise": (20, 0.1, 0.01), "2 clusters of 5000": (2, 0.0, 0.02),
             "800 clusters + 36% noise": (800, 0.36, 0.002), "1 cluster of 10000": (1, 0.0, 0.05)}
    for name, (k, noise, spread) in cases.items():
        points, labels = planted_clusters(10_000, k, noise, seed=0, spread=spread)
        row, scores = [name], []
        # hdbscan would need ~5 GiB for a single 10,000-point cluster (and returns NaN there).
        for label, fn in (("ours", dbcv), ("hdbscan", validity_index))[:1 if k == 1 else 2]:
            tracemalloc.start()
            start = time.perf_counter()
            scores.append(fn(points, labels))
            elapsed = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            row.append(f"{label}: DBCV {scores[-1]:.6f}, peak {peak:.1f} MiB, {elapsed:.1f} s")
        if len(scores) == 2:
            row.append(f"|difference| {abs(scores[0] - scores[1]):.1e}")
        print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
