"""Which parameters the synth head's spectral gradient moves: per-parameter validation error at the best
epoch of parameter pretraining against the best epoch of synth-head fine-tuning, from a run's metrics.jsonl.

    python -m eval.finetune_parameters runs/reference/improved-pretrained/Exp2-SCLP-ts [RUN_DIR ...]

It needs the run directory (`scripts/reference.py` trains it there): the copies kept under
results/reference/ drop the per-parameter lists of metrics.jsonl. For each run: the parameter error from mu
(sum over parameters of the squared error in [0, 1], `vae.diagnostics`) at both epochs, its change
summed over groups of parameters (pitch, envelopes, mixer levels, LFOs, the rest) and the parameters
that gained and lost most. The mean patch's error of each parameter is beside it (1/12 ~ 0.083 for
a uniform parameter). Prints markdown.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from vae import run_files
from vae.presets import SPECTRAL_FROZEN_GROUPS

GROUPS = (("pitch", lambda n: n in SPECTRAL_FROZEN_GROUPS["pitch"]),
          ("envelopes (adsr)", lambda n: "adsr" in n),
          ("mixer levels", lambda n: n.startswith("mixer/")),
          ("LFOs", lambda n: n.startswith("lfo_")),
          ("the rest", lambda n: True))


def best_rows(run: Path) -> tuple[dict, dict]:
    """(pretraining's best epoch, fine-tuning's best epoch) records of a two-phase run's metrics.jsonl."""
    rows = [r for r in run_files.read_metrics(run) if "val/per_param" in r]
    best = []
    for phase in ("pretrain", "finetune"):
        in_phase = [r for r in rows if r.get("phase_name") == phase]
        if not in_phase:
            raise ValueError(f"{run} has no '{phase}' epochs with per-parameter errors: give a run directory "
                             "(runs/..., not its copy under results/, which drops them) trained with --pretrain-epochs")
        best.append(next(r for r in in_phase if r["epoch"] == in_phase[-1]["best_epoch"]))
    return best[0], best[1]


def report(run: Path, top: int) -> str:
    """Markdown: the run's per-group and per-parameter change from pretraining to fine-tuning."""
    names = run_files.load_config(run).free_names
    pre, fine = best_rows(run)
    a, b = np.asarray(pre["val/per_param"]), np.asarray(fine["val/per_param"])
    mean_patch = np.asarray(pre["val/per_param_mean_patch"])
    change = b - a
    lines = [f"### {run}", "",
             f"Validation parameter error: {pre['val/param_error']:.4f} at pretraining's best epoch "
             f"({pre['epoch']}), {fine['val/param_error']:.4f} at fine-tuning's best epoch ({fine['epoch']}); "
             f"mean patch {pre['val/mean_patch_error']:.4f}. {int((change < 0).sum())} of {len(names)} "
             "parameters improved.", "",
             "| group | parameters | error after pretraining | after fine-tuning | change |", "|---|---|---|---|---|"]
    left = np.ones(len(names), bool)
    for label, member in GROUPS:
        mask = left & np.array([member(n) for n in names])
        left &= ~mask
        lines.append(f"| {label} | {mask.sum()} | {a[mask].sum():.4f} | {b[mask].sum():.4f} | {change[mask].sum():+.4f} |")
    order = np.argsort(change)
    lines += ["", "| parameter | mean patch | after pretraining | after fine-tuning | change |", "|---|---|---|---|---|"]
    for i in [*order[:top], *order[-top:]]:
        lines.append(f"| {names[i]} | {mean_patch[i]:.4f} | {a[i]:.4f} | {b[i]:.4f} | {change[i]:+.4f} |")
    return "\n".join(lines + [""])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", type=Path, help="run directories (runs/..., not their copies under results/)")
    p.add_argument("--top", type=int, default=6, help="parameters listed at each end (default: 6)")
    args = p.parse_args(argv)
    try:
        print("\n".join(report(run, args.top) for run in args.runs))
    except (FileNotFoundError, ValueError) as e:  # run_files.RunFileError is a ValueError.
        p.error(str(e))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
