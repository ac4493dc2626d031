"""A voice's conditioning for the Kokoro engine: a mixture of stock packs plus an offset.

Kokoro takes one 256-d style vector per utterance, chosen by length from a pack of
510 rows. A cloned voice keeps that length dependence: its table is a weighted sum
of the stock packs plus one offset vector added to every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from voxclone.errors import ProfileError


@dataclass(frozen=True)
class StyleConditioning:
    """Stock-pack weights and a style offset.

    Attributes:
        weights: pack name -> mixing weight (non-negative, summing to 1).
        delta: float32 offset of shape ``(256,)`` added to every row of the mixture.
    """

    weights: Mapping[str, float]
    delta: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.float32))

    def __post_init__(self) -> None:
        delta = np.asarray(self.delta, dtype=np.float32).reshape(-1)
        object.__setattr__(self, "delta", delta)
        object.__setattr__(self, "weights", dict(self.weights))
        if not self.weights or any(w < 0 for w in self.weights.values()):
            raise ProfileError("style conditioning needs non-negative pack weights")

    def table(self, packs: Mapping[str, np.ndarray]) -> np.ndarray:
        """The voice's style table, float32 of shape ``(rows, 256)``.

        Raises:
            ProfileError: a pack named in the weights is not installed.
        """
        missing = [name for name in self.weights if name not in packs]
        if missing:
            raise ProfileError(
                f"this voice mixes style packs that are not installed ({', '.join(missing)}); "
                "re-enroll it with this version of voxclone"
            )
        mixed = sum(w * packs[name] for name, w in self.weights.items() if w > 0)
        return (np.asarray(mixed, dtype=np.float32) + self.delta[None, :]).astype(np.float32)

    def style(self, packs: Mapping[str, np.ndarray], n_tokens: int) -> np.ndarray:
        """The style row for an utterance of ``n_tokens`` ids, shape ``(256,)``."""
        row = min(max(n_tokens, 1), 510) - 1
        mixed = sum(w * packs[name][row] for name, w in self.weights.items() if w > 0)
        return (np.asarray(mixed, dtype=np.float32) + self.delta).astype(np.float32)

    def with_delta(self, delta: np.ndarray) -> StyleConditioning:
        """A copy with another offset."""
        return StyleConditioning(self.weights, delta)

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (used by the profile format)."""
        return {
            "weights": {k: round(float(v), 6) for k, v in self.weights.items()},
            "delta": [round(float(x), 7) for x in self.delta],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> StyleConditioning:
        """Inverse of :meth:`to_json`. Raises ProfileError on malformed data."""
        try:
            weights = {str(k): float(v) for k, v in dict(data["weights"]).items()}  # type: ignore[call-overload]
            delta = np.asarray(data["delta"], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"malformed style conditioning: {exc}") from exc
        if delta.shape != (256,):
            raise ProfileError(f"style offset must have 256 values, found {delta.shape}")
        return cls(weights, delta)


def pack_scale(packs: Mapping[str, np.ndarray]) -> np.ndarray:
    """Per-dimension spread of the stock packs, float32 ``(256,)``.

    It sets the step size of the search: a unit step moves each dimension by as much
    as the stock voices differ from each other.
    """
    stack = np.stack(list(packs.values()))  # (packs, rows, 256)
    across_voices = stack[:, 20:300].std(axis=0).mean(axis=0)
    return (across_voices + 1e-3).astype(np.float32)
