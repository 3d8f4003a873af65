"""Our reference runs in the layout of the thesis's Tables 5.1-5.12, the thesis's values quoted beside them.

    python -m eval.thesis_tables               # reads results/reference/<objective>/<case>/, writes results/tables.md

For each experiment and objective: epochs (Tables 5.1/5.5/5.9), FAD (5.2/5.6/5.10), spectral MSE
(5.3/5.7/5.11) and clustering (5.4/5.8/5.12), each row "ours" beside "thesis", then what the thesis
did not report: the baselines (`eval.baselines`) and the latent diagnostics. Cases that have not
run yet are listed as such. The thesis's numbers are quoted from its chapter 5 (44.1 kHz, 1 s,
100,000 training patches); ours come from the reference scale (8 kHz, 0.25 s, 16,000), so absolute
values are not comparable across the two columns, only rankings and the presence of learning.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "reference"

# Thesis chapter 5: epochs, FAD (train VGGish, train PANNs, test VGGish, test PANNs), MSE (STFT, MFCC, CQT),
# clustering (clusters, noise, DBCV). PANNs values are x 10^3 in the thesis and written out here.
THESIS = {
    "Exp1-LMSL": (282, (0.7454, 92.3, 0.7325, 116.3), (20.9128, 881.284, 18178.72), (818, 3616, 0.4136)),
    "Exp1-SCL": (246, (0.7577, 129.2, 0.7325, 156.3), (20.8169, 896.875, 18086.45), (767, 3293, 0.3843)),
    "Exp1-LogSL": (165, (0.7586, 93.3, 0.7575, 109.5), (20.6750, 879.013, 18093.40), (772, 3494, 0.3778)),
    "Exp1-LSLP": (282, (0.7454, 92.3, 0.7325, 116.3), (20.9374, 885.940, 18203.51), (755, 3202, 0.3595)),
    "Exp1-SCLP": (246, (0.7577, 129.2, 0.7517, 156.3), (20.8169, 896.875, 18086.45), (767, 3293, 0.3843)),
    "Exp1-LogSLP": (165, (0.7586, 93.3, 0.7575, 109.5), (20.6182, 875.318, 17659.07), (772, 3494, 0.3778)),
    "Exp2-LMSL-ts": (228, (0.7442, 121.3, 0.7435, 134.9), (22.3714, 918.207, 18946.33), (775, 3143, 0.3871)),
    "Exp2-SCL-ts": (228, (0.7467, 113.5, 0.7495, 127.4), (22.3709, 917.534, 19331.513), (775, 3143, 0.3871)),
    "Exp2-LogSL-ts": (199, (0.7500, 136.2, 0.7558, 141.6), (22.0708, 927.233, 19463.56), (778, 3300, 0.3591)),
    "Exp2-LSLP-ts": (228, (0.7442, 121.3, 0.7495, 127.4), (22.4194, 918.468, 19249.80), (775, 3143, 0.3871)),
    "Exp2-SCLP-ts": (228, (0.7467, 127.4, 0.7495, 127.4), (22.2498, 917.315, 19124.00), (775, 3143, 0.3871)),
    "Exp2-LogSLP-ts": (199, (0.7500, 136.2, 0.7558, 141.6), (22.0796, 921.654, 19124.85), (778, 3300, 0.3591)),
    "Exp3-STFT": (59, (1.6308, 540.6, 1.6091, 532.6), (25.5990, 1022.803, 35544.23), (656, 4039, 0.3626)),
    "Exp3-MFCC": (55, (1.6120, 504.7, 1.6077, 524.6), (25.9966, 1010.494, 35200.91), (646, 4449, 0.3519)),
    "Exp3-CQT": (70, (1.6466, 587.4, 1.6424, 604.1), (25.7877, 1025.180, 33915.05), (648, 2543, 0.3129)),
}
EXPERIMENTS = {"Experiment 1 (Tables 5.1-5.4)": [c for c in THESIS if c.startswith("Exp1")],
               "Experiment 2 (Tables 5.5-5.8)": [c for c in THESIS if c.startswith("Exp2")],
               "Experiment 3 (Tables 5.9-5.12)": [c for c in THESIS if c.startswith("Exp3")]}
DASH = "—"


def _load(objective: str, case: str):
    folder = RESULTS / objective / case
    path = folder / "eval" / "metrics.json"
    if not path.exists():
        return None
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return json.loads(path.read_text()), records


def _f(value, fmt="{:.4g}") -> str:
    return DASH if value is None else fmt.format(value) if isinstance(value, float) else str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_f(v) for v in row) + " |" for row in rows)]


def experiment_tables(objective: str, cases: list[str]) -> list[str]:
    runs = {c: _load(objective, c) for c in cases}
    done = [c for c in cases if runs[c] is not None]
    lines = []
    if not done:
        return [f"_No case of this experiment has run with the {objective} objective yet._", ""]
    epochs = []
    for c in done:
        m, records = runs[c]
        last = records[-1]
        phases = sorted({r["phase_name"] for r in records})
        per_phase = ", ".join(f"{p}: {sum(1 for r in records if r['phase_name'] == p)}" for p in phases)
        stopped = "early stop" if last["bad_epochs"] > 0 else "epoch cap"
        epochs.append([c, f"{per_phase} ({stopped}; best {last['best_epoch']})", THESIS[c][0]])
    lines += ["Epochs trained (ours: per phase, why it ended, the best epoch; thesis: the epochs it reports)", ""]
    lines += _table(["case", "ours", "thesis"], epochs) + [""]
    lines += ["FAD (VGGish / PANNs, test set): ours needs the published embedding weights, which cannot be "
              "downloaded here, so every FAD cell of ours is " + DASH + "; thesis values quoted.", ""]
    lines += _table(["case", "ours", "thesis VGGish", "thesis PANNs"],
                    [[c, DASH, THESIS[c][1][2], THESIS[c][1][3]] for c in done]) + [""]
    rows = []
    for c in done:
        b = runs[c][0]["baselines"]["spectral"]
        rows.append([c, *(b["model"][f]["mse"] for f in ("stft", "mfcc", "cqt")),
                     *(b["mean_patch"][f]["mse"] for f in ("stft", "mfcc", "cqt")), *THESIS[c][2]])
    lines += ["Spectral MSE on the test set: ours, the mean patch's (a model that learned nothing), the thesis's", ""]
    lines += _table(["case", "STFT", "MFCC", "CQT", "mean patch STFT", "mean patch MFCC", "mean patch CQT",
                     "thesis STFT", "thesis MFCC", "thesis CQT"], rows) + [""]
    rows = []
    for c in done:
        m = runs[c][0]
        cl, base = m["clustering"], m["baselines"].get("clustering", {})
        raw = base.get("raw_parameters", {})
        rows.append([c, cl.get("n_clusters"), cl.get("n_noise"), cl.get("dbcv"), raw.get("n_clusters"), raw.get("dbcv"),
                     *THESIS[c][3]])
    lines += ["Clustering of training latents (UMAP + DBSCAN + DBCV): ours, the raw parameters clustered the same "
              "way, the thesis's", ""]
    lines += _table(["case", "clusters", "noise", "DBCV", "raw params: clusters", "raw params: DBCV",
                     "thesis clusters", "thesis noise", "thesis DBCV"], rows) + [""]
    rows = []
    for c in done:
        b = runs[c][0]["baselines"]
        p, s = b["parameters"], b["sound"]
        rows.append([c, p["model"]["param_error"], p["mean_patch"]["param_error"], p["linear_code"]["param_error"],
                     p["model"]["active_units"], p["model"]["kl_total"], s["model"]["lsd_mean"],
                     s["mean_patch"]["lsd_mean"], s["shuffled"]["lsd_mean"], s["model"]["rms_ratio_median"],
                     s["model"]["silent_fraction"]])
    lines += ["What the thesis did not report: parameter error from mu (mean patch, best linear code), active "
              "latent units, KL, log-spectral distance (LSD; mean patch, shuffled sounds), loudness", ""]
    lines += _table(["case", "param error", "mean patch", "linear code", "active units", "KL (nats)", "LSD",
                     "LSD mean patch", "LSD shuffled", "RMS ratio", "silent"], rows) + [""]
    missing = [c for c in cases if runs[c] is None]
    if missing:
        lines += [f"Not run yet with the {objective} objective: {', '.join(missing)} "
                  f"(`python scripts/reference.py --cases {' '.join(missing)} --objectives {objective}`).", ""]
    return lines


def main() -> int:
    lines = ["# Reference runs beside the thesis's tables", "",
             "Generated by `python -m eval.thesis_tables` from `results/reference/` (written by "
             "`python scripts/reference.py`). Reference scale: 16,000 / 2,000 / 2,000 patches, 8 kHz, 0.25 s; "
             "the thesis: 100,000 / 20,000 / 20,000, 44.1 kHz, 1 s. Read rankings and baselines, not absolute values, "
             "across the two.", ""]
    from vae.presets import OBJECTIVES

    for objective in [o for o in OBJECTIVES if (RESULTS / o).is_dir()]:  # The named objectives that have runs.
        lines += [f"## Objective: {objective}", ""]
        for title, cases in EXPERIMENTS.items():
            lines += [f"### {title}", ""] + experiment_tables(objective, cases)
        compare = RESULTS / objective / "compare.md"
        if compare.exists():
            lines += [f"Kruskal–Wallis tests and the full comparison: [{objective}/compare.md]"
                      f"(reference/{objective}/compare.md).", ""]
    (ROOT / "results" / "tables.md").write_text("\n".join(lines))
    print(f"wrote {ROOT / 'results' / 'tables.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
