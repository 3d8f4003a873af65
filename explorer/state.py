"""The explorer's state and what each route does, as plain (blocking) functions of validated data.

`Explorer.open` loads the run, its map (`space`), a `Renderer` with its jit warmed and a sound cache;
the server calls the methods below from worker threads. Every method that makes a sound returns a
`cache.Sound` already stored in the cache, so its WAV and patch.json URLs work at once.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from jaxsynth import N_PARAMETERS, SynthConfig
from vae import run as run_lib
from explorer import measures, patches, space
from explorer.cache import Sound, SoundCache, sound_id
from explorer.config import ExplorerConfig
from explorer.requests import RequestError
from explorer.sound import WAV_SUBTYPES, Renderer, wav_bytes

INVERSION = ("k-nearest-neighbour inverse: a map position becomes the inverse-distance-weighted mean of the "
             "latents of its {k} nearest map points (UMAP itself has no inverse)")


@dataclasses.dataclass(frozen=True, eq=False)
class Explorer:
    """A loaded run ready to be explored.

    Attributes:
      run: the loaded run; config: the ExplorerConfig.
      space: the map (training latents, 2-D positions, clusters).
      renderer: decode + render; cache: rendered sounds by id.
      point_parameters: [n, 78] the map points' training patches, all parameters in [0, 1].
      descriptors: {name: [n]} sound descriptors of the points' rendered training patches (`measures`).
      slider_labels: per latent dimension, the descriptor it moves most (`measures.slider_labels`).
      warm_seconds: how long loading the map, compiling and measuring took.
    """

    run: run_lib.LoadedRun
    config: ExplorerConfig
    space: space.LatentMap
    renderer: Renderer
    cache: SoundCache
    point_parameters: np.ndarray
    descriptors: dict
    slider_labels: list
    warm_seconds: float

    @classmethod
    def open(cls, run_dir: str | Path, config: ExplorerConfig = ExplorerConfig(), which: str = "best",
             synth: SynthConfig | None = None, progress: bool = True) -> "Explorer":
        """Loads RUN_DIR's `which` checkpoint, its map, a warmed renderer (synth: the run's unless given) and the
        sound descriptors of the map's training patches (rendered in batches, with a progress bar)."""
        t0 = time.perf_counter()
        run = run_lib.load_run(run_dir, which)
        latent_map = space.load_map(run, config.points, config.default_points, config.seed, progress)
        renderer = Renderer.create(run, config.path_steps_max, synth)
        renderer.warm()
        full = np.asarray(run.subset.expand(latent_map.x), np.float32)
        values = measures.of_patches(renderer.render, full, renderer.sample_rate, renderer.batch, progress)
        labels = measures.slider_labels(latent_map.mu, values, config.slider_label_min_r)
        return cls(run, config, latent_map, renderer, SoundCache(config.cache_size), full, values, labels,
                   time.perf_counter() - t0)

    # ------------------------------------------------------------------ what the page shows

    @property
    def latent_dim(self) -> int:
        return self.run.config.model.latent_dim

    def info(self) -> dict:
        """The run and the settings the page needs (GET /api/info)."""
        mu = self.space.mu
        synth = self.renderer.voice.config
        return {
            "run": str(self.run.run_dir), "case": self.run.config.case, "checkpoint": self.run.which,
            "step": self.run.step, "sample_rate": synth.sample_rate, "seconds": synth.buffer_size_seconds,
            "latent_dim": self.latent_dim, "latent_limit": self.config.latent_limit,
            "slider_min": np.maximum(mu.min(axis=0) - 1.0, -self.config.latent_limit).round(3).tolist(),
            "slider_max": np.minimum(mu.max(axis=0) + 1.0, self.config.latent_limit).round(3).tolist(),
            "n_points": len(self.space), "map_source": self.space.source,
            "inversion": INVERSION.format(k=self.config.neighbours), "path_steps_max": self.config.path_steps_max,
            "upload_limit_bytes": self.config.upload_limit_bytes, "match_budget_s": self.config.match_budget_s,
            "free_parameters": list(self.run.subset.names),
            "descriptors": [{"name": d.name, "label": d.label, "unit": d.unit} for d in measures.DESCRIPTORS],
            "slider_labels": self.slider_labels, "slider_label_min_r": self.config.slider_label_min_r,
            "hears_audio": run_lib.hears_audio(self.run), "wav_bits": list(WAV_SUBTYPES),
        }

    def points(self) -> dict:
        """The map (GET /api/points): points with index, x, y, cluster and main parameters; the free
        parameters' values in [0, 1] by name, for coloring, and each one's physical value at 0 and at 1; the
        sound descriptors of each point's training patch (None where undefined, e.g. the pitch of noise)."""
        xy, labels = self.space.xy, self.space.labels
        main = patches.main_parameters(self.point_parameters)
        ends = patches.physical(np.stack([np.zeros(N_PARAMETERS), np.ones(N_PARAMETERS)]))  # [2, 78] at 0 and 1
        return {
            "points": [{"index": i, "x": float(xy[i, 0]), "y": float(xy[i, 1]), "cluster": int(labels[i]),
                        "train_row": int(self.space.indices[i]), "main": main[i]} for i in range(len(xy))],
            "n_clusters": int(np.unique(labels[labels >= 0]).size),
            "parameters": {name: np.round(self.space.x[:, c], 4).tolist() for c, name in enumerate(self.run.subset.names)},
            "parameter_ends": {name: [float(f"{v:.4g}") for v in ends[:, i]]
                               for i, name in zip(self.run.subset.free_index, self.run.subset.names)},
            "descriptors": measures.as_json(self.descriptors),
        }

    def describe(self, sound: Sound) -> dict:
        """A sound as JSON: its URLs, latent, map position, main and all parameters, and the sound descriptors
        of its own audio (what plays, not the map point's training patch)."""
        return {"id": sound.id, "wav": f"/api/wav/{sound.id}.wav", "patch": f"/api/export/{sound.id}.json",
                "z": np.round(sound.z.astype(np.float64), 6).tolist(), "xy": sound.xy.astype(np.float64).tolist(),
                "origin": sound.origin, "main": patches.main_parameters(sound.full01[None])[0],
                "parameters": patches.all_parameters(sound.full01),
                "descriptors": {k: v[0] for k, v in measures.as_json(
                    measures.table(sound.audio[None], self.renderer.sample_rate)).items()}}

    # ------------------------------------------------------------------ making sounds

    def _store(self, full01: np.ndarray, audio: np.ndarray, z: np.ndarray, xy: np.ndarray, origin: str) -> Sound:
        return self.cache.put(Sound(sound_id(full01), np.asarray(full01, np.float32), np.asarray(audio, np.float32),
                                    np.asarray(z, np.float32), np.asarray(xy, np.float32), origin))

    def _decoded(self, z: np.ndarray, xy: np.ndarray, origins: list[str]) -> list[Sound]:
        """Latents [m, latent] at map positions [m, 2] -> m stored sounds."""
        full = self.renderer.decode(z)
        audio = self.renderer.render(full)
        return [self._store(f, a, zz, p, o) for f, a, zz, p, o in zip(full, audio, z, xy, origins)]

    def point_sound(self, index: int) -> Sound:
        """Map point `index`: its latent (the training patch's encoder mean) decoded and rendered."""
        return self._decoded(self.space.mu[index:index + 1], self.space.xy[index:index + 1],
                             [f"point {index} (decoded)"])[0]

    def original_sound(self, index: int) -> Sound:
        """Map point `index`'s training patch itself, rendered (what the encoder saw)."""
        full = self.point_parameters[index:index + 1]
        return self._store(full[0], self.renderer.render(full)[0], self.space.mu[index], self.space.xy[index],
                           f"point {index} (training patch)")

    def at_position(self, xy: np.ndarray) -> Sound:
        """A map position [2] -> the latent under it (`space.invert`), decoded and rendered."""
        z = space.invert(self.space, xy[None], self.config.neighbours)
        return self._decoded(z, xy[None], [f"map ({xy[0]:.2f}, {xy[1]:.2f})"])[0]

    def at_latent(self, z: np.ndarray) -> Sound:
        """A latent [latent] -> decoded and rendered, placed on the map by `space.project`."""
        xy = space.project(self.space, z[None], self.config.neighbours)
        return self._decoded(z[None], xy, ["latent"])[0]

    def path(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> list[Sound]:
        """`steps` sounds (2..path_steps_max) evenly along the straight latent line from z_a to z_b, both included."""
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        z = (1.0 - t) * z_a[None] + t * z_b[None]
        xy = space.project(self.space, z, self.config.neighbours)
        return self._decoded(z, xy, [f"path {i + 1}/{steps}" for i in range(steps)])

    def sound(self, key: str) -> Sound:
        """The cached sound `key`; RequestError(404) when it is unknown or was dropped."""
        found = self.cache.get(key)
        if found is None:
            raise RequestError(404, f"sound {key} is not (or no longer) rendered; decode it again with /api/decode")
        return found

    def wav(self, sound: Sound, bits: str = "float") -> bytes:
        """The sound as a WAV at the renderer's rate and length; `bits` a key of `sound.WAV_SUBTYPES`."""
        return wav_bytes(sound.audio, self.renderer.sample_rate, bits)

    def patch_document(self, sound: Sound) -> dict:
        """The sound-matching patch.json document (`matching.patch`) of a sound, with its latent."""
        from matching.patch import patch_dict

        return patch_dict(sound.full01, self.renderer.voice.config, noise=self.renderer.noise_info,
                          free=list(self.run.subset.names), source="explorer", run=str(self.run.run_dir),
                          origin=sound.origin, z=sound.z.astype(np.float64).tolist())

    # ------------------------------------------------------------------ sound matching

    def encode_upload(self, wav: bytes) -> tuple[Sound, list[str]]:
        """An uploaded WAV placed on the map at once: loaded like scripts/match.py (`load_target`, at the run's
        rate and length), encoded by the run's model (`vae.run.encode_audio`), placed by `space.project`; the
        encoding decoded and rendered. RequestError(422) for an unusable WAV or a run whose model encodes
        parameters, not sounds. Returns the sound and the loader's notes (resampled, trimmed, ...)."""
        if not run_lib.hears_audio(self.run):
            raise RequestError(422, f"this run's model encodes synth parameters, not sounds, so a WAV cannot be "
                                    f"placed on its map at once ({self.run.run_dir}); use sound matching "
                                    "(POST /api/match), or explore a model that hears (--objective timbre)")
        target, notes = _load_upload(wav, self.run.synth_config)
        mu = np.asarray(run_lib.encode_audio(self.run, target[None])[0], np.float32)
        xy = space.project(self.space, mu, self.config.neighbours)
        return self._decoded(mu, xy, ["upload"])[0], notes

    def match(self, wav: bytes) -> tuple[Sound, dict]:
        """Sound matching of an uploaded WAV (`matching.latent`, `match_budget_s` seconds, through the run's
        decoder): the matched patch rendered, its encoding placed on the map, and the matching's numbers.
        RequestError(422) when the file is not a usable WAV."""
        from matching import Problem, latent

        synth = self.renderer.voice.config
        target, notes = _load_upload(wav, synth)
        problem = Problem.create(synth, subset=self.run.subset)
        result = latent(problem, target, self.run, self.config.match_starts, self.config.match_budget_s)
        full = np.asarray(result.params01, np.float32)
        z = run_lib.encode(self.run, np.asarray(self.run.subset.select(full[None])))[0]
        xy = space.project(self.space, z, self.config.neighbours)
        sound = self._store(full, self.renderer.render(full[None])[0], z[0], xy[0], "match")
        return sound, {"method": result.method, "spectral_distance": float(result.distance),
                       "renders": int(result.renders), "seconds": round(float(result.seconds), 2), "notes": notes}


def _load_upload(wav: bytes, synth: SynthConfig) -> tuple[np.ndarray, list[str]]:
    """WAV bytes -> (mono float32 [buffer_size] at synth's rate, the loader's warnings), loaded like
    scripts/match.py (`matching.load_target`); RequestError(422) when it is not a usable WAV."""
    from matching import TargetError, load_target

    with tempfile.TemporaryDirectory(prefix="explorer-upload-") as folder:
        path = Path(folder) / "upload.wav"
        path.write_bytes(wav)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                target = load_target(path, synth)
        except TargetError as err:
            raise RequestError(422, _uploaded(str(err), path)) from None
    return np.asarray(target, np.float32), [_uploaded(str(w.message), path) for w in caught]


def _uploaded(message: str, path: Path) -> str:
    """A matching message about the temporary file, told about 'the uploaded file' instead."""
    return message.replace(f"target {path}", "the uploaded file").replace(str(path), "the uploaded file")
