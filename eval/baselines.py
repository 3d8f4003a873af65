"""Reference points for every number an evaluation reports: what a model that learned nothing scores.

A metric without a reference point is not a result: a collapsed model (the mean patch for every
input) or a silent one can look best in the thesis's tables. Each evaluation therefore scores, on the
same test patches and with the same metrics as the model:

  mean_patch  the training mean patch for every test patch (what posterior collapse converges to);
  untrained   the same architecture with its initial weights (the run's seed);
  shuffled    another test patch (a fixed derangement): unrelated sounds of the same distribution,
              the ceiling of each spectral metric;

plus the best linear code of the latent width for the parameter error (`vae.diagnostics`), and, for
the clustering, UMAP + DBSCAN + DBCV of the raw parameters and of the untrained encoder's means
(the latent space must organize sounds better than the parameters themselves do).

Sound measures added for every prediction (`sound_measures`): the log-spectral distance (mean
|log(|STFT_t| + f) - log(|STFT_p| + f)|, f = 1e-5, n_fft/hop of the run's features), which a quiet or
silent prediction cannot game, and the RMS ratio prediction / target.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from eval import spectral_metrics
from eval.clustering import ClusteringConfig, cluster_latents, effective_config
from eval.reconstruct import Reconstruction
from spectral import features
from vae import diagnostics, models, sound_input
from vae import run as run_lib

BASELINES = {
    "mean_patch": "the training mean patch for every test patch (a collapsed model)",
    "untrained": "the same model with its initial weights",
    "shuffled": "another test patch's sound (unrelated sounds: the ceiling of each spectral metric)",
}
LOG_FLOOR = 1e-5  # Magnitude floor of the log-spectral distance.
SILENT_RMS = 1e-3  # A prediction quieter than this (RMS, full scale 1) counts as silent.
SHUFFLE_SEED = 7


def untrained_run(run: run_lib.LoadedRun) -> run_lib.LoadedRun:
    """The run with its model's initial weights (same config and seed as its training started from)."""
    return dataclasses.replace(run, params=models.init(run.config.model, run.config.seed), which="untrained", step=0)


def derangement(n: int, seed: int = SHUFFLE_SEED) -> np.ndarray:
    """A permutation of range(n) with no fixed point (n >= 2): a random permutation rolled by one."""
    perm = np.random.default_rng(seed).permutation(n)
    out = np.empty(n, np.int64)
    out[perm] = np.roll(perm, 1)
    return out


def predictions(run: run_lib.LoadedRun, test: Reconstruction) -> dict[str, Reconstruction]:
    """The baselines' predicted patches for the model's evaluated test patches (same rows, same order)."""
    x = test.x
    centre = diagnostics.mean_patch(run.dataset.train).astype(np.float32)
    untrained = untrained_run(run)
    mu, _ = run_lib.encode(untrained, x)
    shuffled = x[derangement(len(x))] if len(x) >= 2 else x
    return {
        "mean_patch": Reconstruction("mean_patch", test.indices, x, np.broadcast_to(centre, x.shape).copy(), None),
        "untrained": Reconstruction("untrained", test.indices, x, run_lib.decode(untrained, mu), np.asarray(mu)),
        "shuffled": Reconstruction("shuffled", test.indices, x, shuffled, None),
    }


@functools.partial(jax.jit, static_argnames=("cfg",))
def log_spectrum(audio, cfg: features.FeatureConfig):
    """log(|STFT| + LOG_FLOOR) of audio [..., n] -> [..., frames, bins]: the log-spectral distance's spectrum."""
    return jnp.log(features.magnitude(features.stft(audio, cfg)) + LOG_FLOOR)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _sound_measures(true_audio, pred_audio, cfg: features.FeatureConfig):
    lsd = jnp.mean(jnp.abs(log_spectrum(true_audio, cfg) - log_spectrum(pred_audio, cfg)), axis=(-2, -1))
    rms = lambda a: jnp.sqrt(jnp.mean(jnp.square(a), axis=-1))  # noqa: E731
    return lsd, rms(true_audio), rms(pred_audio)


def sound_measures(true_audio: np.ndarray, pred_audio: np.ndarray, cfg: features.FeatureConfig) -> dict[str, np.ndarray]:
    """Per example [b] of audio batches [b, n]: 'lsd' (log-spectral distance), 'rms_true', 'rms_pred'."""
    lsd, rms_t, rms_p = _sound_measures(jnp.asarray(true_audio), jnp.asarray(pred_audio), cfg)
    return {"lsd": np.asarray(lsd, np.float64), "rms_true": np.asarray(rms_t, np.float64),
            "rms_pred": np.asarray(rms_p, np.float64)}


def concatenate_measures(batches: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([b[k] for b in batches]) for k in ("lsd", "rms_true", "rms_pred")} if batches else {}


def summarize_measures(m: dict[str, np.ndarray]) -> dict[str, float]:
    """Set summary of `sound_measures`: log-spectral distance mean/median, median RMS ratio, silent fraction."""
    ratio = m["rms_pred"] / np.maximum(m["rms_true"], 1e-12)
    return {"lsd_mean": float(np.mean(m["lsd"])), "lsd_median": float(np.median(m["lsd"])),
            "rms_ratio_median": float(np.median(ratio)), "silent_fraction": float(np.mean(m["rms_pred"] < SILENT_RMS))}


def parameter_record(run: run_lib.LoadedRun, x: np.ndarray) -> dict:
    """Diagnostics (`vae.diagnostics`) of the model and of its untrained twin on patches x [n, k]."""
    inputs = sound_input.encoder_inputs(run.config, x)
    model = diagnostics.diagnose(run.config.model, run.params["params"], x, run.dataset.train, inputs)
    untrained = diagnostics.diagnose(run.config.model, untrained_run(run).params["params"], x, run.dataset.train, inputs)
    return {
        "names": list(run.config.free_names),
        "model": {"param_error": model.param_error, "active_units": model.active_units, "kl_total": model.kl,
                  "kl_per_dim": list(model.kl_per_dim), "per_param": list(model.per_param)},
        "mean_patch": {"param_error": model.mean_patch_error, "per_param": list(model.per_param_mean_patch)},
        "linear_code": {"param_error": model.linear_code_error},
        "untrained": {"param_error": untrained.param_error, "active_units": untrained.active_units,
                      "kl_total": untrained.kl},
        "shuffled": {"param_error": float(np.mean(np.sum(np.square(x - x[derangement(len(x))]), -1)))
                     if len(x) >= 2 else None},
    }


def clustering_record(run: run_lib.LoadedRun, x: np.ndarray, cfg: ClusteringConfig) -> dict:
    """UMAP + DBSCAN + DBCV of the raw parameters x [n, k] and of the untrained encoder's means."""
    used = effective_config(cfg, len(x))
    out = {}
    for name, points in (("raw_parameters", x), ("untrained_encoder", run_lib.encode(untrained_run(run), x)[0])):
        res = cluster_latents(np.asarray(points), used)
        out[name] = {"n_clusters": res.n_clusters, "n_noise": res.n_noise, "dbcv": res.dbcv}
    return out


# Rows of the baseline table: (label, how to read it off metrics.json's baselines record, lower is better).
Getter = Callable[[dict, str], object]


def _spectral(feature: str, stat: str) -> Getter:
    return lambda b, who: b["spectral"].get(who, {}).get(feature, {}).get(stat)


def _sound(stat: str) -> Getter:
    return lambda b, who: b["sound"].get(who, {}).get(stat)


ROWS: tuple[tuple[str, Getter, bool], ...] = (
    ("parameter error (sum of squares, from mu)", lambda b, who: b["parameters"].get(who, {}).get("param_error"), True),
    ("log-spectral distance (mean)", _sound("lsd_mean"), True),
    ("STFT MSE", _spectral("stft", "mse"), True),
    ("MFCC MSE", _spectral("mfcc", "mse"), True),
    ("CQT MSE", _spectral("cqt", "mse"), True),
    ("STFT L1 (median)", _spectral("stft", "l1_median"), True),
    ("RMS ratio prediction / target (median)", _sound("rms_ratio_median"), None),
    ("silent predictions (RMS < 1e-3)", _sound("silent_fraction"), None),
)
COLUMNS = ("model", "mean_patch", "untrained", "shuffled")


def verdict(model, baselines: list, lower_is_better) -> str:
    """'better than all' / 'worse than <names>' for one row (empty where no direction applies)."""
    if lower_is_better is None or model is None:
        return ""
    worse = [name for name, v in baselines if v is not None and not (model < v if lower_is_better else model > v)]
    return "better than all" if not worse else "not better than " + ", ".join(worse)


def table_rows(record: dict) -> list[tuple[str, list]]:
    """[(metric, [model, mean_patch, untrained, shuffled, verdict])] for `eval.tables.markdown_table`."""
    rows = []
    for label, get, lower in ROWS:
        values = [get(record, who) for who in COLUMNS]
        rows.append((label, values + [verdict(values[0], list(zip(COLUMNS[1:], values[1:])), lower)]))
    return rows


# What the model learned, judged against the mean patch: the one place the tables, the report's headline
# and the demo's summary take it from.
MOSTLY_SILENT = 0.5  # A run whose decoded sounds are silent more often than this counts as silent.
# Measures a collapsed or silent model cannot game: parameter error and log-spectral distance.
UNGAMEABLE = ("parameter error (sum of squares, from mu)", "log-spectral distance (mean)")


def against_mean_patch(record: dict) -> tuple[list[str], list[str]]:
    """([measures the model beats the mean patch on], [those it does not]), over the ROWS with a direction."""
    beats, loses = [], []
    for label, get, lower in ROWS:
        model, mean = get(record, "model"), get(record, "mean_patch")
        if lower is None or model is None or mean is None:
            continue
        (beats if (model < mean if lower else model > mean) else loses).append(label)
    return beats, loses


def failure(record: dict | None) -> str | None:
    """Why a run is not a result, or None: 'silent' (most decoded sounds below SILENT_RMS) or 'no better than
    the mean patch' (on neither parameter error nor log-spectral distance)."""
    if not record:
        return None
    silent = _sound("silent_fraction")(record, "model")
    if silent is not None and silent > MOSTLY_SILENT:
        return f"silent ({silent:.0%} of its sounds)"
    beats, _ = against_mean_patch(record)
    measured = [label for label, get, _ in ROWS if label in UNGAMEABLE and get(record, "model") is not None]
    if measured and not any(label in beats for label in measured):
        return "no better than the mean patch"
    return None


def _short(label: str) -> str:
    """A measure's name without its parenthesized detail: 'parameter error'."""
    return label.split(" (")[0]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def verdict_sentence(record: dict | None) -> str:
    """One sentence, from the numbers, of what the model learned against the mean patch (a collapsed model)."""
    if not record:
        return "No verdict: this evaluation has no baselines."
    beats, loses = against_mean_patch(record)
    loudness = _sound("rms_ratio_median")(record, "model")
    at = f" (its sounds at {loudness:.2g}x the targets' loudness, median RMS ratio)" if loudness is not None else ""
    why = failure(record)
    if why and why.startswith("silent"):
        return f"Not a result: the model is {why}, so its spectral errors say nothing{at}."
    if not beats:
        return f"The model learned nothing the mean patch does not give: it beats it on no measure{at}."
    if not loses:
        return f"The model beats the mean patch (a collapsed model) on every measure: {_join([_short(b) for b in beats])}{at}."
    return (f"The model beats the mean patch (a collapsed model) on {_join([_short(b) for b in beats])}, "
            f"but not on {_join([_short(l) for l in loses])}{at}.")
