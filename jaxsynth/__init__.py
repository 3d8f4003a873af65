"""jaxsynth: torchsynth 1.0.2's `Voice` synthesizer as pure, jittable, differentiable JAX."""

from jaxsynth.config import SynthConfig
from jaxsynth.parameters import (N_PARAMETERS, PARAMETER_NAMES, RANGES, ParameterRange, parameter_index, parameter_range,
                                 random_params)
from jaxsynth.subset import ParameterSubset
from jaxsynth.voice import ParameterError, Voice, default_impl, render, render_physical, to_0to1, to_physical

__all__ = [
    "N_PARAMETERS",
    "PARAMETER_NAMES",
    "RANGES",
    "ParameterError",
    "ParameterRange",
    "ParameterSubset",
    "SynthConfig",
    "Voice",
    "default_impl",
    "parameter_index",
    "parameter_range",
    "random_params",
    "render",
    "render_physical",
    "to_0to1",
    "to_physical",
]
