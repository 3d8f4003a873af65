"""The embedding networks FAD uses, in one table: name, title, embedding size, checkpoint files, input.

Torch-free: the evaluation, the report and the comparison tables read it without the torch
extra; the networks themselves (`eval.embeddings.networks.load_model`) need torch.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class EmbeddingModel:
    """One embedding network.

    Attributes:
      name: key in metrics and on the command line ('vggish', 'panns', 'cdpam').
      title: as the thesis's tables print it.
      dim: floats per embedding row (VGGish: one row per 0.96 s example; PANNs, CDPAM: one per clip).
      weights: `eval.embeddings.weights.KNOWN_WEIGHTS` keys of the checkpoints it loads (CDPAM's ship in
        its wheel, `eval.embeddings.cdpam`).
      min_seconds: clips are zero-padded to this length (s) first (VGGish needs 0.96 s per example).
    """

    name: str
    title: str
    dim: int
    weights: tuple[str, ...]
    min_seconds: float = 1.0


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    "vggish": EmbeddingModel("vggish", "VGGish", 128, ("vggish",)),
    "panns": EmbeddingModel("panns", "PANNs", 2048, ("panns_cnn14_16k",)),
    "cdpam": EmbeddingModel("cdpam", "CDPAM", 512, (), min_seconds=0.0),
}

# Why FAD is skipped when torch is not installed (`eval.frechet.load_embedders`).
TORCH_EXTRA_MESSAGE = ("the embedding networks need the torch extra (pip install -e '.[torch]'); "
                       "everything else in the evaluation runs without it")
