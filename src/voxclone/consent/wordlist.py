"""The words challenge phrases are drawn from.

Concrete, everyday English nouns of two or three syllables: easy to read aloud, easy to
tell apart by ear, and all in pocketsphinx's US English dictionary (checked by the
tests). None of them occurs in the consent statement. 107 words, four to a phrase:
about 27 bits of freshness, so no recording made before the challenge was issued can
contain the phrase.
"""

from __future__ import annotations

CHALLENGE_WORDS: tuple[str, ...] = (
    "anchor", "apple", "banana", "basket", "beaver", "blanket", "bottle", "bridge",
    "bucket", "butter", "button", "cabin", "cactus", "camera", "candle", "canyon",
    "carpet", "castle", "chicken", "circle", "coffee", "copper", "cotton", "cowboy",
    "desert", "doctor", "dolphin", "dragon", "elephant", "engine", "falcon", "farmer",
    "feather", "finger", "forest", "garden", "giraffe", "guitar", "hammer", "harbor",
    "helmet", "hockey", "island", "jacket", "jungle", "kettle", "kitchen", "ladder",
    "lantern", "lemon", "lion", "magnet", "marble", "market", "meadow", "melon",
    "mirror", "monkey", "mountain", "number", "ocean", "orange", "oyster", "paper",
    "parrot", "peanut", "pencil", "penguin", "pepper", "pillow", "pirate", "planet",
    "pocket", "potato", "pumpkin", "puppy", "rabbit", "ribbon", "rocket", "saddle",
    "salmon", "sandwich", "silver", "spider", "sugar", "summer", "sunset", "table",
    "tennis", "tiger", "tomato", "tractor", "trumpet", "tunnel", "turtle", "umbrella",
    "valley", "velvet", "village", "violin", "wagon", "walnut", "window", "winter",
    "wizard", "yellow", "zebra",
)
