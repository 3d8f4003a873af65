"""The map's sound descriptors (`spectral.descriptors`, measured on each point's rendered training patch) and the
latent sliders' labels: which descriptor each latent dimension moves most.

The page colours the map by any of DESCRIPTORS (with a colour bar in its unit) and labels slider z_i
"z3 · brightness ↑ (r=0.71)" when the descriptor with the largest |Spearman r| against z_i over the map's
points reaches `ExplorerConfig.slider_label_min_r`, else plain "z3".
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import stats
from tqdm import tqdm

from spectral import descriptors

MIN_PAIRS = 8  # Fewest points with a finite descriptor for a correlation to label a slider.
# Noisiness is shown as spectral flatness in dB (0: white noise), floored here: most synth sounds are tones with a
# flatness of 1e-3 or far less, which a linear 0-1 colour scale would paint all alike.
FLATNESS_FLOOR_DB = -60.0


@dataclasses.dataclass(frozen=True)
class Descriptor:
    """One colouring of the map: `name` (the JSON key), `label` and `unit` for the legend, `of` the values
    [n] from `spectral.descriptors.Descriptors`."""

    name: str
    label: str
    unit: str
    of: callable


DESCRIPTORS = (
    Descriptor("pitch", "pitch", "MIDI", lambda d: d.pitch_midi),
    Descriptor("loudness", "loudness (RMS)", "dBFS", lambda d: d.loudness_db),
    Descriptor("brightness", "brightness (spectral centroid)", "Hz", lambda d: d.brightness_hz),
    Descriptor("noisiness", "noisiness (spectral flatness)", "dB",
               lambda d: 10.0 * np.log10(np.maximum(d.noisiness, 10.0 ** (FLATNESS_FLOOR_DB / 10.0)))),
)


def table(audio: np.ndarray, sample_rate: float) -> dict[str, np.ndarray]:
    """Clips [n, T] at `sample_rate` Hz -> {descriptor name: float64 [n]} (NaN where undefined)."""
    measured = descriptors.describe(audio, sample_rate)
    return {d.name: np.asarray(d.of(measured), np.float64) for d in DESCRIPTORS}


def of_patches(render, full01: np.ndarray, sample_rate: float, batch: int, progress: bool = True) -> dict[str, np.ndarray]:
    """Renders patches [n, 78] in batches of `batch` with `render` ([m, 78] -> [m, T]) and measures them."""
    parts = []
    with tqdm(total=len(full01), desc="sound descriptors of the map", unit="sound", disable=not progress) as bar:
        for start in range(0, len(full01), batch):
            rows = full01[start:start + batch]
            parts.append(table(render(rows), sample_rate))
            bar.update(len(rows))
    return {d.name: np.concatenate([p[d.name] for p in parts]) for d in DESCRIPTORS}


def as_json(values: dict[str, np.ndarray], digits: int = 4) -> dict[str, list]:
    """{name: [n] floats} -> {name: list} with NaN as None (JSON has no NaN)."""
    return {name: [None if not math.isfinite(v) else float(f"{v:.{digits}g}") for v in np.asarray(column, np.float64)]
            for name, column in values.items()}


def spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """(Spearman r, pairs used) over the pairs where both are finite; r is NaN with fewer than MIN_PAIRS or a
    constant side."""
    keep = np.isfinite(a) & np.isfinite(b)
    n = int(keep.sum())
    if n < MIN_PAIRS or np.ptp(a[keep]) == 0 or np.ptp(b[keep]) == 0:
        return math.nan, n
    return float(stats.spearmanr(a[keep], b[keep]).statistic), n


def slider_labels(mu: np.ndarray, values: dict[str, np.ndarray], min_r: float) -> list[dict]:
    """Per latent dimension of mu [n, latent]: {"label", "descriptor", "r"}; the descriptor with the largest
    |Spearman r| names the slider when |r| >= min_r (descriptor and r are None otherwise)."""
    out = []
    for i in range(mu.shape[1]):
        scored = [(d, spearman(mu[:, i], values[d.name])[0]) for d in DESCRIPTORS]
        scored = [(d, r) for d, r in scored if math.isfinite(r)]
        best = max(scored, key=lambda item: abs(item[1]), default=None)
        if best is None or abs(best[1]) < min_r:
            out.append({"label": f"z{i + 1}", "descriptor": None, "r": None})
            continue
        d, r = best
        out.append({"label": f"z{i + 1} · {d.name} {'↑' if r > 0 else '↓'} (r={abs(r):.2f})", "descriptor": d.name,
                    "r": round(r, 3)})
    return out
