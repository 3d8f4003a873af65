"""Evaluation building blocks on known cases: spectral errors, subsets, FAD streaming, clusters, tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from eval import clustering, frechet, spectral_metrics, tables
from eval.clustering import ClusteringConfig, effective_config
from eval.showcase import latent_path
from eval.reconstruct import limit_indices, subset_indices, subset_size
from spectral.features import FeatureConfig

CFG = FeatureConfig(sample_rate=8000, n_fft=256, hop_length=64, n_mels=32, n_mfcc=13,
                    cqt_fmin=261.6255653005986, cqt_n_bins=36, cqt_hop_length=64)


def _noise(batch: int = 3, n: int = 2000, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((batch, n))).astype(np.float32)


def test_feature_errors_on_constant_features():
    mse, l1 = spectral_metrics.feature_errors(np.ones((2, 3, 4)), np.full((2, 3, 4), 0.5))
    np.testing.assert_allclose(mse, [0.25, 0.25])
    np.testing.assert_allclose(l1, [6.0, 6.0])


def test_identical_audio_gives_zero_errors():
    x = _noise()
    out = spectral_metrics.batch_errors(x, x, CFG)
    assert set(out) == set(spectral_metrics.METRIC_FEATURES)
    for mse, l1 in out.values():
        np.testing.assert_array_equal(mse, 0.0)
        np.testing.assert_array_equal(l1, 0.0)


def test_doubled_audio_gives_known_errors():
    x = _noise()
    out = spectral_metrics.batch_errors(x, 2.0 * x, CFG, pad_to=5)  # padding rows are dropped
    for name in ("stft", "cqt"):  # |2S| - |S| = |S|: MSE = mean |S|^2, L1 = sum |S|.
        rep = np.asarray(spectral_metrics.representation(name, x, CFG), np.float64).reshape(3, -1)
        np.testing.assert_allclose(out[name][0], np.mean(rep ** 2, axis=1), rtol=1e-4)
        np.testing.assert_allclose(out[name][1], np.sum(rep, axis=1), rtol=1e-4)
    # x2 adds 10 log10(4) dB to every mel bin (and to the top_db floor): only the orthonormal DCT's c0
    # moves, by 10 log10(4) sqrt(n_mels) per frame.
    shift = 10.0 * np.log10(4.0) * np.sqrt(CFG.n_mels)
    frames = 1 + x.shape[1] // CFG.hop_length
    np.testing.assert_allclose(out["mfcc"][0], shift ** 2 / CFG.n_mfcc, rtol=1e-4)
    np.testing.assert_allclose(out["mfcc"][1], shift * frames, rtol=1e-4)


def test_set_mse_is_the_mean_over_batches():
    x, y = _noise(4, seed=1), _noise(4, seed=2)
    whole = spectral_metrics.batch_errors(x, y, CFG)
    parts = spectral_metrics.concatenate([spectral_metrics.batch_errors(x[:3], y[:3], CFG),
                                          spectral_metrics.batch_errors(x[3:], y[3:], CFG, pad_to=3)])
    for name in spectral_metrics.METRIC_FEATURES:
        np.testing.assert_allclose(parts.mse[name], whole[name][0], rtol=1e-5)
        np.testing.assert_allclose(parts.l1[name], whole[name][1], rtol=1e-5)
    summary = parts.summary()
    assert summary["stft"]["mse"] == pytest.approx(np.mean(whole["stft"][0]))
    assert set(spectral_metrics.describe_settings(CFG)) == {"stft", "mfcc", "cqt", "common"}


def test_subsets_are_fixed_by_the_seed():
    a = subset_indices(1000, 0.2, seed=7)
    assert a.size == 200 == subset_size(1000, 0.2) and np.all(np.diff(a) > 0) and a.max() < 1000
    np.testing.assert_array_equal(a, subset_indices(1000, 0.2, seed=7))
    assert not np.array_equal(a, subset_indices(1000, 0.2, seed=8))
    assert subset_size(5, 0.01) == 1 and subset_size(0, 0.5) == 0
    np.testing.assert_array_equal(limit_indices(10, 3), [0, 1, 2])
    assert limit_indices(10, None).size == 10 and limit_indices(2, 50).size == 2
    with pytest.raises(ValueError):
        subset_indices(10, 0.0, 0)


def test_latent_path_has_endpoints_and_even_steps():
    z = latent_path(np.zeros(4), np.full(4, 6.0), n_steps=5)
    assert z.shape == (7, 4)
    np.testing.assert_allclose(z[:, 0], [0, 1, 2, 3, 4, 5, 6], atol=1e-6)


def test_umap_neighbours_are_lowered_for_few_points():
    assert effective_config(ClusteringConfig(n_neighbors=50), 20).n_neighbors == 19
    assert effective_config(ClusteringConfig(n_neighbors=10), 20).n_neighbors == 10
    with pytest.raises(ValueError, match="at least"):
        effective_config(ClusteringConfig(), 3)


def test_medium_clusters_and_average_spectrum():
    sizes = {0: 2, 1: 5, 2: 6, 3: 7, 4: 50, 5: 60, 6: 4, 7: 6, 8: 90}
    labels = np.concatenate([np.full(n, c) for c, n in sizes.items()] + [np.full(10, -1)])
    chosen = clustering.medium_clusters(labels, 3, seed=0)
    low, high = np.quantile(list(sizes.values()), [1 / 3, 2 / 3])
    assert chosen.size == 3 and all(low <= sizes[c] <= high for c in chosen)
    np.testing.assert_array_equal(chosen, clustering.medium_clusters(labels, 3, seed=0))
    np.testing.assert_array_equal(clustering.medium_clusters(np.array([0, 0, 1, -1]), 3), [0, 1])
    members = clustering.cluster_members(labels, 8, limit=15, seed=0)
    assert members.size == 15 and np.all(labels[members] == 8)

    sr, t = 8000, np.arange(2000) / 8000
    tones = np.stack([np.sin(2 * np.pi * 1000.0 * t), 0.5 * np.sin(2 * np.pi * 1000.0 * t)])
    freqs, magnitude = clustering.average_spectrum(tones, sr)
    assert freqs.shape == magnitude.shape == (1001,)
    assert freqs[np.argmax(magnitude)] == pytest.approx(1000.0)
    assert magnitude.max() == pytest.approx(0.75 * 1000, rel=1e-6)  # mean of |rfft| peaks N/2 and N/4


class _MeanEmbedder(nn.Module):
    """A stand-in embedding network: per clip [mean, std, max |x|] of the 16 kHz waveform."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def embed_waveform(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.stack([waveform.mean(-1), waveform.std(-1), waveform.abs().amax(-1)], dim=-1)


def test_fad_streaming_with_a_stand_in_network():
    models = {"toy": _MeanEmbedder().eval()}
    clips = _noise(8, n=2000, seed=3)  # 0.25 s at 8 kHz: padded to 1 s
    assert frechet.pad_clips(clips, 8000).shape == (8, 8000)
    assert frechet.pad_clips(np.zeros((1, 9000)), 8000).shape == (1, 9000)
    batches = [frechet.embed_batch(clips[i:i + 4], 8000, models) for i in (0, 4)]
    assert batches[0]["toy"].shape == (4, 3)
    same = frechet.fad_scores({"toy": [b["toy"] for b in batches]}, {"toy": [b["toy"] for b in batches]})
    assert same["toy"] == pytest.approx(0.0, abs=1e-6)
    louder = frechet.embed_batch(3 * clips, 8000, models)
    assert frechet.fad_scores({"toy": [b["toy"] for b in batches]}, {"toy": [louder["toy"]]})["toy"] > 1e-4


def test_missing_weights_are_reported_not_raised(tmp_path, monkeypatch):
    from eval.embeddings import weights

    monkeypatch.delenv(weights.ENV_VAR, raising=False)
    monkeypatch.setattr(weights, "DEFAULT_DIR", tmp_path / "default")
    models, skipped = frechet.load_embedders(tmp_path / "empty", download=False, names=("vggish", "panns"))
    assert models == {} and set(skipped) == {"vggish", "panns"}
    assert "vggish-10086976.pth" in skipped["vggish"] and str(tmp_path / "empty") in skipped["vggish"]


def test_markdown_table_marks_the_best_values():
    cols = [tables.Column("FAD", "min"), tables.Column("DBCV", "max", "{:.4f}"), tables.Column("Noise")]
    text = tables.markdown_table("Case", cols, [("a", [0.5, 0.3, 10]), ("b", [0.5, 0.41, 12]),
                                                ("c|d", [float("nan"), None, 3])])
    lines = text.splitlines()
    assert lines[0] == "| Case | FAD ↓ | DBCV ↑ | Noise |"
    assert lines[2] == "| a | **0.5** | 0.3000 | 10 |"  # ties for best are all bold
    assert lines[3] == "| b | **0.5** | **0.4100** | 12 |"
    assert lines[4] == "| c\\|d | — | — | 3 |"
    single = tables.markdown_table("Case", cols, [("a", [0.5, 0.3, 10])])
    assert "**" not in single  # nothing to compare against
    # An unranked row (a silent run) is never best, and one ranked row left has nothing to beat.
    lines = tables.markdown_table("Case", cols, [("a", [0.5, 0.3, 10]), ("b", [0.6, 0.41, 12]),
                                                 ("c", [0.7, 0.2, 1])], unranked={"a"}).splitlines()
    assert lines[2] == "| a | 0.5 | 0.3000 | 10 |" and lines[3] == "| b | **0.6** | **0.4100** | 12 |"
    assert lines[4] == "| c | 0.7 | 0.2000 | 1 |"
    assert "**" not in tables.markdown_table("Case", cols, [("a", [0.5, 0.3, 10]), ("b", [0.6, 0.4, 12])],
                                             unranked={"a"})
    with pytest.raises(ValueError):
        tables.markdown_table("Case", cols, [("a", [1.0])])


def test_no_fad_flag_disables_fad_without_loading_anything(monkeypatch):
    from eval.pipeline import EvalConfig, _load_embedders

    def must_not_load(*args, **kwargs):
        raise AssertionError("--no-fad must not load any embedding network")

    monkeypatch.setattr(frechet, "load_embedders", must_not_load)
    models, record = _load_embedders(EvalConfig(fad=False), print)
    assert models == {} and record == {"status": "disabled (--no-fad)", "skipped": {}, "scores": {}}
    with pytest.raises(ValueError, match="batch_size"):
        EvalConfig(batch_size=0)
