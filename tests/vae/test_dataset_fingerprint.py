"""Datasets are immutable once a run uses them (issue 21, probes 3 and 5): make_dataset.py refuses to overwrite
without --overwrite; a run records its dataset's fingerprint (names, seed, counts, SHA-256 of the patches) and
refuses to resume or evaluate on another; --check refuses complex values; damaged .npz / .json files are one
named error."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from eval import cli as eval_cli
from vae import cli, data, run, run_files


def _make(argv, capsys) -> tuple[int, str]:
    code = cli.make_dataset_main([*argv, "--quiet"])
    return code, capsys.readouterr().err


def test_make_dataset_refuses_to_overwrite_without_the_flag(tmp_path, capsys):
    flags = ["--n-patches", "16", "--split", "12", "2", "2", "--out", str(tmp_path / "d")]
    assert _make(flags, capsys)[0] == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, err = _make([*flags, "--seed", "1"], capsys)
    assert code == 2 and "already exist" in err and "--overwrite" in err and str(tmp_path / "d.npz") in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert _make([*flags, "--seed", "1", "--overwrite"], capsys)[0] == 0
    assert data.load(tmp_path / "d.npz", progress=False).seed == 1


def _run_on(tiny_run: Path, tmp_path: Path, dataset: data.Dataset) -> Path:
    """A copy of the tiny run whose config.json points at `dataset`, saved under tmp_path."""
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    npz, _ = data.save(dataset, tmp_path / "data" / "d", progress=False)
    doc = json.loads(run_files.RunPaths(out).config.read_text())
    doc["dataset_path"] = str(npz)
    run_files.RunPaths(out).config.write_text(json.dumps(doc))
    return out


def _swapped(original: data.Dataset, how: str) -> data.Dataset:
    if how == "seed":
        config = data.DataConfig(sum(original.counts.values()), tuple(original.counts.values()), original.seed + 1)
        return data.generate(config)
    train = original.train.copy()
    train[3, 5] = 1.0 - train[3, 5]  # Same names, seed and counts; one patch differs.
    return data.Dataset(original.names, original.fixed, train, original.val, original.test, original.seed)


@pytest.mark.parametrize("how", ["seed", "one_value"])
def test_a_swapped_dataset_is_refused_on_evaluate_and_resume(tiny_run, tmp_path, capsys, how):
    config = run_files.load_config(tiny_run)
    original = data.load(config.dataset_path, progress=False)
    assert config.dataset_sha256 == data.fingerprint(original)
    out = _run_on(tiny_run, tmp_path, _swapped(original, how))
    words = "seed 1 instead of 0" if how == "seed" else "SHA-256 fingerprint differs"
    with pytest.raises(data.DatasetError, match=words):
        run.load_run(out)
    code = eval_cli.evaluate_main([str(out), "--no-fad", "--quiet", "--out", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 2 and "not the dataset the run was trained on" in err and words in err
    assert not (tmp_path / "eval").exists()
    before = run_files.RunPaths(out).metrics.read_text()
    code = cli.train_main(["--resume", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err
    assert run_files.RunPaths(out).metrics.read_text() == before


def test_check_refuses_complex_values(tmp_path, capsys):
    npz, _ = data.save(data.generate(data.DataConfig(8, (6, 1, 1))), tmp_path / "good", progress=False)
    arrays = dict(np.load(npz))
    arrays["train"] = arrays["train"].astype(np.complex64) + 0.5j
    np.savez(tmp_path / "complex.npz", **arrays)
    code, err = _make(["--check", str(tmp_path / "complex.npz")], capsys)
    assert code == 2 and "complex64" in err and str(tmp_path / "complex.npz") in err


@pytest.mark.parametrize("defect", ["corrupt", "counts_scalar", "seed_text", "json_no_parameters",
                                    "json_counts_list"])
def test_damaged_dataset_files_are_one_named_error(tmp_path, capsys, defect):
    npz, js = data.save(data.generate(data.DataConfig(8, (6, 1, 1))), tmp_path / "good", progress=False)
    arrays, doc = dict(np.load(npz)), json.loads(js.read_text())
    path = tmp_path / ("bad.json" if defect.startswith("json") else "bad.npz")
    if defect == "corrupt":  # Bytes in the middle of an array flipped: the zip's CRC check fails on reading it.
        raw = bytearray(npz.read_bytes())
        middle = raw.index(b"train.npy") + 200
        raw[middle:middle + 16] = bytes(255 - b for b in raw[middle:middle + 16])
        path.write_bytes(bytes(raw))
    elif defect in ("counts_scalar", "seed_text"):
        arrays.update(counts=np.array(6)) if defect == "counts_scalar" else arrays.update(seed=np.array("zero"))
        np.savez(path, **arrays)
    else:
        doc.pop("parameters") if defect == "json_no_parameters" else doc.update(counts=[6, 1, 1])
        path.write_text(json.dumps(doc))
    code, err = _make(["--check", str(path)], capsys)
    assert code == 2 and str(path) in err and "Traceback" not in err and err.count("\n") == 1
