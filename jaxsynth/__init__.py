"""jaxsynth: torchsynth 1.0.2's `Voice` synthesizer as pure, jittable, differentiable JAX."""

from jaxsynth.config import SynthConfig
from jaxsynth.parameters import ParameterRange
from jaxsynth.subset import ParameterSubset
from jaxsynth.voice import N_PARAMETERS, PARAMETER_NAMES, ParameterError, Voice, render, render_physical, to_0to1, to_physical

__all__ = [
    "N_PARAMETERS",
    "PARAMETER_NAMES",
    "ParameterError",
    "ParameterRange",
    "ParameterSubset",
    "SynthConfig",
    "Voice",
    "render",
    "render_physical",
    "to_0to1",
    "to_physical",
]
