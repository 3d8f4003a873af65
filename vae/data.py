"""Datasets of random Voice patches (thesis section 4.1): generation, files, validated loading.

A dataset is N patches drawn uniformly in the synth's [0, 1] parameter space (as torchsynth
randomizes a Voice), split once with a fixed seed into train/val/test. Only parameters are
stored; the training step renders audio on the fly. Two files hold the same patches:

- `NAME.json`: physical values named by module and parameter, as the thesis stored them
  (records like `{"keyboard": {"midi_f0": 61.3, "duration": 0.82}, "adsr_1": {...}, ...}`),
  with the parameter ranges and the frozen parameters in the header;
- `NAME.npz`: the same patches as float32 [n, k] arrays in [0, 1], exact, fast to load;
  training reads this one.

The thesis trains on 63 parameters (Table 4.1, Appendix A): all of them but only 5 of the
20 modulation-matrix routes. The other 15 routes are frozen at 0 in [0, 1], which is 0 in
physical units, i.e. route off (`FROZEN_ROUTE_VALUE`). `all_params=True` frees all 78.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

import jax
import numpy as np
from tqdm.auto import tqdm

from jaxsynth import N_PARAMETERS, PARAMETER_NAMES, ParameterSubset, parameter_range, random_params
from common import atomic, limits
from common.bounds import SettingError, check_range

FORMAT = "jaxsynth-vae-dataset/1"
SPLITS = ("train", "val", "test")

# Appendix A, Table A.2: the five modulation routes the thesis varies.
THESIS_ROUTES = tuple(
    f"mod_matrix/{route}"
    for route in (
        "adsr_1->vco_1_pitch",
        "adsr_2->vco_2_pitch",
        "lfo_1->vco_1_amp",
        "lfo_2->vco_2_amp",
        "adsr_1->noise_amp",
    )
)
FROZEN_ROUTE_VALUE = 0.0  # [0, 1] value of the 15 other routes: amount 0, the route is off.


class DatasetError(ValueError):
    """A dataset file or array that is malformed or does not fit the synth or the model."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """How a dataset is drawn.

    Attributes:
      n_patches: total number of patches.
      split: (train, val, test) sizes; they sum to n_patches.
      seed: seed of the draw and of the split.
      all_params: free all 78 parameters instead of the thesis's 63.
    """

    n_patches: int = 140_000
    split: tuple[int, int, int] = (100_000, 20_000, 20_000)
    seed: int = 0
    all_params: bool = False

    def __post_init__(self):
        check_range("DataConfig.n_patches", self.n_patches, 1, limit=limits.MAX_PATCHES)
        check_range("DataConfig.split", self.split, 1, limit=limits.MAX_PATCHES)
        if len(self.split) != 3 or sum(self.split) != self.n_patches:
            raise SettingError("DataConfig.split", f"{' '.join(map(str, self.split))} must be three sizes (train, val, "
                                                   f"test) that sum to {{DataConfig.n_patches}} {self.n_patches}")


@functools.lru_cache(maxsize=2)
def parameter_subset(all_params: bool = False) -> ParameterSubset:
    """The 63 thesis parameters (others frozen off), or all 78 with `all_params`."""
    routes = [n for n in PARAMETER_NAMES if n.startswith("mod_matrix/")]
    frozen = {} if all_params else {n: FROZEN_ROUTE_VALUE for n in routes if n not in THESIS_ROUTES}
    free = [n for n in PARAMETER_NAMES if n not in frozen]
    return ParameterSubset.create(free, frozen)


def n_free(all_params: bool = False) -> int:
    """Free parameters of a dataset: 63 (the thesis's), or all 78 with `all_params`."""
    return parameter_subset(all_params).size


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Patches of the free parameters, float32 [n, k] arrays in [0, 1] per split.

    Attributes:
      names: the k free parameters (`module/param`), the arrays' column order.
      fixed: (name, value in [0, 1]) of every other synth parameter.
      train, val, test: [n_split, k] float32.
      seed: the seed the patches were drawn with.
    """

    names: tuple[str, ...]
    fixed: tuple[tuple[str, float], ...]
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int

    @property
    def size(self) -> int:
        """Number of free parameters k."""
        return len(self.names)

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(getattr(self, s)) for s in SPLITS}

    def subset(self) -> ParameterSubset:
        """The `ParameterSubset` that expands these k columns to the synth's 78."""
        return ParameterSubset.create(self.names, dict(self.fixed))


def generate(config: DataConfig) -> Dataset:
    """Draws `config.n_patches` uniform patches and splits them with `config.seed`."""
    subset = parameter_subset(config.all_params)
    key = jax.random.PRNGKey(config.seed)
    draw_key, split_key = jax.random.split(key)
    patches = np.asarray(subset.select(random_params(draw_key, config.n_patches)), np.float32)
    order = np.asarray(jax.random.permutation(split_key, config.n_patches))
    bounds = np.cumsum(config.split)[:-1]
    train, val, test = (patches[idx] for idx in np.split(order, bounds))
    return Dataset(subset.names, _fixed_items(subset), train, val, test, config.seed)


def _fixed_items(subset: ParameterSubset) -> tuple[tuple[str, float], ...]:
    free = set(subset.names)
    return tuple((n, v) for n, v in zip(subset.full_names, subset.frozen_values) if n not in free)


def paths(path: str | Path) -> tuple[Path, Path]:
    """(NAME.npz, NAME.json) for NAME, NAME.npz or NAME.json."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".npz", ".json") else path
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def save(dataset: Dataset, path: str | Path, progress: bool = True) -> tuple[Path, Path]:
    """Writes NAME.npz and NAME.json (see module doc); returns their paths."""
    npz_path, json_path = paths(path)
    fixed_names = [n for n, _ in dataset.fixed]
    # Each file atomically (`common.atomic`); a file object, as np.savez would otherwise append ".npz".
    with atomic.atomic_path(npz_path) as tmp, open(tmp, "wb") as f:
        np.savez(
            f,
            format=np.array(FORMAT),
            names=np.array(dataset.names),
            fixed_names=np.array(fixed_names, dtype=str).reshape(-1),
            fixed_values=np.array([v for _, v in dataset.fixed], np.float32).reshape(-1),
            counts=np.array([dataset.counts[s] for s in SPLITS], np.int64),
            seed=np.array(dataset.seed, np.int64),
            **{s: np.asarray(getattr(dataset, s), np.float32) for s in SPLITS},
        )
    with atomic.atomic_path(json_path) as tmp, open(tmp, "w") as f:
        for chunk in _json_chunks(dataset, progress):
            f.write(chunk)
    return npz_path, json_path


def _describe(name: str, physical_value: float | None = None) -> dict:
    module, parameter = name.split("/", 1)
    r = parameter_range(name)
    out = {"name": name, "module": module, "parameter": parameter, "min": r.minimum, "max": r.maximum,
           "curve": r.curve, "symmetric": r.symmetric}
    if physical_value is not None:
        out["value"] = physical_value
    return out


def _record_template(names: tuple[str, ...]) -> str:
    """A str.format template turning k value strings into one nested {module: {param: v}} record."""
    modules: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        module, parameter = name.split("/", 1)
        modules.setdefault(module, []).append(f'"{parameter}":{{{i}}}')
    body = ",".join(f'"{m}":{{{{' + ",".join(fields) + "}}" for m, fields in modules.items())
    return "{{" + body + "}}"


def _physical(names: tuple[str, ...], x01: np.ndarray) -> np.ndarray:
    """[n, k] in [0, 1] -> [n, k] float64 physical values of the named parameters.

    The JSON stores float64 physical values so that it converts back to [0, 1] losslessly
    (see `ParameterRange.from_0to1_float64`).
    """
    x01 = np.asarray(x01, np.float64)
    cols = [parameter_range(name).from_0to1_float64(x01[:, j]) for j, name in enumerate(names)]
    return np.stack(cols, axis=-1) if cols else np.zeros((len(x01), 0))


def _normalized(ranges, physical: np.ndarray) -> np.ndarray:
    """Inverse of `_physical`: [n, k] float64 physical values -> [n, k] float32 in [0, 1]."""
    cols = [r.to_0to1_float64(physical[:, j]) for j, r in enumerate(ranges)]
    out = np.stack(cols, axis=-1) if cols else np.zeros((len(physical), 0))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _json_chunks(dataset: Dataset, progress: bool) -> Iterator[str]:
    """The JSON file as a stream of strings (physical values as float64, shortest round-trip form)."""
    fixed_names = tuple(n for n, _ in dataset.fixed)
    fixed_physical = _physical(fixed_names, np.array([[v for _, v in dataset.fixed]], np.float32))[0]
    fixed = [dict(_describe(n, float(p)), value_0to1=v) for (n, v), p in zip(dataset.fixed, fixed_physical)]
    header = {
        "format": FORMAT,
        "synth": "torchsynth 1.0.2 Voice (jaxsynth port)",
        "sampling": "each free parameter uniform in [0, 1) (Voice.random_params), stored in physical units",
        "seed": dataset.seed,
        "counts": dataset.counts,
        "parameters": [_describe(n) for n in dataset.names],
        "fixed": fixed,
    }
    yield json.dumps(header, indent=1)[:-2] + ",\n"  # Reopen the object for the splits.
    template = _record_template(dataset.names)
    bar = tqdm(total=sum(dataset.counts.values()), desc="write json", unit="patch", disable=not progress)
    for s_index, split in enumerate(SPLITS):
        physical = _physical(dataset.names, getattr(dataset, split)).tolist()
        yield f' "{split}": [\n'
        for i, row in enumerate(physical):
            sep = ",\n" if i + 1 < len(physical) else "\n"
            yield "  " + template.format(*map(repr, row)) + sep
            bar.update(1)
        yield " ]" + (",\n" if s_index + 1 < len(SPLITS) else "\n")
    bar.close()
    yield "}\n"


def load(path: str | Path, progress: bool = True) -> Dataset:
    """Reads a .npz (fast) or .json dataset, validating names, counts and ranges.

    Raises `DatasetError` naming the first bad record: split, record index, parameter, value
    and its valid range.
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"dataset file {path} does not exist (make one with scripts/make_dataset.py)")
    if path.suffix == ".npz":
        dataset = _load_npz(path)
    elif path.suffix == ".json":
        dataset = _load_json(path, progress)
    else:
        raise DatasetError(f"dataset {path} must be a .npz or .json file")
    _check_names(path, dataset)
    for split in SPLITS:
        _check_unit_range(path, split, getattr(dataset, split), dataset.names)
    return dataset


def _check_unit_range(path: Path, split: str, x01: np.ndarray, names) -> None:
    """Raises `DatasetError` at the first value (record order) that is not finite or not in [0, 1]."""
    bad = ~(np.isfinite(x01) & (x01 >= 0.0) & (x01 <= 1.0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        r = parameter_range(names[col])
        raise DatasetError(
            f"{path}: {split} record {row}: parameter {names[col]!r} = {float(x01[row, col])!r} is outside [0, 1] "
            f"(normalized; physical range {r.describe()})"
        )


def _load_npz(path: Path) -> Dataset:
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a DatasetError.
        raise DatasetError(f"{path} is not a readable .npz dataset: {e}") from None
    with z:
        keys = ("format", "names", "fixed_names", "fixed_values", "counts", "seed", *SPLITS)
        missing = [k for k in keys if k not in z]
        if missing:
            raise DatasetError(f"{path} lacks the arrays {missing}; is it a dataset written by vae.data.save?")
        try:  # A truncated or edited file fails here, on the first array read.
            if str(z["format"]) != FORMAT:
                raise DatasetError(f"{path} has format {str(z['format'])!r}, expected {FORMAT!r}")
            names = tuple(str(n) for n in z["names"])
            arrays = {s: np.asarray(z[s]) for s in SPLITS}
            counts = dict(zip(SPLITS, (int(c) for c in z["counts"])))
            fixed = tuple((str(n), float(v)) for n, v in zip(z["fixed_names"], z["fixed_values"]))
            seed = int(z["seed"])
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, TypeError, ValueError) as e:
            if isinstance(e, DatasetError):
                raise
            raise DatasetError(f"{path} is damaged ({type(e).__name__}: {e}); make it again with "
                               "scripts/make_dataset.py or restore it from a copy") from None
    for split, arr in arrays.items():
        if arr.dtype.kind != "f":
            raise DatasetError(f"{path}: split {split!r} holds {arr.dtype} values, not real floats in [0, 1]")
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise DatasetError(
                f"{path}: split {split!r} has shape {arr.shape}, expected [n, {len(names)}] "
                "(one column per named parameter)"
            )
        if len(arr) != counts[split]:
            raise DatasetError(f"{path}: split {split!r} has {len(arr)} records but the header says {counts[split]}")
    return Dataset(names, fixed, *(arrays[s].astype(np.float32) for s in SPLITS), seed)


def _check_names(path: Path, dataset: Dataset) -> None:
    unknown = [n for n in dataset.names + tuple(n for n, _ in dataset.fixed) if n not in PARAMETER_NAMES]
    if unknown:
        raise DatasetError(f"{path}: unknown parameter names {unknown}; valid: {', '.join(PARAMETER_NAMES)}")
    try:
        dataset.subset()
    except ValueError as e:
        raise DatasetError(f"{path}: {e}") from None


def _load_json(path: Path, progress: bool) -> Dataset:
    try:
        return _read_json(path, progress)
    except (KeyError, TypeError, AttributeError, UnicodeDecodeError, ValueError) as e:
        if isinstance(e, DatasetError):
            raise
        raise DatasetError(f"{path} is not a dataset written by scripts/make_dataset.py ({type(e).__name__}: {e}); "
                           "make it again or restore it from a copy") from None


def _read_json(path: Path, progress: bool) -> Dataset:
    with open(path) as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DatasetError(f"{path}: expected a JSON object with format {FORMAT!r}")
    names = tuple(p["name"] for p in doc["parameters"])
    ranges = []
    for p in doc["parameters"]:
        if p["name"] not in PARAMETER_NAMES:
            raise DatasetError(f"{path}: unknown parameter {p['name']!r}; valid: {', '.join(PARAMETER_NAMES)}")
        r = parameter_range(p["name"])
        if (p["min"], p["max"], p["curve"], p["symmetric"]) != (r.minimum, r.maximum, r.curve, r.symmetric):
            raise DatasetError(f"{path}: range of {p['name']!r} in the file differs from the synth's {r.describe()}")
        ranges.append(r)
    fixed = tuple((p["name"], float(p["value_0to1"])) for p in doc["fixed"])
    bar = tqdm(total=sum(len(doc.get(s, [])) for s in SPLITS), desc="read json", unit="patch", disable=not progress)
    arrays = []
    for split in SPLITS:
        records = doc.get(split)
        if not isinstance(records, list):
            raise DatasetError(f"{path}: split {split!r} is missing or not a list")
        if len(records) != doc["counts"][split]:
            raise DatasetError(
                f"{path}: split {split!r} has {len(records)} records but the header says {doc['counts'][split]}")
        physical = np.stack([_record_values(path, split, i, rec, names, ranges) for i, rec in enumerate(records)]) \
            if records else np.zeros((0, len(names)))
        bar.update(len(records))
        arrays.append(_normalized(ranges, physical))
    bar.close()
    return Dataset(names, fixed, *arrays, int(doc["seed"]))


def _record_values(path: Path, split: str, index: int, record, names, ranges) -> np.ndarray:
    """One JSON record -> [k] physical values, or a DatasetError naming what is wrong in it."""
    where = f"{path}: {split} record {index}"
    if not isinstance(record, dict):
        raise DatasetError(f"{where} is not an object of modules")
    values = np.empty(len(names))
    for j, (name, r) in enumerate(zip(names, ranges)):
        module, parameter = name.split("/", 1)
        try:
            v = record[module][parameter]
        except (KeyError, TypeError):
            raise DatasetError(f"{where}: parameter {name!r} is missing") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise DatasetError(f"{where}: parameter {name!r} = {v!r} is not a finite number")
        tol = 1e-6 * (r.maximum - r.minimum)
        if not r.minimum - tol <= v <= r.maximum + tol:
            raise DatasetError(f"{where}: parameter {name!r} = {v!r} is outside its valid range {r.describe()}")
        values[j] = min(max(v, r.minimum), r.maximum)
    seen = sum(len(m) for m in record.values() if isinstance(m, dict))
    if seen != len(names):
        extra = sorted(f"{m}/{p}" for m, ps in record.items() if isinstance(ps, dict) for p in ps
                       if f"{m}/{p}" not in names)
        raise DatasetError(f"{where}: unexpected parameters {extra}")
    return values


def fingerprint(dataset: Dataset) -> str:
    """SHA-256 (hex) of a dataset's names, seed and the float32 patches of each split: what a run records
    (`RunConfig.dataset_sha256`) so that a dataset changed after it was trained on is noticed."""
    digest = hashlib.sha256(json.dumps([list(dataset.names), dataset.seed, dataset.counts]).encode())
    for split in SPLITS:
        digest.update(np.ascontiguousarray(getattr(dataset, split), np.float32).tobytes())
    return digest.hexdigest()


def check_same(dataset: Dataset, drawn: DataConfig, names: tuple[str, ...], sha256: str | None, source: str) -> None:
    """Raises `DatasetError` unless `dataset` is the one a run was trained on: the recorded free names, seed and
    split counts, and (runs since the fingerprint was recorded) the same patches, byte for byte."""
    differences = [what for what, same in (
        (f"free parameters {list(dataset.names)[:3]}... instead of {list(names)[:3]}...", dataset.names == names),
        (f"seed {dataset.seed} instead of {drawn.seed}", dataset.seed == drawn.seed),
        (f"counts {tuple(dataset.counts.values())} instead of {tuple(drawn.split)}",
         tuple(dataset.counts.values()) == tuple(drawn.split)),
        ("other patches (its SHA-256 fingerprint differs)", sha256 is None or fingerprint(dataset) == sha256),
    ) if not same]
    if differences:
        raise DatasetError(f"{source} is not the dataset the run was trained on: it has {differences[0]}; it was "
                           "changed or overwritten since: restore it, or make it again with scripts/make_dataset.py "
                           f"--seed {drawn.seed} --n-patches {drawn.n_patches} "
                           f"--split {' '.join(map(str, drawn.split))}"
                           + (" --all-params" if drawn.all_params else ""))


def check_matches(dataset: Dataset, n_params: int, source: str = "dataset") -> None:
    """Raises `DatasetError` unless the dataset has `n_params` free parameters (the model's input)."""
    if dataset.size != n_params:
        hint = ("pass --all-params" if dataset.size == N_PARAMETERS else "drop --all-params" if dataset.size == n_free()
                else "")
        raise DatasetError(
            f"{source} has {dataset.size} free parameters but the model expects {n_params}"
            + (f" ({hint} or use a {n_params}-parameter dataset)" if hint else "")
        )


def default_path(config: DataConfig, root: str | Path = "data") -> Path:
    """data/voice{63|78}_{train}-{val}-{test}_seed{seed}.npz, the name a generated dataset is cached under."""
    k = n_free(config.all_params)
    return Path(root) / f"voice{k}_{'-'.join(map(str, config.split))}_seed{config.seed}.npz"


def load_or_generate(path: str | Path, config: DataConfig, progress: bool = True) -> Dataset:
    """Loads the dataset at `path` if it exists, else generates it from `config` and saves it there."""
    path = Path(path)
    if path.exists():
        return load(path, progress=progress)
    if path.suffix not in (".npz", ""):
        raise DatasetError(f"{path} does not exist; datasets are generated as .npz (+ .json)")
    dataset = generate(config)
    npz_path, json_path = save(dataset, path, progress=progress)
    tqdm.write(f"generated {config.n_patches} patches ({dataset.size} parameters, seed {config.seed}) "
               f"-> {npz_path}, {json_path}")
    return dataset
