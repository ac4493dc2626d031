"""The words challenge phrases are drawn from.

Concrete, everyday English nouns, easy to read aloud, each with one pronunciation in
pocketsphinx's US English dictionary (checked by the tests); none occurs in the consent
statement. They were picked from about 230 such nouns so that no two are close in sound:
every pair differs in at least half of the longer word's phones (by phone edit distance
on the dictionary's pronunciations), which keeps look-alikes such as pocket/rocket or
copper/carpet from standing in for each other. 128 words, four to a phrase: 28 bits of
freshness, so no recording made before the challenge was issued can contain the phrase.
"""

from __future__ import annotations

CHALLENGE_WORDS: tuple[str, ...] = (
    "accordion", "apricot", "astronaut", "avocado", "bandana", "banjo", "beaver",
    "bicycle", "blueberry", "buffalo", "butterfly", "cactus", "calendar", "canyon",
    "celery", "cherry", "chimney", "chocolate", "cinnamon", "coconut", "computer",
    "cookie", "copper", "cowboy", "crocodile", "cucumber", "cupboard", "daisy",
    "dinosaur", "dolphin", "dragon", "elephant", "elevator", "envelope", "falcon",
    "feather", "flamingo", "fountain", "galaxy", "garden", "garlic", "giraffe",
    "glacier", "gorilla", "guitar", "hamburger", "harbor", "harmonica", "harvest",
    "helicopter", "hippo", "igloo", "jaguar", "jellyfish", "jungle", "kangaroo",
    "koala", "lantern", "lemonade", "leopard", "lighthouse", "lobster", "magnet",
    "mango", "marble", "meadow", "microphone", "mirror", "mosquito", "motorcycle",
    "mushroom", "napkin", "necklace", "noodle", "ocean", "octopus", "ostrich",
    "pancake", "panther", "papaya", "parachute", "peacock", "penguin", "pineapple",
    "pizza", "planet", "popcorn", "potato", "pretzel", "pyramid", "radio", "satellite",
    "scarecrow", "silver", "skeleton", "snowflake", "spaghetti", "spider", "squirrel",
    "starfish", "strawberry", "submarine", "sugar", "sunflower", "sunset", "sweater",
    "table", "teapot", "telescope", "television", "tornado", "tortoise", "tractor",
    "trombone", "trumpet", "umbrella", "unicorn", "valley", "vanilla", "velvet",
    "violin", "volcano", "walrus", "waterfall", "window", "wizard", "yogurt", "zebra",
)
