"""A key's daily audio quota, held for a synthesis while it renders: the seconds the text
will take are estimated and reserved before any audio is made (a request that cannot
fit is refused at once), the reservation grows if the audio runs past the estimate
(and the synthesis stops where the quota ends), and it is settled to the seconds
actually handed out. Every step is one atomic update of the key's counter, so
concurrent requests cannot jointly overrun the quota."""

from __future__ import annotations

import logging
import re
import threading
import time

from voxclone.errors import RateLimitError
from voxclone.registry.access import Access, ApiKey
from voxclone.text.breaks import asked_silences

logger = logging.getLogger(__name__)

#: Characters per second of speech at speed 1 and a voice speaking-rate factor of 1,
#: for alphabetic and other spaced scripts. Measured with the engine (``Synthesizer``,
#: pauses included) on stock voices (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, a
#: jf_alpha/jm_kumo mix): English prose 14.9-17.2 (a 620-character passage 15.7, and
#: 30.6 at speed 2, 7.7 at 0.5: it scales with speed), French 15.4, Spanish 11.1-12.3,
#: Hindi 10.3; an enrolled clone over HTTP made 11.5 (QA report 3: 4,000 characters,
#: 341 s). Twelve is below English and French and about Spanish's, so the estimate is
#: mostly an overestimate; text that expands when read (digits, abbreviations, strings
#: of one-word sentences: "Hi. Yes. No." ran at 6) can exceed it, and then the
#: reservation grows as the audio comes (``Reservation.cover``).
CHARS_PER_SECOND = 12.0
#: The same for Han, kana and Hangul, which carry a syllable or more per character:
#: Mandarin 4.1, Japanese 5.4 measured the same way.
WIDE_CHARS_PER_SECOND = 4.0
#: The silence every synthesis starts and ends with, seconds.
FRAME_SECONDS = 0.6

_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def estimate_seconds(text: str, speed: float = 1.0, rate: float = 1.0) -> float:
    """Seconds of audio ``text`` is expected to make at ``speed`` in a voice whose
    speaking-rate factor is ``rate`` (runs of whitespace count as one character). A
    ``<break>`` tag counts as the silence it asks for, not as characters; that silence
    does not change with the speed."""
    spaced = " ".join(text.split())
    silences = asked_silences(spaced)
    tags = sum(end - start for start, end, _ in silences)
    wide = len(_WIDE.findall(spaced))
    speech = (len(spaced) - tags - wide) / CHARS_PER_SECOND + wide / WIDE_CHARS_PER_SECOND
    return speech / (speed * rate) + sum(s for _, _, s in silences) + FRAME_SECONDS


class Reservation:
    """Seconds of ``key``'s quota held for one synthesis (thread-safe).

    Raises (on creation):
        RateLimitError: the quota has less than ``seconds`` left.
    """

    def __init__(self, access: Access, key: ApiKey, seconds: float) -> None:
        self._access = access
        self._key = key
        self._moment = time.time()  # the day counted, also if it ends meanwhile
        self._lock = threading.Lock()
        access.reserve_audio(key, seconds, now=self._moment)
        self.held = seconds
        self.settled = False

    def cover(self, total: float) -> None:
        """Make sure ``total`` seconds are held, reserving more when they are not.

        Raises:
            RateLimitError: the quota has not that much left (what is held stays).
        """
        with self._lock:
            if total <= self.held:
                return
            try:
                self._access.reserve_audio(self._key, total - self.held, now=self._moment)
            except RateLimitError as exc:
                raise RateLimitError(
                    f"this text takes longer than estimated: after {self.held:.1f} s of "
                    f"audio, {exc}", retry_after=exc.retry_after) from None
            self.held = total

    def settle(self, seconds: float) -> None:
        """Count ``seconds`` (what was handed out) in the end, giving back the rest of
        what is held. Only the first call counts."""
        with self._lock:
            if self.settled:
                return
            self.settled = True
            held, self.held = self.held, seconds
        try:
            self._access.add_audio(self._key, seconds - held, now=self._moment)
        except Exception:  # (a request on its way out: its own error must not be lost)
            logger.exception("could not settle the quota of API key %s: %.3f s held, "
                             "%.3f s used", self._key.prefix, held, seconds)

