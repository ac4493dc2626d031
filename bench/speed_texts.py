"""Texts for ``bench/speed.py``: a sentence, a paragraph, ~2 minutes of speech, and the
sentences used to compare streamed and whole synthesis."""

SHORT = "The meeting has been moved to Thursday afternoon."

MEDIUM = (
    "Could you pick up some bread and milk on your way home? The shop on the corner "
    "closes early on Sundays, so you may have to go to the big supermarket instead. "
    "If they have fresh strawberries, get a box of those too. We can have them after "
    "dinner with a little cream."
)

LONG = " ".join([
    "The old lighthouse stood at the edge of the cliff, its white paint peeling in long "
    "strips after decades of salt and wind.",
    "Nobody had lived there since the keeper retired, but every evening a light still "
    "flickered in the top window.",
    "The children in the village said it was a ghost, and the fishermen said it was a "
    "reflection of the setting sun.",
    "Maria did not believe either story.",
    "One autumn afternoon, she packed a torch, a notebook and two sandwiches, and she "
    "walked up the narrow path alone.",
    "The door was not locked.",
    "Inside, the air smelled of oil and old paper, and a spiral staircase climbed into "
    "the darkness above her.",
    "She counted the steps as she went: one hundred and twelve of them, each one creaking "
    "a little louder than the last.",
    "At the top she found a small room with a desk, a chair and a brass lamp that had been "
    "polished until it shone.",
    "On the desk lay a logbook, open to a page dated only the week before.",
    "The handwriting was careful and neat.",
    "It recorded the weather, the ships that had passed, and the time the lamp had been "
    "lit.",
    "Maria turned the pages back and found the same hand, the same careful notes, going "
    "back for more than forty years.",
    "She sat down in the chair and waited as the sun sank towards the sea.",
    "Just before dark, she heard footsteps on the stairs.",
    "An old man appeared in the doorway, carrying a can of oil and a clean cloth.",
    "He did not seem surprised to see her.",
    "He told her that he had promised the harbour master, long ago, that the light would "
    "never go out while he could still climb the stairs.",
    "The new automatic beacon on the point was fine, he said, but machines did not care "
    "about the boats, and somebody should.",
    "Maria asked him whether he was lonely up there.",
    "He laughed and said that nobody who watches the sea is ever truly alone.",
    "Then he lit the lamp, wrote the time in the logbook, and offered her a cup of tea.",
])

#: First sentences long enough for streaming to split them.
QUALITY = (
    "Could you pick up some bread and milk on your way home from the station tonight?",
    "The meeting has been moved to Thursday afternoon because the manager is away.",
    "We waited outside the station for almost an hour before the last train arrived.",
    "Please remember to water the plants in the kitchen while we are on holiday.",
    "My brother bought a second hand bicycle from a neighbour who was moving abroad.",
    "The children built a small wooden boat and sailed it across the village pond.",
    "If the weather stays dry tomorrow, we could walk along the river to the old mill.",
    "She found her grandmother's recipe for apple cake in a box of letters upstairs.",
)
