"""Short training runs for the exact-resume tests: 64 patches, two phases without the spectral term (nothing is
rendered, so they compile in seconds); their metrics without wall-clock times, their weights."""

from jaxsynth import SynthConfig
from spectral import sizing
from vae import data, run
from vae.config import LossConfig, PhaseConfig, RunConfig, ScheduleConfig
from vae.models import ModelConfig

TIME_KEYS = ("epoch_time_s", "elapsed_s")


def short_config(dataset_file, lr=1e-3, checkpoint_every=2) -> RunConfig:
    """Two phases of 3 epochs (16-patch batches of the 48 training patches) without the spectral term."""
    dataset, path = dataset_file
    synth = SynthConfig(batch_size=16, sample_rate=4000, buffer_size_seconds=0.1)
    phases = (
        PhaseConfig("pretrain", recon=True, spectral=False, beta=0.0, max_epochs=3, patience=10, batch_size=16,
                    learning_rate=lr),
        PhaseConfig("second", recon=True, spectral=False, beta=0.0, max_epochs=3, patience=10, batch_size=16,
                    learning_rate=lr / 2, schedule=ScheduleConfig("step", decay_start=1, decay_every=1)),
    )
    return RunConfig(ModelConfig(63, (32, 16), 8), synth, LossConfig("sclp", "stft", sizing.feature_config(synth)),
                     phases, data.DataConfig(64, (48, 8, 8)), str(path), dataset.names, dataset.fixed,
                     checkpoint_every=checkpoint_every)


def without_times(records: list[dict]) -> list[dict]:
    """Metrics records without their wall-clock fields (TIME_KEYS), so two runs' records compare equal."""
    return [{k: v for k, v in r.items() if k not in TIME_KEYS} for r in records]


def run_weights(run_dir, which: str):
    """The parameters of a run's checkpoint `which` ("best" or "latest")."""
    return run.load_run(run_dir, which).params
