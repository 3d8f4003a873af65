"""Example figures and sounds of an evaluated run (thesis 5.5): each function writes its PNGs and
WAVs into an `OutputDir` and returns a JSON-ready record of what it drew (test / training
indices, relative paths).

  error_figure            per-example L1 distributions of the test set
  reconstruction_examples original vs reconstruction of a few test sounds (Figs. 5.6-5.8)
  interpolation_example   latent interpolation between two test sounds (Figs. 5.4-5.5)
  cluster_examples        UMAP map and the average FFT of medium-sized clusters (Figs. 5.1-5.3, 5.9)
"""

from __future__ import annotations

import numpy as np

from eval import clustering, figures
from eval.clustering import LatentClustering
from eval.outputs import OutputDir, write_wav, write_wavs
from eval.reconstruct import Reconstruction, render_rows
from eval.spectral_metrics import SpectralErrors
from jaxsynth import Voice
from vae import run as run_lib


def latent_path(z_a: np.ndarray, z_b: np.ndarray, n_steps: int = 5) -> np.ndarray:
    """Linear latent interpolation (thesis 5.5.1): [n_steps + 2, latent] rows z_a, `n_steps` evenly
    spaced points strictly between, z_b.

    z_a, z_b: [latent] encoder means. Row i is (1 - t_i) z_a + t_i z_b, t_i = i / (n_steps + 1).
    """
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    z_a, z_b = np.asarray(z_a, np.float32), np.asarray(z_b, np.float32)
    if z_a.shape != z_b.shape or z_a.ndim != 1:
        raise ValueError(f"need two [latent] vectors, got {z_a.shape} and {z_b.shape}")
    t = np.linspace(0.0, 1.0, n_steps + 2, dtype=np.float32)[:, None]
    return (1.0 - t) * z_a + t * z_b


def title_of(run: run_lib.LoadedRun) -> str:
    """The case name, or 'loss/feature (scale)'."""
    return run.config.case or f"{run.config.loss.spectral}/{run.config.loss.feature} ({run.config.scale})"


def error_figure(run: run_lib.LoadedRun, errors: SpectralErrors, n: int, out: OutputDir) -> str:
    path = figures.error_distributions_figure({title_of(run): errors.l1},
                                              out.path("fig_l1", "figures/l1_distributions.png"),
                                              f"Per-example L1 errors on {n} test sounds")
    return out.rel(path)


def reconstruction_examples(run: run_lib.LoadedRun, voice: Voice, test: Reconstruction, errors: SpectralErrors,
                            positions: np.ndarray, batch_size: int, out: OutputDir) -> list[dict]:
    """Overlay + spectrogram figure and both WAVs for test positions [m]."""
    sr = run.synth_config.sample_rate
    true_audio = render_rows(voice, run, test.x[positions], batch_size)
    recon_audio = render_rows(voice, run, test.x_hat[positions], batch_size)
    records = []
    for p, t_audio, r_audio in zip(positions, true_audio, recon_audio):
        index = int(test.indices[p])
        stem = f"test{index}"
        fig = figures.comparison_figure(t_audio, r_audio, run.config.loss.feature_config,
                                        out.path(f"fig_{stem}", f"figures/reconstruction_{stem}.png"),
                                        f"{title_of(run)}: test sound {index}, original and reconstruction")
        wavs = {k: out.rel(write_wav(out.path(f"wav_{stem}_{k}", f"sounds/examples/{stem}_{k}.wav"), a, sr))
                for k, a in (("original", t_audio), ("reconstruction", r_audio))}
        records.append({"test_index": index, "figure": out.rel(fig), "wavs": wavs,
                        **{f"l1_{name}": float(errors.l1[name][p]) for name in errors.l1}})
    return records


def interpolation_example(run: run_lib.LoadedRun, voice: Voice, test: Reconstruction, pair: np.ndarray,
                          n_steps: int, batch_size: int, out: OutputDir) -> dict:
    """Originals of test positions pair [2], then the decoded latent path between their means."""
    sr = run.synth_config.sample_rate
    z = latent_path(test.mu[pair[0]], test.mu[pair[1]], n_steps)
    path_audio = render_rows(voice, run, run_lib.decode(run, z), batch_size)
    originals = render_rows(voice, run, test.x[pair], batch_size)
    a, b = (int(test.indices[p]) for p in pair)
    t = [i / (len(z) - 1) for i in range(len(z))]
    labels = ([f"reconstruction of test sound {a}"] + [f"step {i} (t = {t[i]:.2f})" for i in range(1, len(z) - 1)]
              + [f"reconstruction of test sound {b}"])
    fig_orig = figures.waveforms_figure(originals, sr, [f"test sound {a}", f"test sound {b}"],
                                        out.path("fig_interp_orig", "figures/interpolation_originals.png"),
                                        "Original test sounds")
    fig_path = figures.waveforms_figure(path_audio, sr, labels, out.path("fig_interp", "figures/interpolation.png"),
                                        f"{title_of(run)}: latent interpolation, {n_steps} steps")
    clips = {f"original_{a}": originals[0], f"original_{b}": originals[1]}
    clips.update({f"step{i}": audio for i, audio in enumerate(path_audio)})
    written = write_wavs(out.root / "sounds" / "interpolation", clips, sr)
    return {"test_indices": [a, b], "steps": n_steps, "t": t, "figures": [out.rel(fig_orig), out.rel(fig_path)],
            "wavs": {k: out.rel(v) for k, v in written.items()}}


def cluster_examples(run: run_lib.LoadedRun, voice: Voice, latent: LatentClustering, n_clusters: int,
                     per_cluster_fft: int, per_cluster_wavs: int, seed: int, batch_size: int,
                     out: OutputDir) -> dict:
    """UMAP figure; for up to n_clusters medium-sized clusters the average FFT of up to
    per_cluster_fft of their sounds (figure) and per_cluster_wavs WAVs each."""
    sr, res = run.synth_config.sample_rate, latent.result
    record = {"umap_figure": out.rel(figures.umap_figure(
        res.embedding, res.labels, out.path("fig_umap", "figures/umap.png"),
        f"{title_of(run)}: UMAP of {len(latent.indices)} training latents")), "clusters": []}
    spectra = {}
    for cluster_id in clustering.medium_clusters(res.labels, n_clusters, seed):
        members = clustering.cluster_members(res.labels, cluster_id, per_cluster_fft, seed)
        audio = render_rows(voice, run, latent.x[members], batch_size)
        spectra[int(cluster_id)] = clustering.average_spectrum(audio, sr)
        clips = {f"cluster{int(cluster_id)}_train{int(latent.indices[m])}": audio[j]
                 for j, m in enumerate(members[:per_cluster_wavs])}
        written = write_wavs(out.root / "sounds" / "clusters", clips, sr)
        record["clusters"].append({"cluster": int(cluster_id), "size": int(np.sum(res.labels == cluster_id)),
                                   "averaged": len(members), "wavs": [out.rel(v) for v in written.values()]})
    if spectra:
        record["figure"] = out.rel(figures.cluster_spectra_figure(
            spectra, res.embedding, res.labels, out.path("fig_clusters", "figures/clustering.png"),
            f"{title_of(run)}: {len(spectra)} medium-sized clusters"))
    return record
