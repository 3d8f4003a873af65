"""vae.train: exact resume after crashes, NaN detection, data order; vae.steps: the schedule; vae.run loading API.

Runs here use phases without the spectral term (nothing is rendered) so they compile in seconds;
the spectral path is covered by test_models.py (gradients) and test_cli.py (a full run).
"""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from vae import models, run, run_files, steps, train
from vae.config import ScheduleConfig, from_json
from tests.vae.short_runs import run_weights, short_config, without_times


class Crash(Exception):
    pass


def _crash_at(step):
    def hook(s):
        if s == step:
            raise Crash(s)
    return hook


@pytest.mark.slow
def test_uninterrupted_run_layout(uninterrupted):
    out, result = uninterrupted
    assert result.step == 18  # 2 phases x 3 epochs x 48/16 steps.
    records = run_files.read_metrics(out)
    assert [(r["phase_name"], r["epoch"], r["step"]) for r in records] == [
        ("pretrain", 1, 3), ("pretrain", 2, 6), ("pretrain", 3, 9),
        ("second", 1, 12), ("second", 2, 15), ("second", 3, 18)]
    assert [r["lr"] for r in records[3:]] == pytest.approx([5e-4, 2.5e-4, 1.25e-4])
    paths = run_files.RunPaths(out)
    for path in (paths.config, paths.metrics, paths.metrics_csv, paths.curve):
        assert path.exists(), path
    assert run_files.load_config(out) == _config_from(out)


def test_appended_metrics_are_the_files_a_rewrite_writes(uninterrupted, tmp_path):
    out, result = uninterrupted
    run_files.write_metrics(tmp_path, result.metrics)  # What every epoch rewrote before metrics were appended.
    for name in ("metrics.jsonl", "metrics.csv"):
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def _config_from(out):
    return from_json(run_files.RunPaths(out).config.read_text())


@pytest.mark.slow
def test_resume_after_crashes_matches_uninterrupted_run(dataset_file, uninterrupted, tmp_path):
    straight, expected = uninterrupted
    out = tmp_path / "crashy"
    config = short_config(dataset_file)
    # Mid-epoch (latest at step 4), last step of a phase (latest at 8), mid phase 2 (latest at 12).
    with pytest.raises(Crash):
        train.train(config, out, dataset_file[0], show_progress=False, on_step=_crash_at(5))
    assert [r["step"] for r in run_files.read_metrics(out)] == [3]
    for crash in (9, 13):
        with pytest.raises(Crash):
            train.train(run_files.load_config(out), out, dataset_file[0], resume=True, show_progress=False,
                        on_step=_crash_at(crash))
    result = train.train(run_files.load_config(out), out, dataset_file[0], resume=True, show_progress=False)
    assert result.step == expected.step == 18
    assert without_times(run_files.read_metrics(out)) == without_times(run_files.read_metrics(straight))
    for which in ("best", "latest"):
        a, b = run_weights(out, which), run_weights(straight, which)
        assert jax.tree.all(jax.tree.map(lambda u, v: bool(jnp.array_equal(u, v)), a, b)), which
    again = train.train(run_files.load_config(out), out, dataset_file[0], resume=True, show_progress=False)
    assert again.step == 18  # A finished run resumes to "done" without training.


@pytest.mark.slow
def test_fresh_start_refuses_existing_run(dataset_file, uninterrupted):
    with pytest.raises(FileExistsError, match="resume"):
        train.train(short_config(dataset_file), uninterrupted[0], dataset_file[0], show_progress=False)


def test_nan_stops_with_step_terms_and_last_good_checkpoint(dataset_file, tmp_path):
    out = tmp_path / "nan"
    config = short_config(dataset_file, lr=1e30, checkpoint_every=1)
    with pytest.raises(train.NonFiniteLossError, match=r"non-finite loss at step (\d+).*bad terms: \[") as err:
        train.train(config, out, dataset_file[0], show_progress=False)
    failure = json.loads(run_files.RunPaths(out).failure.read_text())
    assert f"step {failure['step']} " in str(err.value)
    assert failure["bad_terms"] and failure["last_good_checkpoint_step"] == failure["step"] - 1
    good = run.load_run(out, "latest")
    assert good.step == failure["step"] - 1
    assert all(bool(jnp.all(jnp.isfinite(p))) for p in jax.tree.leaves(good.params))


@pytest.mark.slow
def test_load_run_api(uninterrupted):
    out, _ = uninterrupted
    loaded = run.load_run(out)
    assert loaded.which == "best" and loaded.synth_config.sample_rate == 4000
    assert loaded.subset.size == 63 and loaded.dataset.test.shape == (8, 63)
    x = loaded.dataset.test
    mu, logvar = run.encode(loaded, x)
    assert mu.shape == logvar.shape == (8, 8)
    rec = run.reconstruct(loaded, x)
    assert rec.shape == (8, 63) and rec.min() >= 0.0 and rec.max() <= 1.0
    np.testing.assert_array_equal(rec, run.decode(loaded, mu))
    raw = models.VAE(loaded.config.model).apply(loaded.params, jnp.asarray(mu), method="decode")
    np.testing.assert_allclose(rec, np.clip(raw, 0, 1), atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \[n, 63\]"):
        run.encode(loaded, x[:, :10])
    assert run.load_run(out, "latest").step == 18


def test_learning_rate_schedule_and_data_order():
    spec = steps.OptimizerSpec(1e-4, ScheduleConfig("step", decay_start=200, decay_every=100, decay_factor=0.5), 10)
    lrs = [float(steps.learning_rate(spec, e)) for e in (0, 199, 200, 299, 300, 450)]
    assert lrs == pytest.approx([1e-4, 1e-4, 5e-5, 5e-5, 2.5e-5, 1.25e-5])
    assert steps.learning_rate(dataclasses.replace(spec, schedule=ScheduleConfig()), 450) == 1e-4
    a, b = train.epoch_order(0, 0, 5, 100), train.epoch_order(0, 0, 5, 100)
    np.testing.assert_array_equal(a, b)
    assert sorted(np.asarray(a).tolist()) == list(range(100))
    assert not np.array_equal(a, train.epoch_order(0, 0, 6, 100))


def test_early_stopping_counts_epochs_without_strict_improvement():
    best, bad, history = None, 0, []
    for val in (5.0, 4.0, 4.0, 4.5, 3.0, 3.5, 3.5):
        improved, best, bad = train.early_stopping(best, bad, val)
        history.append((improved, best, bad))
    assert history == [(True, 5.0, 0), (True, 4.0, 0), (False, 4.0, 1), (False, 4.0, 2), (True, 3.0, 0),
                       (False, 3.0, 1), (False, 3.0, 2)]
