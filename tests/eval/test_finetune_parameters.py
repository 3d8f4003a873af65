"""eval.finetune_parameters: which parameters fine-tuning moves, from a run's metrics.jsonl."""

import json

import numpy as np
import pytest

from eval import finetune_parameters as script
from vae import data, run_files, settings
from vae.data import parameter_subset


def _two_phase_run(folder, names):
    """A run directory whose pretraining is best at epoch 2 and fine-tuning at epoch 1 of its phase."""
    resolved = settings.resolve({"case": "Exp2-SCLP-ts", "objective": "improved-pretrained", "scale": "tiny"})
    dataset = data.generate(data.DataConfig(16, (8, 4, 4)))
    run_files.write_config(folder, settings.build_config(resolved, dataset, folder / "d.npz"))
    k = len(names)
    rows = []
    for phase, errors, best in (("pretrain", [0.08, 0.06, 0.07], 2), ("finetune", [0.05, 0.09], 1)):
        for epoch, e in enumerate(errors, 1):
            per_param = np.full(k, e)
            if phase == "finetune":
                per_param[names.index("keyboard/midi_f0")] = 0.2  # Fine-tuning hurts pitch, helps the rest.
            rows.append({"phase": int(phase == "finetune"), "phase_name": phase, "epoch": epoch, "step": 10 * epoch,
                         "best_epoch": best, "val/per_param": list(per_param),
                         "val/per_param_mean_patch": [1 / 12] * k, "val/param_error": float(per_param.sum()),
                         "val/mean_patch_error": k / 12})
    (folder / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def test_finetune_parameters_compares_the_best_epochs_of_both_phases(tmp_path, capsys):
    names = parameter_subset().names
    run = _two_phase_run(tmp_path / "run", names)
    assert script.main([str(run), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{0.06 * 63:.4f} at pretraining's best epoch (2)" in out
    assert f"{0.05 * 62 + 0.2:.4f} at fine-tuning's best epoch (1)" in out and "62 of 63 parameters improved" in out
    assert "| pitch | 3 | 0.1800 | 0.3000 | +0.1200 |" in out  # midi_f0 +0.14, two tunings -0.01 each
    assert "| mixer levels | 3 | 0.1800 | 0.1500 | -0.0300 |" in out
    groups = [line for line in out.splitlines() if line.startswith("| ") and line.count("|") == 6][1:6]
    assert sum(int(line.split("|")[2]) for line in groups) == 63  # Each parameter in exactly one group.
    assert "| keyboard/midi_f0 | 0.0833 | 0.0600 | 0.2000 | +0.1400 |" in out


def test_finetune_parameters_refuses_a_run_without_pretraining(tmp_path, capsys):
    run = _two_phase_run(tmp_path / "run", parameter_subset().names)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows if r["phase_name"] == "finetune"))
    for bad, message in ((run, "no 'pretrain' epochs"), (tmp_path / "nowhere", "not a run directory")):
        with pytest.raises(SystemExit) as exit_info:
            script.main([str(bad)])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
