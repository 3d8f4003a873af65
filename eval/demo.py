"""The main job (`make demo`): train a VAE that learns, evaluate it against its baselines, summarize.

Trains Experiment 1's model (synth outside the model, SCLP on MFCC) at the quick scale (2,000
patches at 8 kHz, 0.25 s) with the 'improved' objective into runs/demo, then evaluates it
(`eval.pipeline`; FAD with CDPAM on FAD_SOUNDS sounds per set when the fad extra is installed, VGGish
and PANNs when their weights are there) and prints a one-sentence verdict and the model against the
mean patch, an untrained model and shuffled sounds. The thesis's own objective
(KL weight 1) collapses to the mean patch on this data (results/README.md); the improved one keeps the
thesis's architecture, data and loss and weighs the KL by 0.01. The quick scale has 6 steps per epoch,
so the learning rate is 1e-3 (the thesis's 1e-4 needs about ten times the epochs). A few minutes on
2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval import baselines
from eval.tables import format_value
from vae.help import Parser

DEMO_RUN_DIR = Path("runs") / "demo"
FAD_SOUNDS = 32  # Sounds per FAD set: CDPAM embeds ~0.4 s of audio per second on 2 cores.
TRAIN_FLAGS = ("--scale", "quick", "--objective", "improved", "--loss", "sclp", "--feature", "mfcc", "--lr", "1e-3",
               "--max-epochs", "400", "--patience", "30")


def summary(metrics: dict) -> list[str]:
    """The lines the demo ends with: the verdict, each metric of the model beside the baselines', and the latent
    space."""
    b = metrics["baselines"]
    header = f"{'metric':42s}" + "".join(f"{c:>13s}" for c in baselines.COLUMNS) + "  verdict"
    lines = [f"Verdict: {baselines.verdict_sentence(b)}", "", header, "-" * len(header)]
    for label, values in baselines.table_rows(b):
        *numbers, verdict = values
        lines.append(f"{label:42s}" + "".join(f"{format_value(v, '{:.4g}'):>13s}" for v in numbers) + f"  {verdict}")
    p = b["parameters"]
    lines.append(f"active latent units: {p['model']['active_units']} of {metrics['run']['latent_dim']} "
                 f"(total KL {p['model']['kl_total']:.3g} nats); best linear code of that width: parameter error "
                 f"{p['linear_code']['param_error']:.4g}")
    return lines


def fad_line(metrics: dict) -> str:
    """FAD on the test set per network beside its baselines, or why it was not computed."""
    fad = metrics["fad"]
    if not fad["scores"]:
        return f"FAD: {fad['status']}"
    return "FAD on the test set (lower is better): " + "; ".join(
        f"{name} {score:.4g} (mean patch {fad['baselines']['mean_patch'][name]:.4g}, other real sounds "
        f"{fad['baselines']['other_real_sounds'][name]:.4g})" for name, score in fad["scores"]["test"].items()) \
        + f", {metrics['settings']['fad_sounds']} sounds per set"


def main(argv: list[str] | None = None) -> int:
    """Trains, evaluates and summarizes the demo run (see the module doc)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEMO_RUN_DIR), help="run directory (replaced if it holds a run)")
    args = parser.parse_args(argv)
    from eval.cli import evaluate_main
    from vae.cli import train_main

    out = Path(args.out)
    flags = [*TRAIN_FLAGS, "--out", str(out), "--overwrite"]
    print("$ scripts/train.py", " ".join(flags), flush=True)
    code = train_main(flags)
    if code != 0:
        return code
    flags = [str(out), "--no-download", "--fad-sounds", str(FAD_SOUNDS)]
    print("$ scripts/evaluate.py", " ".join(flags), flush=True)
    code = evaluate_main(flags)
    if code != 0:
        return code
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    print(f"\n{metrics['run']['case'] or 'Experiment 1 model'}, improved objective, "
          f"{metrics['run']['checkpoint']} checkpoint (step {metrics['run']['step']}), "
          f"{metrics['spectral']['n']} test patches:")
    print("\n".join(summary(metrics)))
    print(f"\nreport (tables, figures, WAVs linked): {out / 'eval' / 'report.md'}")
    print(f"loss curve with diagnostics: {out / 'loss_curve.png'}; sounds: {out / 'eval' / 'sounds'}")
    print(fad_line(metrics))
    return 0
