"""Data parallelism with `jax.sharding`: a 1-D mesh ("data") over local devices, batches split along it.

`vae.train.train(..., devices=N)` (`scripts/train.py --devices N` / `--data-parallel`) shards each step's
gathered batch x [B, k] along the mesh (B a multiple of N) and replicates params, optimizer state, the
training set and the synth's noise rows; `jax.jit` partitions the unchanged step, so results equal the
one-device run up to float reassociation. The numba "cpu_kernel" synth is a callback that XLA runs on one
device. Multi-host and TPU notes, and measurements: benchmarks/RESULTS.md, "Data parallelism".
"""

from __future__ import annotations

from typing import Optional

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "data"


def data_mesh(n_devices: Optional[int] = None, global_devices: bool = False) -> Mesh:
    """A 1-D mesh with axis "data" over the first n_devices local devices (all when None).

    global_devices: use `jax.devices()` (every process's, after `jax.distributed.initialize`).
    """
    devices = jax.devices() if global_devices else jax.local_devices()
    n = len(devices) if n_devices is None else n_devices
    if not 1 <= n <= len(devices):
        raise ValueError(f"--devices {n}: {len(devices)} device(s) are available ({devices[0].platform}); "
                         f"ask for 1 to {len(devices)}, or on CPU set "
                         "XLA_FLAGS=--xla_force_host_platform_device_count=N before JAX starts")
    return Mesh(np.asarray(devices[:n]), (AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over the mesh, other axes whole."""
    return NamedSharding(mesh, PartitionSpec(AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy on every device of the mesh."""
    return NamedSharding(mesh, PartitionSpec())


def check_batch(batch: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch % n:
        raise ValueError(f"--batch-size {batch} is not a multiple of the {n} data-parallel devices (--devices)")


def shard_batch(x, mesh: Mesh):
    """Places an array [B, ...] with its batch split over the mesh (B a multiple of its size)."""
    check_batch(x.shape[0], mesh)
    return jax.device_put(x, batch_sharding(mesh))


def replicate(tree, mesh: Mesh):
    """Places every array of a pytree (params, optimizer state, data) on every device of the mesh."""
    return jax.device_put(tree, replicated(mesh))
