"""Every loader turns damage into one named error, exit 2 (issue 21, probes 4 and 5): a wrong-typed or changed
config.json on --resume, truncated checkpoint data on evaluate, a metrics.json that is `[]`, `compare.py RUN RUN`,
`compare.py --out x.json` (its markdown overwritten by its JSON), and reference.py's results folder with the
user's files in it (deleted before)."""

import json
import shutil
from pathlib import Path

import pytest
from tests.checkout import run_cli

from eval import cli as eval_cli
from eval import reference
from vae import cli, run, run_files


def _copy(tiny_run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(tiny_run, out)
    return out


def _edit_config(out: Path, edit) -> None:
    path = run_files.RunPaths(out).config
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _resume(out: Path, capsys) -> tuple[int, str]:
    code = cli.train_main(["--resume", "--out", str(out), "--quiet"])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("field, value, words", [
    ("latent_dim", "8", "RunConfig.model: ModelConfig.latent_dim: expected int, got str"),
    ("hidden", 64, "ModelConfig.hidden: expected list, got int"),
    ("n_params", True, "ModelConfig.n_params: expected int, got bool"),
])
def test_a_wrong_typed_config_is_named_on_resume(tiny_run, tmp_path, capsys, field, value, words):
    out = _copy(tiny_run, tmp_path)
    _edit_config(out, lambda doc: doc["model"].update({field: value}))
    code, err = _resume(out, capsys)
    assert code == 2 and f"{run_files.RunPaths(out).config} is damaged" in err and words in err
    assert "Traceback" not in err


def test_a_config_changed_since_the_checkpoint_is_named_on_resume(tiny_run, tmp_path, capsys):
    out = _copy(tiny_run, tmp_path)
    _edit_config(out, lambda doc: doc["model"].update(hidden=[doc["model"]["hidden"][0] + 3]))
    before = run_files.RunPaths(out).metrics.read_text()
    code, err = _resume(out, capsys)
    assert code == 2 and "could not be read" in err and "config.json was changed" in err
    assert str(out / "checkpoints" / "latest") in err and "Traceback" not in err
    assert run_files.RunPaths(out).metrics.read_text() == before


def test_truncated_checkpoint_data_is_named_on_evaluate(tiny_run, tmp_path, capsys):
    out = _copy(tiny_run, tmp_path)
    for path in (out / "checkpoints" / "best").rglob("*"):
        if path.is_file() and "params" in path.parts and path.stat().st_size > 64:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(run_files.RunFileError, match="could not be read"):
        run.load_run(out)
    code = eval_cli.evaluate_main([str(out), "--no-fad", "--quiet", "--out", str(tmp_path / "eval")])
    err = capsys.readouterr().err
    assert code == 2 and str(out / "checkpoints" / "best") in err and "is damaged" in err
    assert "Traceback" not in err and not (tmp_path / "eval").exists()


def _compare(argv, capsys) -> tuple[int, str]:
    return run_cli(eval_cli.compare_main, argv, capsys)


def test_compare_names_a_metrics_json_that_is_not_an_evaluation(tmp_path, capsys):
    for name, text in (("a", "[]"), ("b", "{}"), ("c", '{"spectral": {"files": {}}}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(text)
    for name in ("a", "b", "c"):
        code, err = _compare([str(tmp_path / name), str(tmp_path / "b"), "--out", str(tmp_path / "x.md")], capsys) \
            if name != "b" else _compare([str(tmp_path / "b"), str(tmp_path / "a"), "--out", str(tmp_path / "x.md")],
                                         capsys)
        assert code == 2 and str(tmp_path / name / "metrics.json") in err and "evaluate.py" in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "x.md").exists()


def test_compare_refuses_the_same_run_twice(tmp_path, capsys):
    (tmp_path / "run" / "eval").mkdir(parents=True)
    (tmp_path / "run" / "eval" / "metrics.json").write_text("{}")
    code, err = _compare([str(tmp_path / "run"), str(tmp_path / "run" / "eval"), "--out", str(tmp_path / "c.md")],
                         capsys)
    assert code == 2 and "are the same evaluation" in err


def test_compare_outputs_have_distinct_names(tmp_path, capsys):
    code, err = _compare(["a", "b", "--out", str(tmp_path / "x.json")], capsys)
    assert code == 2 and f"--out {tmp_path / 'x.json'}" in err and "a name of its own" in err
    assert list(tmp_path.iterdir()) == []


def test_reference_keeps_the_users_files_in_a_results_folder(tmp_path):
    runs, results = tmp_path / "runs", tmp_path / "results"
    case = reference.plan(["Exp1-SCLP"], ["thesis"], runs, results)[0]
    (case.run_dir / "eval").mkdir(parents=True)
    (case.run_dir / "config.json").write_text("{}")
    (case.run_dir / "metrics.jsonl").write_text(json.dumps({"phase": 0, "epoch": 1, "step": 3}) + "\n")
    (case.run_dir / "eval" / "metrics.json").write_text('{"new": 1}')
    (case.run_dir / "eval" / "report.md").write_text("new report")
    (case.results_dir / "eval").mkdir(parents=True)
    (case.results_dir / "notes.txt").write_text("mine")
    (case.results_dir / "eval" / "my_analysis.csv").write_text("a,b\n")
    (case.results_dir / "eval" / "report.md").write_text("old report")  # A previous keep's: replaced.
    reference.keep_results(case)
    assert (case.results_dir / "notes.txt").read_text() == "mine"
    assert (case.results_dir / "eval" / "my_analysis.csv").read_text() == "a,b\n"
    assert (case.results_dir / "eval" / "report.md").read_text() == "new report"
    assert case.evaluated and [p.name for p in results.joinpath("thesis").iterdir()] == ["Exp1-SCLP"]
