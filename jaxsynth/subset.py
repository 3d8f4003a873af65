"""Training on a subset of the synth's parameters with the rest frozen at given values."""

from __future__ import annotations

import dataclasses
from typing import Mapping

import jax.numpy as jnp
import numpy as np

from jaxsynth.parameters import N_PARAMETERS, PARAMETER_NAMES, RANGES, parameter_index


@dataclasses.dataclass(frozen=True)
class ParameterSubset:
    """Maps [batch, k] free parameters to the full [batch, 78] vector (frozen columns constant).

    Attributes:
      names: the free parameters' `module/param` names, in the order of the reduced vector.
      free_index: their columns in the full vector.
      full_names: all parameter names of the synth.
      frozen_values: [78] values in [0, 1]; free columns are ignored.
    """

    names: tuple[str, ...]
    free_index: tuple[int, ...]
    full_names: tuple[str, ...]
    frozen_values: tuple[float, ...]

    @classmethod
    def create(cls, free, fixed: Mapping[str, float]) -> "ParameterSubset":
        """Frees the `free` names (in this order) and holds every other parameter at `fixed[name]` in [0, 1]."""
        free = tuple(free)
        index = tuple(parameter_index(n) for n in free)
        if len(set(index)) != len(index):
            raise ValueError("free parameter names must be unique")
        missing = [n for n in PARAMETER_NAMES if n not in free and n not in fixed]
        if missing:
            raise ValueError(f"parameters neither free nor fixed: {', '.join(missing)}")
        both = [n for n in free if n in fixed]
        if both:
            raise ValueError(f"parameters both free and fixed: {', '.join(both)}")
        values = np.zeros(N_PARAMETERS, np.float32)
        for name, value in fixed.items():
            col = parameter_index(name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"fixed value {value!r} of {name!r} must be in [0, 1] (physical range "
                    f"{RANGES[col].describe()})"
                )
            values[col] = value
        return cls(free, index, PARAMETER_NAMES, tuple(float(v) for v in values))

    @property
    def size(self) -> int:
        return len(self.names)

    def expand(self, sub01):
        """[..., k] -> [..., 78] with the frozen columns filled in."""
        full = jnp.broadcast_to(jnp.asarray(self.frozen_values, jnp.float32), sub01.shape[:-1] + (len(self.full_names),))
        return full.at[..., jnp.asarray(self.free_index)].set(sub01)

    def select(self, full01):
        """[..., 78] -> [..., k], the free columns."""
        return full01[..., jnp.asarray(self.free_index)]
