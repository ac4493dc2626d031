"""What ``train/style_response.py`` learned about the probe sentence, as shipped."""

from __future__ import annotations

import hashlib
import importlib.resources as resources
import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LearnedProbe:
    """What ``train/style_response.py`` learned about the probe sentence.

    Attributes:
        response: linear response of the embedding to style offsets, ``(256, 256)``.
        pack_embeddings: pack name -> probe embedding with that pack, ``(256,)``.
    """

    response: np.ndarray
    pack_embeddings: dict[str, np.ndarray]


@lru_cache(maxsize=2)
def learned_probe(probe_text: str) -> LearnedProbe | None:
    """The shipped :class:`LearnedProbe` for ``probe_text``, or ``None`` (with a
    warning) if it is missing or was made for another probe sentence; the search then
    explores blindly first.
    """
    path = resources.files("voxclone.clone") / "data" / "style_response.npz"
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            probe = str(data["probe_sha256"])
            response = np.asarray(data["response"], dtype=np.float64)
            packs = {str(n): np.asarray(e, np.float32)
                     for n, e in zip(data["pack_names"], data["pack_embeddings"], strict=True)}
    except (FileNotFoundError, KeyError, ValueError, OSError):
        logger.warning("no learned style response found; enrollment will be slower")
        return None
    if probe != hashlib.sha256(probe_text.encode()).hexdigest():
        logger.warning("the learned style response is for another probe sentence; ignoring it")
        return None
    return LearnedProbe(response, packs)
