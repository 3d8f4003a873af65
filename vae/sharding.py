"""Data parallelism with `jax.sharding`: a 1-D mesh over local devices, batches split along it.

`vae.train.train(..., devices=N)` (CLI: `scripts/train.py --devices N`, or `--data-parallel` for
all local devices) builds `data_mesh(N)` and places

  * the per-step batch along the mesh axis "data": `train_step` constrains the gathered patches
    x [B, k] to `batch_sharding`, so each device holds B / N examples (B must be a multiple of N);
  * parameters, optimizer state, the (small) training set and the synth's 32 noise rows
    replicated (`replicated`).

`jax.jit` then partitions the unchanged step (GSPMD): every device runs the model, the synth, the
features and the per-example losses on its own examples; the batch means and the gradient become
cross-device all-reduces, and the Adam update runs identically on every replica, so the
replicated state stays in sync. Results equal the one-device run up to float reassociation in
those reductions (tests/test_vae_sharding.py checks it with 4 fake CPU devices).

The jaxsynth "cpu_kernel" renderer is a `jax.pure_callback` (host numba code). Callbacks are not
partitioned by GSPMD: XLA gathers the callback's operands onto one device, runs it there once for
the whole batch and scatters the result back. That is correct (same values and gradients, checked
by the test) but the synth stage does not speed up with more CPU "devices". On a multi-core host
prefer one CPU device and let numba/XLA use the cores; data parallelism pays off on accelerators,
where `default_impl()` is "xla" (pure JAX, fully partitioned).

Multi-host (several processes, e.g. a GPU cluster or a TPU pod slice). `train(devices=N)` as
written is single-process (local devices); a multi-host run changes the following (untested here):
  1. call `jax.distributed.initialize()` first in every process (coordinator address, process count
     and id come from the environment on TPU/SLURM, or pass them);
  2. build the mesh over `jax.devices()` (all processes' devices), not `jax.local_devices()`
     (`data_mesh(global_devices=True)`);
  3. each process loads only its part of the batch and builds the global array with
     `jax.make_array_from_process_local_data(batch_sharding(mesh), local_rows)`, and replicated
     state with `jax.make_array_from_process_local_data(replicated(mesh), value)` (or
     `jax.experimental.multihost_utils.host_local_array_to_global_array`) instead of
     `jax.device_put`; alternatively keep the loop's in-step gather from a replicated training
     set, which needs every process to hold the whole set and the same `order` (it does: the
     order is a pure function of the seed);
  4. checkpoints: orbax saves sharded/replicated arrays collectively; every process must call save.
TPUs: the same code path; the mesh is built over TPU devices, impl is "xla" (the
numba callback does not exist there), float32 matmuls run at bfloat16 precision by default
(set `jax_default_matmul_precision` to "highest" for bit-closer results), and the per-device batch
(B / N) should be a multiple of 8 to fill the cores; for several hosts add a second mesh axis
only if the model ever needs model parallelism (it does not: ~69k parameters).
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
