"""Speaker embeddings (GE2E d-vectors) and their comparison."""

from voxclone.speaker.encoder import (
    EMBEDDING_DIM,
    GE2EEncoder,
    SpeakerEncoder,
    combine_embeddings,
    cosine,
    default_encoder,
)

__all__ = [
    "EMBEDDING_DIM",
    "GE2EEncoder",
    "SpeakerEncoder",
    "combine_embeddings",
    "cosine",
    "default_encoder",
]
