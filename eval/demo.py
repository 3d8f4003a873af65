"""The main job (`make demo`): train a timbre space, evaluate it against its baselines, summarize.

Trains the timbre objective (`TRAIN_SETTINGS`; `--objective timbre`: an encoder that hears each patch's sound, latent
distances held to sound distances, a decoder to the synth's parameters; results/timbre.md) at the
audible scale (10,000 patches at 16 kHz, 1 s) for at most `EPOCHS` epochs into runs/demo, evaluates it
(`eval.pipeline`; the spectral tables on `TEST_LIMIT` test sounds, the organization measure on 1,000) and
prints a one-sentence verdict, the model beside the mean patch, an untrained model and shuffled sounds,
and, for the latent space, beside the raw parameters, their PCA and MFCC statistics (time: README). FAD is
left out unless asked for (`--fad-sounds N`): CDPAM embeds about 0.4 s of audio per second on 2 cores, so even
32 one-second sounds per set add minutes.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval import baselines, organization
from eval.tables import format_value
from common.help import Parser, bounded

DEMO_RUN_DIR = Path("runs") / "demo"
EPOCHS = 60  # Where the validation objective has mostly flattened at this scale (results/timbre.md).
TEST_LIMIT = 300  # Test sounds of the spectral tables (each rendered four times at 16 kHz x 1 s).
TRAIN_SETTINGS = {"objective": "timbre", "scale": "audible", "max_epochs": EPOCHS}  # `vae.settings.resolve`.


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
    lines += ["", *organization.summary_lines(metrics.get("organization", {}), b)]
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
    parser.add_argument("--fad-sounds", type=bounded(int, 2), metavar="N",
                        help="also compute FAD (CDPAM, when the fad extra is installed) on N sounds per set (minutes)")
    args = parser.parse_args(argv)
    from eval.cli import evaluate_run
    from eval.settings import EvalConfig
    from vae import cli, settings

    out = Path(args.out)
    resolved = settings.resolve(TRAIN_SETTINGS)
    print(f"training {out} (replacing a run there):", flush=True)
    code = cli.train_or_resume(out, resolved, progress=True, overwrite=True)
    if code != 0:
        return code
    cfg = EvalConfig(test_limit=TEST_LIMIT, download=False, fad=args.fad_sounds is not None,
                     fad_sounds=args.fad_sounds or EvalConfig.fad_sounds)
    print(f"evaluating {out}: {TEST_LIMIT} test sounds, "
          f"{f'FAD on {args.fad_sounds} sounds per set' if args.fad_sounds else 'no FAD'}", flush=True)
    code = evaluate_run(out, cfg)
    if code != 0:
        return code
    metrics = json.loads((out / "eval" / "metrics.json").read_text())  # As written: plain JSON values.
    print(f"\ntimbre space ({metrics['run']['case'] or 'timbre objective'}), "
          f"{metrics['run']['checkpoint']} checkpoint (step {metrics['run']['step']}), "
          f"{metrics['spectral']['n']} test patches:")
    print("\n".join(summary(metrics)))
    print(f"\nreport (tables, figures, WAVs linked): {out / 'eval' / 'report.md'}")
    print(f"loss curve with diagnostics: {out / 'loss_curve.png'}; sounds: {out / 'eval' / 'sounds'}")
    print(f"explore it: scripts/explore.py {out}  (or scripts/explore.py alone: the shipped model)")
    print(fad_line(metrics) if args.fad_sounds else
          f"FAD: left out of the demo; scripts/demo.py --fad-sounds 32 or scripts/evaluate.py {out} --fad-sounds 32 "
          "computes it with CDPAM (minutes)")
    return 0
