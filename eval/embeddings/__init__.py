"""Pretrained audio embedding networks for FAD: VGGish (torchvggish port) and PANNs Cnn14_16k."""

from eval.embeddings.embed import MODEL_SAMPLE_RATE, embed, load_model, resample
from eval.embeddings.panns import Cnn14_16k, PannsConfig
from eval.embeddings.vggish import VGGish
from eval.embeddings.vggish_input import VGGishParams
from eval.embeddings.weights import KNOWN_WEIGHTS, WeightsNotFoundError, find_weights, load_checkpoint

__all__ = [
    "KNOWN_WEIGHTS",
    "MODEL_SAMPLE_RATE",
    "Cnn14_16k",
    "PannsConfig",
    "VGGish",
    "VGGishParams",
    "WeightsNotFoundError",
    "embed",
    "find_weights",
    "load_checkpoint",
    "load_model",
    "resample",
]
