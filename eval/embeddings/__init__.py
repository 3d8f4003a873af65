"""Pretrained audio embedding networks for FAD: VGGish (torchvggish port) and PANNs Cnn14_16k.

`EMBEDDING_MODELS` (the registry) and the checkpoint search (`weights`) import without torch;
the networks and `embed`/`load_model` need the torch extra and are imported on first use.
"""

from __future__ import annotations

import importlib

from eval.embeddings.registry import EMBEDDING_MODELS, TORCH_EXTRA_MESSAGE, EmbeddingModel
from eval.embeddings.weights import KNOWN_WEIGHTS, WeightsNotFoundError, find_weights, load_checkpoint

# Names that need torch, by the submodule defining them (imported when first asked for).
_TORCH_NAMES = {
    "MODEL_SAMPLE_RATE": "networks", "embed": "networks", "load_model": "networks", "resample": "networks",
    "Cnn14_16k": "panns", "PannsConfig": "panns", "VGGish": "vggish", "VGGishParams": "vggish_input",
}

__all__ = ["EMBEDDING_MODELS", "KNOWN_WEIGHTS", "TORCH_EXTRA_MESSAGE", "EmbeddingModel", "WeightsNotFoundError",
           "find_weights", "load_checkpoint", *_TORCH_NAMES]


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        return getattr(importlib.import_module(f"eval.embeddings.{_TORCH_NAMES[name]}"), name)
    raise AttributeError(f"module 'eval.embeddings' has no attribute {name!r}")
