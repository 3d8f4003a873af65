"""Sound matching (matching, scripts/match.py) on tiny configs: 4 kHz, 0.25 s, few starts and steps."""

from __future__ import annotations

import dataclasses
import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import soundfile as sf

from jaxsynth import SynthConfig, render
from matching import Problem, TargetError, direct, latent, load_target, random_search, read_patch, write_patch
from matching.cli import main
from matching.cmaes import cmaes
from matching.init import TargetCues, initial_params, target_cues
from matching.latent import EncoderStartError, latent_starts
from matching.scan import COORDINATE_POINTS, SCAN_POINTS, coordinate_scan, scan

SYNTH = SynthConfig(batch_size=1, sample_rate=4000, buffer_size_seconds=0.25, control_rate=40)


@pytest.fixture(scope="module")
def problem():
    return Problem.create(SYNTH)


def _in_domain(problem, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(target audio [n], its free parameters [k]) of a random patch at a mid-range note."""
    sub01 = np.array(jax.random.uniform(jax.random.PRNGKey(seed), (1, problem.subset.size)))
    sub01[0, problem.subset.names.index("keyboard/midi_f0")] = 60 / 127
    return np.asarray(problem.render(jnp.asarray(sub01), problem.noise()))[0], sub01[0]


def _check_result(problem, target, found):
    """A search's result: a patch in [0, 1] whose own distance is the one reported, and a history of renders and best
    distances that only improves."""
    assert found.params01.shape == (78,) and np.all((found.params01 >= 0) & (found.params01 <= 1))
    again = problem.terms(problem.subset.select(jnp.asarray(found.params01[None])), jnp.asarray(target), problem.noise())
    np.testing.assert_allclose(float(again[1][0]), found.distance, rtol=1e-4)
    assert np.all(np.diff(found.history[:, 0]) > 0) and found.history[-1, 0] == found.renders
    assert np.all(np.diff(found.history[:, 1]) <= 0)  # best distance so far


@pytest.mark.slow
def test_direct_beats_random_search_with_the_same_renders(problem):
    target, _ = _in_domain(problem, 3)
    found = direct(problem, target, starts=8, budget_s=1e9, max_steps=60, round_steps=30, chunk=10)
    baseline = random_search(problem, target, found.renders, batch=16)
    assert found.renders == baseline.renders >= 8 * 60
    assert found.distance < baseline.distance, (found.distance, baseline.distance)
    _check_result(problem, target, found)
    assert found.distance <= found.extra["search_distance"]  # polishing never loses the search's best


@pytest.mark.slow
def test_direct_without_polish_stops_at_its_steps(problem):
    target, _ = _in_domain(problem, 3)
    found = direct(problem, target, starts=8, budget_s=1e9, max_steps=60, round_steps=30, chunk=10, polish_fraction=0.0)
    assert found.distance == found.extra["search_distance"]
    # one round (the first always runs whole): 4 screens of (4 x 8 draws + 20 steps of 8), which pass the 60
    # steps, so the round's descent runs one chunk of 10 steps, then the pitch scan; no polish
    assert found.renders == 4 * (32 + 8 * 20) + 8 * 10 + 3 * SCAN_POINTS


@pytest.mark.slow
def test_coordinate_scan_moves_a_parameter_across_its_range(problem):
    target, sub01 = _in_domain(problem, 5)
    noise, t = problem.noise(), jnp.asarray(target)
    col = problem.subset.names.index("mixer/vco_1")
    off = sub01.copy()
    off[col] = 1.0 - off[col] if abs(off[col] - 0.5) > 0.25 else 0.0  # far from the truth
    d_off = float(problem.terms(jnp.asarray(off[None]), t, noise)[1][0])
    found, d, renders = coordinate_scan(problem, target, off, d_off, np.random.default_rng(0))
    assert renders == problem.subset.size * COORDINATE_POINTS and d < d_off
    assert abs(found[col] - sub01[col]) < abs(off[col] - sub01[col])
    np.testing.assert_allclose(float(problem.terms(jnp.asarray(found[None]), t, noise)[1][0]), d, rtol=1e-4, atol=1e-6)
    unchanged, d_same, _ = coordinate_scan(problem, target, sub01, 0.0, np.random.default_rng(0))
    assert d_same == 0.0 and np.array_equal(unchanged, sub01.astype(np.float32))  # nothing beats the target
    _, _, renders = coordinate_scan(problem, target, off, d_off, np.random.default_rng(0), budget_s=0.0)
    assert renders == COORDINATE_POINTS  # out of time: one parameter, then stop


@pytest.mark.slow
@pytest.mark.parametrize("refine_fraction", [0.0, 0.5])
def test_cmaes_beats_random_search_with_the_same_renders(problem, refine_fraction):
    target, _ = _in_domain(problem, 3)
    found = cmaes(problem, target, starts=8, budget_s=1e9, max_steps=60, refine_fraction=refine_fraction)
    baseline = random_search(problem, target, found.renders, batch=16)
    assert found.method == ("cmaes+direct" if refine_fraction else "cmaes")
    assert found.renders == baseline.renders == 8 * 60 + 3 * 32  # draws, generations, descent steps, pitch scan
    assert found.distance < baseline.distance, (found.distance, baseline.distance)
    _check_result(problem, target, found)


def test_pitch_scan_finds_a_note_a_semitone_off(problem):
    target, sub01 = _in_domain(problem, 4)
    col = problem.subset.names.index("keyboard/midi_f0")
    off = sub01.copy()
    off[col] = 61 / 127  # the target's note is 60
    noise, t = problem.noise(), jnp.asarray(target)
    d_off = float(problem.terms(jnp.asarray(off[None]), t, noise)[1][0])
    found, d, renders = scan(problem, target, off, d_off)
    assert renders == 3 * SCAN_POINTS and d < d_off
    assert found[col] * 127 == pytest.approx(60.0, abs=0.1)
    np.testing.assert_allclose(float(problem.terms(jnp.asarray(found[None]), t, noise)[1][0]), d, rtol=1e-5)


def test_starts_take_the_target_pitch_and_envelope(problem):
    tone = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(SYNTH.buffer_size) / SYNTH.sample_rate)).astype(np.float32)
    cues = target_cues(tone, SYNTH.sample_rate)
    assert cues.midi_f0 == pytest.approx(69.0, abs=0.3)
    x01 = initial_params(np.random.default_rng(0), 6, problem.subset, cues)
    midi = x01[:, problem.subset.names.index("keyboard/midi_f0")] * 127
    np.testing.assert_allclose(midi, cues.midi_f0, atol=1e-3)
    tuning = x01[:, [problem.subset.names.index("vco_1/tuning"), problem.subset.names.index("vco_2/tuning")]]
    assert np.all(tuning[:3] == 0.5) and tuning[3, 0] == 0.5 and tuning[5, 1] == 0.5 and tuning[3, 1] != 0.5
    assert initial_params(np.random.default_rng(0), 4, problem.subset, TargetCues(None, 0.0, 0.0, 0.1)).shape == (4, 63)


# ------------------------------------------------------------------------------------------ WAV files

def _wav(path, audio, rate):
    sf.write(str(path), audio, rate, subtype="FLOAT")
    return path


def test_stereo_other_rate_is_mixed_resampled_and_fits(tmp_path):
    t = np.arange(int(0.25 * 44100)) / 44100
    left, right = np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 300 * t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same length after resampling: no warning
        audio = load_target(_wav(tmp_path / "s.wav", np.stack([left, right], 1), 44100), SYNTH)
    assert audio.shape == (SYNTH.buffer_size,) and audio.dtype == np.float32
    expected = 0.75 * np.sin(2 * np.pi * 300 * np.arange(SYNTH.buffer_size) / SYNTH.sample_rate)
    np.testing.assert_allclose(audio[50:-50], expected[50:-50], atol=0.02)


def test_long_files_are_cut_and_short_ones_padded_with_a_warning(tmp_path):
    long = _wav(tmp_path / "long.wav", 0.1 * np.ones(8000 * 600, np.float32), 8000)  # ten minutes
    with pytest.warns(UserWarning, match="cutting"):
        audio = load_target(long, SYNTH)
    assert audio.shape == (SYNTH.buffer_size,)
    with pytest.warns(UserWarning, match="padding"):
        audio = load_target(_wav(tmp_path / "short.wav", 0.1 * np.ones(100, np.float32), 4000), SYNTH)
    assert audio.shape == (SYNTH.buffer_size,) and np.all(audio[100:] == 0)


@pytest.mark.parametrize("case, message", [
    ("missing", "does not exist"), ("text", "not a readable WAV"), ("silent", "silent"), ("nan", "NaN"),
    ("empty", "no samples|not a readable"),
])
def test_bad_targets_raise_a_clear_error(tmp_path, case, message):
    path = tmp_path / f"{case}.wav"
    if case == "text":
        path.write_text("not audio")
    elif case == "silent":
        _wav(path, np.zeros(1000, np.float32), 4000)
    elif case == "nan":
        _wav(path, np.full(1000, np.nan, np.float32), 4000)
    elif case == "empty":
        _wav(path, np.zeros(0, np.float32), 4000)
    with pytest.raises(TargetError, match=message):
        load_target(path, SYNTH)


# ------------------------------------------------------------------------------------------ patch.json

def test_patch_json_round_trips_to_the_same_audio(problem, tmp_path):
    _, sub01 = _in_domain(problem, 5)
    params01 = np.asarray(problem.subset.expand(jnp.asarray(sub01[None])))[0]
    path = write_patch(tmp_path / "patch.json", params01, SYNTH)
    doc = json.loads(path.read_text())
    assert len(doc["parameters"]) == 78
    assert doc["parameters"]["keyboard/midi_f0"]["physical"] == pytest.approx(60.0, abs=1e-4)
    back, synth = read_patch(path)
    assert synth == SYNTH and np.array_equal(back, params01)
    noise = problem.noise()
    np.testing.assert_array_equal(np.asarray(render(jnp.asarray(back[None]), noise, synth)),
                                  np.asarray(render(jnp.asarray(params01[None]), noise, SYNTH)))


@pytest.mark.torch
def test_patch_json_renders_the_same_in_torchsynth(tb, problem, tmp_path):
    import dataclasses

    _, sub01 = _in_domain(problem, 6)
    params01 = np.asarray(problem.subset.expand(jnp.asarray(sub01[None])))[0]
    back, synth = read_patch(write_patch(tmp_path / "patch.json", params01, SYNTH))
    voice = tb.torch_voice(dataclasses.replace(synth, batch_size=32))
    theirs = tb.render_torch(voice, np.tile(back[None], (32, 1)))[0]
    ours = np.asarray(render(jnp.asarray(back[None]), jnp.asarray(tb.read_noise(voice)[:1]), synth))[0]
    assert np.sqrt(np.mean((theirs - ours) ** 2)) <= 1e-4 * max(np.sqrt(np.mean(theirs ** 2)), 1e-3)


# ------------------------------------------------------------------------------------------ latent

def test_latent_method_descends_through_a_trained_decoder(tiny_run):
    from vae.run import load_run

    run = load_run(tiny_run)
    prob = Problem.create(SYNTH, subset=run.subset)
    target, _ = _in_domain(prob, 7)
    found = latent(prob, target, run, starts=4, budget_s=1e9, max_steps=20, chunk=5)
    assert found.method == "latent+direct" and found.renders == 4 * 20
    assert found.extra["latent_renders"] == 40 and found.distance <= found.extra["latent_distance"]
    assert found.history[-1, 0] == found.renders
    # a run that reads parameters cannot hear the target: it starts from the prior, N(0, I) draws of the seed
    assert found.extra["start"] == "prior" and "encoder_distance" not in found.extra
    z0, kind = latent_starts(prob, target, run, 4, seed=3)
    np.testing.assert_allclose(z0, np.random.default_rng(3).standard_normal((4, run.config.model.latent_dim)),
                               rtol=1e-6)
    assert kind == "prior"


def _heard(run) -> tuple[Problem, np.ndarray]:
    """(the problem at the run's own synth, a held-out patch of its dataset rendered [buffer_size])."""
    prob = Problem.create(dataclasses.replace(run.synth_config, batch_size=1), subset=run.subset)
    return prob, np.asarray(prob.render(jnp.asarray(run.dataset.test[:1]), prob.noise()))[0]


@pytest.mark.slow
def test_latent_starts_where_the_encoder_puts_the_target(tiny_timbre_run):
    from vae.run import decode, encode_audio, load_run

    run = load_run(tiny_timbre_run)
    prob, target = _heard(run)
    mu, logvar = encode_audio(run, target[None])
    z0, kind = latent_starts(prob, target, run, 4, seed=3)
    assert kind == "encoder"
    np.testing.assert_array_equal(z0[0], mu[0])  # start 0 is the code itself, the others posterior draws
    draws = np.random.default_rng(3).standard_normal((4, run.config.model.latent_dim))[1:]
    np.testing.assert_allclose(z0[1:], mu + np.exp(0.5 * logvar) * draws, rtol=1e-5, atol=1e-6)
    # one step, no refinement: the descent scores its start and the answer is decode(mu), the instant match
    found = latent(prob, target, run, starts=1, budget_s=0.0, max_steps=1, chunk=1, refine_fraction=0.0)
    guess = np.asarray(run.subset.expand(jnp.asarray(decode(run, mu))))[0]
    assert found.extra["start"] == "encoder" and found.method == "latent"
    np.testing.assert_allclose(found.extra["encoder_params01"], guess, atol=1e-6)
    np.testing.assert_allclose(found.params01, guess, atol=1e-6)
    np.testing.assert_allclose(found.distance, found.extra["encoder_distance"], rtol=1e-4)
    prior = latent(prob, target, run, starts=1, budget_s=0.0, max_steps=1, chunk=1, refine_fraction=0.0,
                   start="prior")  # the benchmark's other arm: the same run searched from N(0, I)
    assert prior.extra["start"] == "prior" and "encoder_distance" not in prior.extra


@pytest.mark.slow
def test_an_encoder_start_needs_the_runs_rate_and_length(tiny_timbre_run):
    from vae.run import load_run

    run = load_run(tiny_timbre_run)
    prob, target = _heard(run)
    with pytest.raises(EncoderStartError, match=f"hears {run.synth_config.buffer_size} samples"):
        latent(prob, target[:-1], run, starts=2, budget_s=0.0, max_steps=1)
    other = Problem.create(SYNTH, subset=run.subset)  # 4 kHz like the run, but 0.25 s
    with pytest.raises(EncoderStartError, match="load it at the run's synth"):
        latent(other, _in_domain(other, 1)[0], run, starts=2, budget_s=0.0, max_steps=1)


# ------------------------------------------------------------------------------------------ CLI

SMALL = ["--sample-rate", "4000", "--seconds", "0.25", "--starts", "4"]


@pytest.mark.parametrize("argv, message", [
    (["missing.wav", "--out", "o"], "missing.wav does not exist"),
    (["t.wav", "--out", "o", "--budget", "0"], "--budget"),
    (["t.wav", "--out", "o", "--method", "latent"], "--method latent needs --run"),
    (["t.wav", "--out", "o", "--run", "."], "--run . is not a run"),
    (["t.wav", "--out", "o", "--method", "adam"], "--method"),
    (["notwav.txt", "--out", "o"], "not a readable WAV"),
])
def test_cli_bad_input_exits_2_naming_it(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    _wav(tmp_path / "t.wav", 0.1 * np.ones(1000, np.float32), 4000)
    (tmp_path / "notwav.txt").write_text("hello")
    with pytest.raises(SystemExit) as done:
        raise SystemExit(main(argv))
    assert done.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_cli_writes_patch_wav_figure_and_the_summary_line(problem, tmp_path, capsys):
    target, _ = _in_domain(problem, 3)
    wav = _wav(tmp_path / "t.wav", target, SYNTH.sample_rate)
    assert main([str(wav), "--out", str(tmp_path / "out"), "--budget", "2", *SMALL]) == 0
    printed = capsys.readouterr()
    scale, last = printed.out.strip().splitlines()[-2:]
    fields = dict(kv.split("=") for kv in last.removeprefix("match: ").split())
    assert last.startswith("match: method=direct ") and set(fields) == {
        "method", "spectral_distance", "random_search", "mean_patch", "renders", "seconds"}
    assert scale.startswith("spectral distances, lower is closer: random_search") and "mean_patch" in scale
    assert "direct search" in printed.err and "random search with the same" in printed.err  # Progress, per stage.
    assert float(fields["spectral_distance"]) <= float(fields["random_search"]) + 1.0
    for name in ("patch.json", "match.wav", "match.png", "target.wav"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    matched, rate = sf.read(str(tmp_path / "out" / "match.wav"), dtype="float32")
    params01, synth = read_patch(tmp_path / "out" / "patch.json")
    assert rate == 4000 and synth == SYNTH
    np.testing.assert_allclose(matched, np.asarray(render(jnp.asarray(params01[None]), problem.noise(), synth))[0],
                               atol=1e-6)


@pytest.mark.slow
def test_cli_latent_matches_at_the_runs_synth_and_prints_the_encoders_guess(tiny_timbre_run, tmp_path, capsys):
    from vae.run import load_run

    run = load_run(tiny_timbre_run)
    wav = _wav(tmp_path / "t.wav", _heard(run)[1], run.synth_config.sample_rate)
    argv = [str(wav), "--run", str(tiny_timbre_run), "--method", "latent", "--starts", "4"]
    assert main([*argv, "--out", str(tmp_path / "short"), "--seconds", "0.25"]) == 2  # not what the encoder hears
    assert "hears 400 samples at 4000 Hz" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "out"), "--budget", "2"]) == 0
    scale, last = capsys.readouterr().out.strip().splitlines()[-2:]
    fields = dict(kv.split("=") for kv in last.removeprefix("match: ").split())
    assert fields["start"] == "encoder" and "encoder_guess is" in scale
    assert float(fields["spectral_distance"]) <= float(fields["latent_search"]) <= float(fields["encoder_guess"]) + 1e-4
    assert read_patch(tmp_path / "out" / "patch.json")[1] == dataclasses.replace(run.synth_config, batch_size=1)


# ------------------------------------------------------------------------------------------ benchmark targets

def test_benchmark_targets_say_what_to_install_when_espeak_is_missing(problem, monkeypatch):
    from tests.checkout import load_script

    targets = load_script("matching_targets", folder="benchmarks")
    monkeypatch.setattr(targets.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="apt-get install espeak-ng"):
        targets.spoken_word(problem)
    made, missing = targets.optional(problem)
    assert any("espeak-ng is not installed" in m for m in missing)
    assert all(a.shape == (SYNTH.buffer_size,) and a.dtype == np.float32 for _, a in made)
    assert [n for n, _ in targets.synthetic(SYNTH.sample_rate, SYNTH.buffer_size)] == [
        "karplus-strong", "fm-bell", "noise-burst"]


def test_match_figure_draws_silence_without_warnings(tmp_path):
    """A target with silent frames (-inf dB) draws without a divide-by-zero warning."""
    import warnings

    from matching.figure import match_figure
    from matching.problem import MatchResult

    audio = np.zeros(4000, np.float32)
    audio[:1000] = np.sin(np.arange(1000) * 0.3)
    result = MatchResult("direct", np.zeros(78), 1.0, 10, 0.1, np.array([[1.0, 2.0, 2.0], [10.0, 1.0, 1.5]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = match_figure(tmp_path / "m.png", audio, audio, 4000, [result])
    assert path.read_bytes()[:4] == b"\x89PNG"
