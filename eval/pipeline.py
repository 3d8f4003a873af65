"""The whole evaluation of one trained run (thesis 4.2 and chapter 5), written to RUN_DIR/eval/.

Stages (each timed):
  load          run config, checkpoint and dataset (`vae.run.load_run`)
  reconstruct   encode/decode the test set (optionally its first `test_limit` rows) and a
                `train_fraction` subset of the training set (rows drawn with `seed`)
  embedders     load VGGish, PANNs and CDPAM; a missing checkpoint or extra skips that network's FAD
  test_set      render both audio sets batch by batch -> per-example spectral errors and embeddings
                (of the first `fad_sounds` sounds)
  train_subset  render the training subset batch by batch -> embeddings (only when FAD runs)
  fad           the mean patch's sounds embedded; Fréchet distances of the embedding sets, and of
                the baselines: the mean patch's sounds and other real sounds (the training subset's
                originals) against the test set's originals
  clustering    encoder means of a `cluster_fraction` training subset -> UMAP -> DBSCAN -> DBCV
  figures_sounds  UMAP, cluster spectra, interpolation, reconstructions, L1 distributions; WAVs
  report        metrics.json and report.md

Memory: audio is never held as a set, only one batch of each of the two sets at a time
(see `eval.reconstruct`); what is kept is O(n) per-example errors, the embeddings
(VGGish 128 floats per 0.96 s, PANNs 2048 per clip, per set and network) and the patches.
The feature transforms of one batch dominate the peak: at the thesis scale (44.1 kHz, 1 s,
the CQT's 32768-point frames) a batch of 64 peaked at 2.9 GB resident (16: 1.1 GB) and took
6.2 s on 2 CPU cores for the three features.
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import time
from pathlib import Path
from typing import Optional

import jax
import numpy as np
from tqdm.auto import tqdm

from eval import baselines, frechet, organization, report, showcase, spectral_metrics
from eval.clustering import MIN_POINTS, LatentClustering, cluster_training_latents
from eval.embeddings.registry import EMBEDDING_MODELS
from eval.outputs import OutputDir, write_json, write_text
from eval.reconstruct import (Reconstruction, audio_batches, limit_indices, make_voice, reconstruct_split,
                              subset_indices, subset_size)
from eval.settings import SEED_OFFSETS, EvalConfig  # noqa: F401 - EvalConfig is exported here too
from vae import run as run_lib
from vae import run_files

class StageTimer:
    """Accumulates wall-clock seconds per stage name: `with timer.stage("fad"): ...`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def total(self) -> float:
        return float(sum(self.seconds.values()))


def _pick(n: int, count: int, seed: int) -> np.ndarray:
    """`count` distinct sorted positions of range(n) (all when n <= count), drawn with seed."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(count, n), replace=False))


def _positions(rec: Reconstruction, split_indices, flag: str) -> np.ndarray:
    """Positions in rec of test-set indices (an error names the flag if one was not evaluated)."""
    where = {int(i): p for p, i in enumerate(rec.indices)}
    missing = [int(i) for i in split_indices if int(i) not in where]
    if missing:
        raise ValueError(f"{flag}: test indices {missing} are not among the {len(rec)} evaluated test patches")
    return np.array([where[int(i)] for i in split_indices])


def _stream_set(voice, run, rec: Reconstruction, cfg: EvalConfig, models: dict, spectral: bool,
                embed_true: bool = True):
    """Renders rec batch by batch; returns (per-batch spectral errors, {net: [true emb]}, {net: [recon emb]},
    per-batch `baselines.sound_measures`). Only the first `cfg.fad_sounds` sounds are embedded (the originals
    only when embed_true)."""
    errors, true_emb, recon_emb, measures = [], {m: [] for m in models}, {m: [] for m in models}, []
    sample_rate = run.synth_config.sample_rate
    feature_cfg = run.config.loss.feature_config
    left = len(rec) if cfg.fad_sounds is None else cfg.fad_sounds
    for batch in audio_batches(voice, run, rec, cfg.batch_size, cfg.progress):
        if spectral:
            errors.append(spectral_metrics.batch_errors(batch.true, batch.recon, feature_cfg, pad_to=cfg.batch_size))
            measures.append(baselines.sound_measures(batch.true, batch.recon, feature_cfg))
        if models and left > 0:
            for side, out in ((batch.true, true_emb), (batch.recon, recon_emb))[0 if embed_true else 1:]:
                for name, emb in frechet.embed_batch(side[:left], sample_rate, models).items():
                    out[name].append(emb)
            left -= len(batch.true)
    return errors, true_emb, recon_emb, measures


def _load_embedders(cfg: EvalConfig, say) -> tuple[dict, dict]:
    """(networks, FAD record with status and skip messages) for the configuration."""
    if not cfg.fad:
        return {}, {"status": "disabled (--no-fad)", "skipped": {}, "scores": {}}
    models, skipped = frechet.load_embedders(cfg.weights_dir, cfg.download)
    if skipped:
        say(frechet.skipped_line(skipped))
    status = ("skipped (no embedding checkpoint found)" if not models
              else f"computed with {', '.join(models)} only" if skipped else "computed")
    return models, {"status": status, "skipped": skipped, "scores": {}}


def _spectral_record(errors: spectral_metrics.SpectralErrors, test: Reconstruction, feature_cfg,
                     out: OutputDir) -> dict:
    """Summary, settings and the per-example arrays (saved as .npy) of the test set's spectral errors."""
    out.npy("test_indices", "errors/test_indices.npy", test.indices)
    files = {}
    for name in spectral_metrics.METRIC_FEATURES:
        files[f"l1_{name}"] = out.npy(f"l1_{name}", f"errors/test_l1_{name}.npy", errors.l1[name])
        files[f"mse_{name}"] = out.npy(f"mse_{name}", f"errors/test_mse_{name}.npy", errors.mse[name])
    return {"settings": spectral_metrics.describe_settings(feature_cfg), "summary": errors.summary(), "n": len(test),
            "files": files}


def _clustering_record(latent: LatentClustering, cfg: EvalConfig, seeds: dict, out: OutputDir) -> dict:
    res = latent.result
    for key, name, array in zip(("cluster_indices", "cluster_mu", "umap", "labels"), run_files.MAP_FILES,
                                (latent.indices, latent.mu, res.embedding, res.labels)):
        out.npy(key, f"{run_files.MAP_FOLDER.name}/{name}", array)
    return {"status": "computed", "fraction": cfg.cluster_fraction, "seed_subset": seeds["cluster_subset"],
            "n_points": len(latent.indices), "n_clusters": res.n_clusters, "n_noise": res.n_noise, "dbcv": res.dbcv,
            "config": dataclasses.asdict(latent.config), "requested_n_neighbors": cfg.clustering.n_neighbors}


def _run_record(run: run_lib.LoadedRun, run_dir: Path) -> dict:
    synth = run.synth_config
    return {"dir": str(run_dir), "case": run.config.case, "scale": run.config.scale, "objective": run.config.objective,
            "encoder_reads": "sound (log-mel frames)" if run_lib.hears_audio(run) else "parameters",
            "spectral_term": any(p.spectral for p in run.config.phases),
            "checkpoint": run.which,
            "step": run.step, "loss": run.config.loss.spectral, "feature": run.config.loss.feature,
            "synth_head": run.config.model.synth_head, "latent_dim": run.config.model.latent_dim,
            "sample_rate_hz": synth.sample_rate, "seconds": synth.buffer_size_seconds, "n_samples": synth.buffer_size,
            "noise_seed": run.config.noise_seed, "dataset": {"path": run.config.dataset_path, **run.dataset.counts}}


def _memory(cfg: EvalConfig, n_samples: int, n_test: int, embedding_rows: dict) -> dict:
    """What the evaluation holds at most, in MiB (float32 audio and embeddings), and what it avoids."""
    mib = 1.0 / 2 ** 20
    return {
        "audio_batch_mib": 2 * cfg.batch_size * n_samples * 4 * mib,
        "test_audio_if_held_whole_mib": 2 * n_test * n_samples * 4 * mib,
        "embeddings_mib": {m: 2 * sum(rows[m] for rows in embedding_rows.values()) * EMBEDDING_MODELS[m].dim * 4
                              * mib
                           for m in next(iter(embedding_rows.values()), {})},
    }


def _baselines(run, voice, test: Reconstruction, errors, measures: list, latent: Optional[LatentClustering],
               cfg: EvalConfig) -> dict:
    """The model's numbers beside those of the `eval.baselines` on the same test patches."""
    record = {"descriptions": dict(baselines.BASELINES),
              "parameters": baselines.parameter_record(run, test.x),
              "spectral": {"model": errors.summary()},
              "sound": {"model": baselines.summarize_measures(baselines.concatenate_measures(measures))}}
    for name, rec in baselines.predictions(run, test).items():
        batches, _, _, sound = _stream_set(voice, run, rec, cfg, {}, spectral=True)
        record["spectral"][name] = spectral_metrics.concatenate(batches).summary()
        record["sound"][name] = baselines.summarize_measures(baselines.concatenate_measures(sound))
    if latent is not None:
        record["clustering"] = baselines.clustering_record(run, latent.x, latent.config)
    return record


def _examples(run, voice, test: Reconstruction, errors, latent: Optional[LatentClustering], cfg: EvalConfig,
              seeds: dict, out: OutputDir) -> dict:
    """Every figure and WAV (`eval.showcase`); returns what was drawn."""
    record = {"l1_figure": showcase.error_figure(run, errors, len(test), out)}
    positions = (_positions(test, cfg.example_indices, "--example-indices") if cfg.example_indices
                 else _pick(len(test), cfg.n_examples, seeds["examples"]))
    record["reconstructions"] = showcase.reconstruction_examples(run, voice, test, errors, positions, cfg.batch_size,
                                                                 out)
    if len(test) >= 2:
        pair = (_positions(test, cfg.interpolation_pair, "--interpolation-pair") if cfg.interpolation_pair
                else np.random.default_rng(seeds["interpolation"]).choice(len(test), size=2, replace=False))
        record["interpolation"] = showcase.interpolation_example(run, voice, test, pair, cfg.interpolation_steps,
                                                                 cfg.batch_size, out)
    if latent is not None:
        record["clusters"] = showcase.cluster_examples(run, voice, latent, cfg.n_clusters_shown, cfg.fft_per_cluster,
                                                       cfg.sounds_per_cluster, seeds["clusters"], cfg.batch_size, out)
    return record


def evaluate(run_dir: str | Path, cfg: EvalConfig = EvalConfig(), out_dir: str | Path | None = None) -> dict:
    """Evaluates the run in run_dir; writes everything under out_dir (default RUN_DIR/eval); returns the metrics."""
    run_dir = Path(run_dir)
    timer, seeds = StageTimer(), cfg.seeds()
    say = tqdm.write if cfg.progress else (lambda *_: None)

    with timer.stage("load"):
        run = run_lib.load_run(run_dir, cfg.which)
        voice = make_voice(run)
    out = OutputDir(run_dir / run_files.MAP_FOLDER.parent if out_dir is None else out_dir)  # Once the run loaded.
    dataset = run.dataset
    say(f"evaluating {run_dir} ({cfg.which} checkpoint, step {run.step}): {run.synth_config.sample_rate} Hz x "
        f"{run.synth_config.buffer_size_seconds} s, {len(dataset.test)} test patches")

    with timer.stage("reconstruct"):
        test = reconstruct_split(run, "test", dataset.test, limit_indices(len(dataset.test), cfg.test_limit))
        train_subset = None
        if cfg.fad:
            rows = subset_indices(len(dataset.train), cfg.train_fraction, seeds["train_subset"])[:cfg.fad_sounds]
            train_subset = reconstruct_split(run, "train_subset", dataset.train, rows)

    with timer.stage("embedders"):
        models, fad = _load_embedders(cfg, say)

    with timer.stage("test_set"):
        batches, test_true, test_recon, measures = _stream_set(voice, run, test, cfg, models, spectral=True)
    errors = spectral_metrics.concatenate(batches)
    if models:
        with timer.stage("train_subset"):
            _, train_true, train_recon, _ = _stream_set(voice, run, train_subset, cfg, models, spectral=False)
        with timer.stage("fad"):
            mean_patch = baselines.predictions(run, test)["mean_patch"]
            n = len(mean_patch) if cfg.fad_sounds is None else min(cfg.fad_sounds, len(mean_patch))
            mean_patch = Reconstruction("mean_patch", mean_patch.indices[:n], mean_patch.x[:n], mean_patch.x_hat[:n],
                                        None)
            _, _, mean_emb, _ = _stream_set(voice, run, mean_patch, cfg, models, spectral=False, embed_true=False)
            fad["scores"] = {"train_subset": frechet.fad_scores(train_true, train_recon),
                             "test": frechet.fad_scores(test_true, test_recon)}
            # What the test number reads against: a collapsed model, and real sounds of the same distribution.
            fad["baselines"] = {"mean_patch": frechet.fad_scores(test_true, mean_emb),
                                "other_real_sounds": frechet.fad_scores(test_true, train_true)}
        fad["embedding_rows"] = {s: {m: sum(len(e) for e in emb[m]) for m in models}
                                 for s, emb in (("test", test_true), ("train_subset", train_true))}
        del test_true, test_recon, train_true, train_recon, mean_emb

    latent, n_points = None, subset_size(len(dataset.train), cfg.cluster_fraction)
    if n_points < MIN_POINTS:
        clustering = {"status": f"skipped: {n_points} training latents (fraction {cfg.cluster_fraction}) are fewer "
                                f"than {MIN_POINTS}", "fraction": cfg.cluster_fraction}
        say(f"clustering {clustering['status']}")
    else:
        with timer.stage("clustering"):
            latent = cluster_training_latents(run, cfg.cluster_fraction, seeds["cluster_subset"], cfg.clustering)
        clustering = _clustering_record(latent, cfg, seeds, out)

    with timer.stage("baselines"):
        baseline_record = _baselines(run, voice, test, errors, measures, latent, cfg)

    with timer.stage("organization"):
        # Its own draw of sounds (the first test patches, up to its max_sounds), whatever --test-limit says.
        organization_record = organization.organization(run, voice, dataset.test, cfg.organization, cfg.batch_size)

    with timer.stage("figures_sounds"):
        examples = _examples(run, voice, test, errors, latent, cfg, seeds, out)

    metrics = {
        "run": _run_record(run, run_dir),
        "settings": {**{k: v for k, v in dataclasses.asdict(cfg).items() if k != "progress"}, "seeds": seeds,
                     "fad_min_seconds": frechet.MIN_SECONDS},
        "sets": {"test": {"n": len(test), "of": len(dataset.test)},
                 "train_subset": {"n": 0 if train_subset is None else len(train_subset), "of": len(dataset.train),
                                  "fraction": cfg.train_fraction, "seed": seeds["train_subset"]}},
        "baselines": baseline_record,
        "organization": organization_record,
        "fad": fad,
        "spectral": _spectral_record(errors, test, run.config.loss.feature_config, out),
        "clustering": clustering,
        "examples": examples,
        "memory": _memory(cfg, run.synth_config.buffer_size, len(test), fad.get("embedding_rows", {})),
        "environment": {"jax_backend": jax.default_backend(), "python": platform.python_version()},
    }
    metrics["timings_s"] = dict(timer.seconds)
    metrics["files"] = dict(out.recorded, metrics="metrics.json", report="report.md")
    with timer.stage("report"):
        write_json(out.root / "metrics.json", metrics)
        write_text(out.root / "report.md", report.markdown(metrics))
    metrics["timings_s"]["report"] = timer.seconds["report"]
    write_json(out.root / "metrics.json", metrics)  # With the report stage's own time.
    say(f"wrote {out.root / 'report.md'} and {out.root / 'metrics.json'} ({timer.total():.1f} s)")
    return metrics
