"""Does the latent space organize sound? Nearest neighbours and latent paths, measured in log-spectral distance.

Neighbour ratio of an embedding of n sounds: the mean log-spectral distance (LSD, `baselines.log_spectrum`)
of random pairs over the mean LSD between each sound and its k nearest neighbours in the embedding
(Euclidean). 1: neighbours sound no closer than strangers; higher: similar sounds sit together. Every
evaluation scores the model's encoder means beside these embeddings of the same sounds:

  parameters    the raw patches (what a parameter-space preset browser offers);
  pca           the patches' PCA at the latent width (the best linear code of the parameters);
  untrained     the same model with its initial weights;
  mfcc_stats    each sound's MFCC mean and standard deviation over time, standardized (a plain
                audio-feature map with no generator behind it, the way sample browsers map sounds);
  log_mel       the sounds' log-mel frames themselves (`vae.sound_input`), what an encoder that hears
                reads: a code of them can keep their neighbourhoods at best, so this is its ceiling.

Interpolation smoothness of a straight latent path between two test sounds' codes, in `steps` equal
steps, each decoded and rendered: the summed LSD between consecutive steps over the LSD between the end
points (1: the sound moves steadily from one end to the other; larger: it detours or jumps), and the
largest single step's share of the summed path. Baseline: the straight path in parameter space between
the same two decoded patches.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from eval import baselines
from eval.reconstruct import render_rows
from eval.settings import OrganizationConfig
from spectral import features
from vae import sound_input
from vae import run as run_lib

EMBEDDINGS = {
    "model": "the model's encoder means",
    "parameters": "the raw patches",
    "pca": "PCA of the patches at the latent width",
    "untrained": "the untrained model's encoder means",
    "mfcc_stats": "MFCC mean+std per sound (no generator)",
    "log_mel": "log-mel frames themselves (what a hearing encoder reads)",
}


def pair_lsd(spectra: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 512) -> np.ndarray:
    """LSD between log spectra rows i and j [m] of spectra [n, frames, bins] -> [m] float64."""
    out = [np.mean(np.abs(spectra[i[s:s + chunk]] - spectra[j[s:s + chunk]]), axis=(-2, -1))
           for s in range(0, len(i), chunk)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


def nearest(embedding: np.ndarray, k: int) -> np.ndarray:
    """Indices [n, k] of each row's k nearest other rows of embedding [n, d] (Euclidean)."""
    e = np.asarray(embedding, np.float64)
    sq = np.sum(e * e, axis=1)
    d = sq[:, None] + sq[None, :] - 2.0 * e @ e.T
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def random_pairs(n: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` seeded pairs (i, j) of distinct rows of range(n) (n >= 2)."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, count)
    j = (i + rng.integers(1, n, count)) % n
    return i, j


def neighbour_ratio(embedding: np.ndarray, spectra: np.ndarray, k: int, random_lsd: float) -> dict:
    """{'ratio', 'neighbour_lsd'} of an embedding [n, d] of the sounds whose log spectra are spectra [n, ...]."""
    nn = nearest(embedding, min(k, len(embedding) - 1))
    neighbour = float(np.mean(pair_lsd(spectra, np.repeat(np.arange(len(nn)), nn.shape[1]), nn.ravel())))
    return {"ratio": random_lsd / neighbour, "neighbour_lsd": neighbour}


def mfcc_statistics(audio: np.ndarray, cfg: features.FeatureConfig) -> np.ndarray:
    """MFCC mean and standard deviation over time per sound, each column standardized: [n, samples] -> [n, 2 n_mfcc]."""
    m = np.concatenate([np.asarray(features.mfcc(audio[s:s + 256], cfg)) for s in range(0, len(audio), 256)])
    stats = np.concatenate([m.mean(axis=1), m.std(axis=1)], axis=1).astype(np.float64)
    return (stats - stats.mean(0)) / (stats.std(0) + 1e-9)


def embeddings(run: run_lib.LoadedRun, x: np.ndarray, audio: np.ndarray) -> dict[str, np.ndarray]:
    """Every embedding of `EMBEDDINGS` for test patches x [n, k] whose sounds are audio [n, samples]."""
    pca = PCA(run.config.model.latent_dim, random_state=0).fit(run.dataset.train)
    untrained = baselines.untrained_run(run)
    return {
        "model": _means(run, x, audio),
        "parameters": np.asarray(x, np.float64),
        "pca": pca.transform(x),
        "untrained": _means(untrained, x, audio),
        "mfcc_stats": mfcc_statistics(audio, run.config.loss.feature_config),
        "log_mel": sound_input.of_audio(audio, run.config.model.sound_input
                                        or sound_input.mel_config(run.config.loss.feature_config)),
    }


def _means(run: run_lib.LoadedRun, x: np.ndarray, audio: np.ndarray) -> np.ndarray:
    """Encoder means of the patches: from their sounds when the model hears, else from the patches."""
    mu = run_lib.encode_audio(run, audio)[0] if run_lib.hears_audio(run) else run_lib.encode(run, x)[0]
    return np.asarray(mu, np.float64)


def path_smoothness(run: run_lib.LoadedRun, voice, mu: np.ndarray, cfg: OrganizationConfig, batch_size: int) -> dict:
    """Smoothness of `cfg.paths` straight latent paths between seeded pairs of codes mu [n, latent], and of the
    straight parameter-space paths between the same decoded end points (see the module doc)."""
    a, b = random_pairs(len(mu), cfg.paths, cfg.seed + 1)
    t = np.linspace(0.0, 1.0, cfg.steps + 1)[None, :, None]
    z = (1 - t) * mu[a][:, None] + t * mu[b][:, None]                                  # [paths, steps+1, latent]
    latent_patches = run_lib.decode(run, z.reshape(-1, z.shape[-1]).astype(np.float32))
    ends = latent_patches.reshape(cfg.paths, cfg.steps + 1, -1)[:, [0, -1]]
    param_patches = ((1 - t) * ends[:, :1] + t * ends[:, 1:]).reshape(-1, ends.shape[-1]).astype(np.float32)
    out = {}
    for name, patches in (("model", latent_patches), ("parameters", param_patches)):
        spectra = log_spectra(render_rows(voice, run, patches, batch_size), run.config.loss.feature_config)
        spectra = spectra.reshape(cfg.paths, cfg.steps + 1, *spectra.shape[1:])
        steps = np.mean(np.abs(np.diff(spectra, axis=1)), axis=(-2, -1))              # [paths, steps]
        span = np.mean(np.abs(spectra[:, -1] - spectra[:, 0]), axis=(-2, -1))          # [paths]
        keep = span > 0
        out[name] = {"path_over_ends": float(np.mean(steps.sum(1)[keep] / span[keep])) if keep.any() else None,
                     "largest_step_share": float(np.mean(steps.max(1) / np.maximum(steps.sum(1), 1e-12)))}
    return out


def log_spectra(audio: np.ndarray, cfg: features.FeatureConfig, chunk: int = 256) -> np.ndarray:
    """Log-magnitude spectra [n, frames, bins] float32 of sounds [n, samples] (`baselines.log_spectrum`)."""
    return np.concatenate([np.asarray(baselines.log_spectrum(audio[s:s + chunk], cfg))
                           for s in range(0, len(audio), chunk)])


def organization(run: run_lib.LoadedRun, voice, x: np.ndarray, cfg: OrganizationConfig = OrganizationConfig(),
                 batch_size: int = 64) -> dict:
    """The organization record of an evaluation: neighbour ratios of every embedding and path smoothness,
    on the first min(len(x), cfg.max_sounds) test patches x [n, k]."""
    x = np.asarray(x, np.float32)[: cfg.max_sounds]
    if len(x) <= cfg.k:
        return {"status": f"skipped: {len(x)} test sounds, need more than k={cfg.k}"}
    audio = render_rows(voice, run, x, batch_size)
    spectra = log_spectra(audio, run.config.loss.feature_config)
    i, j = random_pairs(len(x), cfg.random_pairs, cfg.seed)
    random_lsd = float(np.mean(pair_lsd(spectra, i, j)))
    embeds = embeddings(run, x, audio)
    record = {"n_sounds": len(x), "k": cfg.k, "random_pairs": cfg.random_pairs, "random_lsd": random_lsd,
              "descriptions": dict(EMBEDDINGS),
              "neighbours": {name: neighbour_ratio(e, spectra, cfg.k, random_lsd) for name, e in embeds.items()},
              "paths": {"n": cfg.paths, "steps": cfg.steps,
                        **path_smoothness(run, voice, embeds["model"], cfg, batch_size)}}
    return record


def reconstruction_margin(baseline_record: dict) -> dict | None:
    """The model's reconstruction LSD beside the mean patch's and shuffled sounds' (from an evaluation's
    baselines record); 'nearer' is 1 - model / mean patch (0.15: 15% nearer the targets than the mean patch)."""
    sound = (baseline_record or {}).get("sound", {})
    if not all(k in sound for k in ("model", "mean_patch")):
        return None
    model, mean = sound["model"]["lsd_mean"], sound["mean_patch"]["lsd_mean"]
    return {"model": model, "mean_patch": mean, "shuffled": sound.get("shuffled", {}).get("lsd_mean"),
            "nearer": 1.0 - model / mean if mean else None}


def neighbour_rows(record: dict) -> list[tuple[str, list]]:
    """[(embedding, [neighbour ratio, neighbour LSD])], the model first, for a table."""
    return [(f"{name}: {EMBEDDINGS[name]}", [v["ratio"], v["neighbour_lsd"]])
            for name, v in record["neighbours"].items()]


def summary_lines(record: dict, baseline_record: dict | None) -> list[str]:
    """Plain-text lines: the neighbour ratio of each embedding, path smoothness and the reconstruction margin."""
    if "neighbours" not in record:
        return [f"latent organization: {record.get('status', 'not measured')}"]
    lines = [f"Does the latent space organize sound? {record['k']} nearest neighbours of each of {record['n_sounds']} "
             f"test sounds vs random pairs (log-spectral distance; random pairs {record['random_lsd']:.3f}; "
             "ratio > 1: neighbours sound closer):"]
    lines += [f"  {label:60s} ratio {ratio:5.2f}  (neighbour LSD {lsd:.3f})" for label, (ratio, lsd) in
              neighbour_rows(record)]
    p = record["paths"]
    lines.append(f"latent paths ({p['n']} paths, {p['steps']} steps): path / end-point LSD {p['model']['path_over_ends']:.2f}"
                 f" (straight parameter paths between the same ends: {p['parameters']['path_over_ends']:.2f}; "
                 "1 = steady); largest step "
                 f"{p['model']['largest_step_share']:.0%} of the path ({p['parameters']['largest_step_share']:.0%})")
    margin = reconstruction_margin(baseline_record)
    if margin:
        lines.append(f"reconstructions: LSD {margin['model']:.3f} vs the mean patch's {margin['mean_patch']:.3f} "
                     f"({margin['nearer']:+.0%} nearer the targets) and shuffled sounds' {margin['shuffled']:.3f}")
    return lines
