"""vae.data: the thesis subset, generation, the JSON/NPZ round trip and clear errors on bad files."""

import json

import numpy as np
import pytest

from jaxsynth import PARAMETER_NAMES, RANGES, to_physical
from vae import data

CONFIG = data.DataConfig(n_patches=64, split=(48, 8, 8), seed=3)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    dataset = data.generate(CONFIG)
    npz, js = data.save(dataset, tmp_path_factory.mktemp("data") / "d", progress=False)
    return dataset, npz, js


def test_thesis_subset_is_63_parameters_with_15_routes_off():
    subset = data.parameter_subset()
    assert subset.size == 63
    routes = [n for n in subset.names if n.startswith("mod_matrix/")]
    assert sorted(routes) == sorted(data.THESIS_ROUTES)
    frozen = {n: v for n, v in zip(subset.full_names, subset.frozen_values) if n not in subset.names}
    assert len(frozen) == 15 and all(n.startswith("mod_matrix/") and v == 0.0 for n, v in frozen.items())
    assert data.parameter_subset(all_params=True).size == 78


def test_generate_is_seeded_uniform_and_split():
    a, b = data.generate(CONFIG), data.generate(CONFIG)
    assert a.counts == {"train": 48, "val": 8, "test": 8} and a.size == 63
    for split in data.SPLITS:
        np.testing.assert_array_equal(getattr(a, split), getattr(b, split))
    assert a.train.dtype == np.float32 and 0.0 <= a.train.min() and a.train.max() < 1.0
    other = data.generate(data.DataConfig(64, (48, 8, 8), seed=4))
    assert not np.array_equal(a.train, other.train)
    with pytest.raises(ValueError, match="DataConfig.split 5 3 3 must be three sizes .* that sum to DataConfig.n_patches 10"):
        data.DataConfig(n_patches=10, split=(5, 3, 3))


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_round_trip_is_exact(saved, suffix):
    dataset, npz, js = saved
    loaded = data.load(npz if suffix == ".npz" else js, progress=False)
    assert loaded.names == dataset.names and loaded.fixed == dataset.fixed and loaded.seed == dataset.seed
    for split in data.SPLITS:
        np.testing.assert_array_equal(getattr(loaded, split), getattr(dataset, split))


def test_json_holds_physical_values_by_module(saved):
    dataset, _, js = saved
    doc = json.loads(js.read_text())
    record = doc["train"][0]
    assert set(record) >= {"keyboard", "adsr_1", "mod_matrix", "mixer"}
    midi = record["keyboard"]["midi_f0"]
    assert midi == pytest.approx(127.0 * dataset.train[0, dataset.names.index("keyboard/midi_f0")], rel=1e-6)
    assert len(doc["fixed"]) == 15 and doc["counts"] == {"train": 48, "val": 8, "test": 8}


def test_float64_physical_values_agree_with_the_synths_mapping():
    x = np.random.default_rng(0).random((256, 78)).astype(np.float32)
    ours = data._physical(PARAMETER_NAMES, x)
    synth = np.asarray(to_physical(x))
    width = np.array([r.maximum - r.minimum for r in RANGES])
    assert np.max(np.abs(ours - synth) / width) < 1e-6


def _corrupt_json(js, tmp_path, edit):
    doc = json.loads(js.read_text())
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    return bad


def test_json_out_of_range_record_is_named(saved, tmp_path):
    _, _, js = saved
    bad = _corrupt_json(js, tmp_path, lambda d: d["val"][5]["adsr_1"].__setitem__("attack", 7.5))
    with pytest.raises(data.DatasetError) as err:
        data.load(bad, progress=False)
    msg = str(err.value)
    assert "val record 5" in msg and "'adsr_1/attack'" in msg and "7.5" in msg and "[0, 2]" in msg


def test_json_missing_parameter_and_bad_count(saved, tmp_path):
    _, _, js = saved
    bad = _corrupt_json(js, tmp_path, lambda d: d["train"][2]["mixer"].pop("noise"))
    with pytest.raises(data.DatasetError, match=r"train record 2: parameter 'mixer/noise' is missing"):
        data.load(bad, progress=False)
    bad = _corrupt_json(js, tmp_path, lambda d: d["test"].pop())
    with pytest.raises(data.DatasetError, match=r"'test' has 7 records but the header says 8"):
        data.load(bad, progress=False)


def test_npz_out_of_range_value_is_named(saved, tmp_path):
    dataset, npz, _ = saved
    with np.load(npz) as z:
        arrays = dict(z)
    arrays["test"] = arrays["test"].copy()
    arrays["test"][3, 1] = 1.5
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(data.DatasetError) as err:
        data.load(bad)
    msg = str(err.value)
    assert "test record 3: parameter 'keyboard/duration' = 1.5 is outside [0, 1]" in msg and "[0.01, 4]" in msg


def test_parameter_count_mismatch_says_so():
    full = data.generate(data.DataConfig(8, (6, 1, 1), all_params=True))
    with pytest.raises(data.DatasetError, match="has 78 free parameters but the model expects 63.*--all-params"):
        data.check_matches(full, 63)
