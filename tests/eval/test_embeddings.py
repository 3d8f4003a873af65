"""Embedding networks: checkpoint round trips in the published on-disk formats, front ends, weight lookup."""

from __future__ import annotations

import io

import librosa
import numpy as np
import pytest
import torch

from eval.embeddings import Cnn14_16k, VGGish, VGGishParams, WeightsNotFoundError, embed, find_weights, load_model
from eval.embeddings import weights as weights_module
from eval.embeddings.stft import LogmelFilterBank, Spectrogram
from eval.embeddings.vggish_input import VGGishLogMel, mel_matrix, periodic_hann


@pytest.fixture(autouse=True)
def _isolated_weight_dirs(tmp_path, monkeypatch):
    """Keep the user's real weight folders out of every test."""
    monkeypatch.delenv(weights_module.ENV_VAR, raising=False)
    monkeypatch.setattr(weights_module, "DEFAULT_DIR", tmp_path / "default")


def _clips(n: int, seconds: float, sample_rate: int, seed: int = 0) -> np.ndarray:
    """Noisy tones [n, samples]."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = rng.uniform(100, 2000, (n, 1))
    return (0.5 * np.sin(2 * np.pi * f0 * t) + 0.05 * rng.normal(size=(n, t.size))).astype(np.float32)


def test_vggish_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    reference = VGGish().eval()
    torch.save(reference.state_dict(), tmp_path / "vggish-10086976.pth")  # torchvggish's format: a bare state dict
    model = load_model("vggish", weights_dir=tmp_path, download=False)

    audio = _clips(3, 1.0, 44100)
    emb = embed(audio, 44100, model, batch_size=2)
    assert emb.shape == (3, 128) and emb.dtype == np.float32
    assert np.isfinite(emb).all()
    np.testing.assert_array_equal(emb, embed(audio, 44100, model, batch_size=2))  # deterministic
    np.testing.assert_allclose(emb, embed(audio, 44100, model), rtol=1e-5, atol=1e-6)  # batching-invariant
    np.testing.assert_allclose(emb, embed(audio, 44100, reference, batch_size=2), rtol=1e-5, atol=1e-6)
    # 2.5 s at 16 kHz -> two non-overlapping 0.96 s examples per clip, clip-major.
    long = embed(_clips(2, 2.5, 16000), 16000, model)
    assert long.shape == (4, 128)


def test_vggish_pca_postprocessing(tmp_path):
    torch.manual_seed(1)
    torch.save(VGGish().state_dict(), tmp_path / "vggish-10086976.pth")
    rng = np.random.default_rng(0)
    # torchvggish's PCA file (2019) pickles numpy arrays, eigenvectors [128, 128] and means [128], in
    # torch's legacy format under numpy 1.x names; emulate it.
    buffer = io.BytesIO()
    torch.save({"pca_eigen_vectors": rng.normal(size=(128, 128)), "pca_means": rng.normal(size=128)}, buffer,
               _use_new_zipfile_serialization=False)
    legacy = buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    (tmp_path / "vggish_pca_params-970ea276.pth").write_bytes(legacy)
    model = load_model("vggish", weights_dir=tmp_path, use_pca=True, download=False)
    emb = embed(_clips(2, 1.0, 16000), 16000, model)
    assert emb.shape == (2, 128)
    assert emb.min() >= 0 and emb.max() <= 255
    np.testing.assert_array_equal(emb, np.round(emb))


@pytest.mark.slow
def test_panns_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    reference = Cnn14_16k().eval()
    # The PANNs release stores {'model': state_dict, ...}, front-end STFT/mel tensors included.
    torch.save({"model": reference.state_dict(), "iteration": 0}, tmp_path / "Cnn14_16k_mAP=0.438.pth")
    model = load_model("panns", weights_dir=tmp_path, download=False)

    audio = _clips(2, 1.0, 16000)
    emb = embed(audio, 16000, model)
    assert emb.shape == (2, 2048) and np.isfinite(emb).all()
    np.testing.assert_array_equal(emb, embed(audio, 16000, model))  # deterministic
    np.testing.assert_allclose(emb, embed(audio, 16000, model, batch_size=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(emb, embed(audio, 16000, reference), rtol=1e-5, atol=1e-6)


def test_missing_weights_name_the_file_and_folder(tmp_path):
    with pytest.raises(WeightsNotFoundError) as err:
        find_weights("panns_cnn14_16k", weights_dir=tmp_path / "w", download=False)
    message = str(err.value)
    assert "Cnn14_16k_mAP=0.438.pth" in message and str(tmp_path / "w") in message
    assert "zenodo.org" in message


def test_failed_download_is_reported(tmp_path, monkeypatch):
    def offline(url, destination, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(weights_module, "_download", offline)
    with pytest.raises(WeightsNotFoundError, match="network unreachable") as err:
        find_weights("vggish", weights_dir=tmp_path)
    assert "vggish-10086976.pth" in str(err.value) and str(tmp_path) in str(err.value)


def test_weights_search_order(tmp_path, monkeypatch):
    for folder in ("arg", "env", "default"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "vggish-10086976.pth").write_bytes(b"")
    monkeypatch.setenv(weights_module.ENV_VAR, str(tmp_path / "env"))
    assert find_weights("vggish", tmp_path / "arg", download=False) == tmp_path / "arg" / "vggish-10086976.pth"
    assert find_weights("vggish-10086976.pth", download=False) == tmp_path / "env" / "vggish-10086976.pth"
    monkeypatch.delenv(weights_module.ENV_VAR)
    assert find_weights("vggish", download=False) == tmp_path / "default" / "vggish-10086976.pth"


def test_vggish_log_mel_matches_numpy_reference():
    params = VGGishParams()
    audio = _clips(2, 1.0, 16000)
    ours = VGGishLogMel(params)(torch.from_numpy(audio)).numpy()
    # torchvggish's numpy path: frame, periodic Hann, |rfft|, mel matrix, log offset, 96-frame examples.
    frames = np.lib.stride_tricks.sliding_window_view(audio[0].astype(np.float64), 400)[::160]
    spectrum = np.abs(np.fft.rfft(frames * periodic_hann(400), 512))
    log_mel = np.log(spectrum @ mel_matrix(params) + 0.01)
    assert ours.shape == (2, 1, 96, 64)
    np.testing.assert_allclose(ours[0, 0], log_mel[:96], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="at least"):
        VGGishLogMel(params)(torch.zeros(1, 15000))


def test_panns_front_end_matches_librosa():
    audio = _clips(1, 0.5, 16000)
    power = Spectrogram(n_fft=512, hop_length=160, win_length=512)(torch.from_numpy(audio))
    expected = np.abs(librosa.stft(audio[0], n_fft=512, hop_length=160, window="hann", center=True,
                                   pad_mode="reflect")) ** 2
    np.testing.assert_allclose(power[0, 0].numpy(), expected.T, rtol=1e-3, atol=1e-3)
    log_mel = LogmelFilterBank(sr=16000, n_fft=512, n_mels=64, fmin=50, fmax=8000, top_db=None)(power)
    mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=50, fmax=8000) @ expected
    np.testing.assert_allclose(log_mel[0, 0].numpy(), librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T,
                               atol=1e-3)


def test_cdpam_refuses_to_unpickle_a_file_with_another_sha256(tmp_path, monkeypatch):
    from eval.embeddings import cdpam
    from eval.embeddings.weights import WeightsCorruptError

    fake = tmp_path / "scratchJNDdefault_best_model.pth"
    torch.save({"state": {}}, fake)  # A readable pickle, but not the pinned file.
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load ran before the sha256 check"))
    with pytest.raises(WeightsCorruptError, match=f"refusing to unpickle {fake}: its sha256 is {cdpam.sha256(fake)}"):
        cdpam.load_cdpam(fake)


# CDPAM's real weights ship in the fad extra, which the test extra installs: CI must run this test.
CDPAM_MISSING = None
try:
    from eval.embeddings.cdpam import weights_path as _cdpam_weights_path

    _cdpam_weights_path()
except WeightsNotFoundError as _err:
    CDPAM_MISSING = str(_err)


@pytest.mark.slow
@pytest.mark.skipif(CDPAM_MISSING is not None and __import__("os").environ.get("CI") != "true",
                    reason=str(CDPAM_MISSING))
def test_cdpam_real_weights_give_the_packages_own_embedding():
    """The pinned checkpoint loads into the rebuilt encoder, whose embedding is exactly the one cdpam's own
    network code computes (its models.py, loaded without the package's __init__)."""
    import importlib.util

    from eval.embeddings.cdpam import CDPAM_SHA256, SAMPLE_RATE, load_cdpam, sha256, weights_path

    path = weights_path()
    assert sha256(path) == CDPAM_SHA256
    ours = load_cdpam(path)
    spec = importlib.util.spec_from_file_location("cdpam_models", path.parents[1] / "models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = module.FINnet(encoder_layers=16, encoder_filters=64, ndim=[16, 6], classif_dp=0.05, classif_BN=0,
                           classif_act="no", input_size=512)
    theirs.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["state"])  # sha256 checked
    theirs.eval()

    audio = _clips(3, 0.25, 8000)
    emb = embed(audio, 8000, ours)
    assert emb.shape == (3, 512) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    waveform = torch.from_numpy(librosa.resample(audio, orig_sr=8000, target_sr=SAMPLE_RATE, res_type="soxr_hq"))
    with torch.inference_mode():
        _, acoustic, _ = theirs.base_encoder(torch.round(waveform * 32768).unsqueeze(1))
    np.testing.assert_allclose(emb, torch.nn.functional.normalize(acoustic, dim=1).numpy(), atol=1e-5)
    assert np.linalg.norm(emb[0] - emb[1]) > 1e-3  # Two tones are two embeddings.
