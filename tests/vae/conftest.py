"""The VAE tests' short runs (short_runs.py): a 64-patch dataset and the run trained from it without a break,
one per test module."""

import pytest

from vae import data, train
from tests.vae.short_runs import short_config


@pytest.fixture(scope="module")
def dataset_file(tmp_path_factory):
    dataset = data.generate(data.DataConfig(64, (48, 8, 8), seed=0))
    npz, _ = data.save(dataset, tmp_path_factory.mktemp("data") / "tiny", progress=False)
    return dataset, npz


@pytest.fixture(scope="module")
def uninterrupted(dataset_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "straight"
    result = train.train(short_config(dataset_file), out, dataset_file[0], show_progress=False)
    return out, result
