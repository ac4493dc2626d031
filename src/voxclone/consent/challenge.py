"""Consent challenges: what a speaker must read aloud, issued once, used once, expiring.

A challenge is the consent statement naming the speaker plus a fresh phrase of random
words (drawn with :mod:`secrets` from :data:`~voxclone.consent.wordlist.CHALLENGE_WORDS`,
leaving out the words of the name's recent challenges), so a recording that reads it
cannot have been made before it was issued. Pending
challenges are signed JSON files in ``<home>/consent/challenges/<id>.pending.json``;
using one renames it (atomically, so only one enrollment can win) to
``<id>.used.json``, which is kept so that a replayed consent is recognised as such.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from voxclone.clone.profile import check_name
from voxclone.consent.signed_json import read_json, seal, unseal, write_atomic
from voxclone.consent.wordlist import CHALLENGE_WORDS
from voxclone.errors import ChallengeError, ConsentRecordError
from voxclone.keys import derive_key, home_dir

logger = logging.getLogger(__name__)

FORMAT = "voxclone.consent-challenge"
FORMAT_VERSION = 1
#: How long a challenge can be used after it is issued.
DEFAULT_VALID_FOR = timedelta(minutes=10)
#: Random words in a challenge phrase (of 128 words: about 28 bits).
PHRASE_WORDS = 4
#: A new challenge for a name avoids the words of its last this many challenges, so a
#: recording of an earlier one shares no word with it (its phrase then still has at
#: least 64 words to draw from: about 24 bits).
AVOID_RECENT = 16
#: The consent statement; ``{name}`` is the voice's name.
STATEMENT = "I, {name}, agree that a synthetic copy of my voice may be created with voxclone."
#: Pending challenges expired longer ago than this are deleted when a new one is issued.
_PURGE_AFTER = timedelta(days=1)
_ID = re.compile(r"^[0-9a-f]{12}$")
_PENDING = ".pending.json"
_USED = ".used.json"

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Challenge:
    """One consent challenge.

    Attributes:
        id: 12 hex digits; pass it to ``enroll`` (``--challenge``).
        name: the voice name the challenge was issued for.
        phrase: the random words to read after the statement, in order.
        issued: when it was issued (UTC).
        expires: after this moment it is refused (UTC).
    """

    id: str
    name: str
    phrase: tuple[str, ...]
    issued: datetime
    expires: datetime

    @property
    def statement(self) -> str:
        """The consent statement naming the speaker."""
        return STATEMENT.format(name=self.name)

    @property
    def phrase_text(self) -> str:
        """The phrase as it should be read: ``"Tiger, window, salmon, kettle."``."""
        return ", ".join(self.phrase).capitalize() + "."

    @property
    def text(self) -> str:
        """Everything to read aloud, in one recording: the statement, then the phrase."""
        return f"{self.statement} {self.phrase_text}"

    def expired(self, now: datetime) -> bool:
        """Whether ``now`` is past the expiry time."""
        return now >= self.expires

    def to_json(self) -> dict[str, Any]:
        """The unsigned body of the stored form."""
        return {"id": self.id, "name": self.name, "phrase": list(self.phrase),
                "issued": self.issued.isoformat(), "expires": self.expires.isoformat()}

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, origin: str) -> Challenge:
        """Parse a stored body. Raises ConsentRecordError on missing or bad fields."""
        try:
            return cls(id=str(body["id"]), name=str(body["name"]),
                       phrase=tuple(str(w) for w in body["phrase"]),
                       issued=datetime.fromisoformat(body["issued"]),
                       expires=datetime.fromisoformat(body["expires"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConsentRecordError(f"{origin} is malformed: {exc}") from exc


class ChallengeRefused(ChallengeError):
    """A :class:`~voxclone.errors.ChallengeError` that keeps the parts of its message, so
    that a front end other than the command line (the HTTP server) can say what to do
    in its own terms. ``str()`` is the command-line message.

    Attributes:
        problem: what is wrong with the challenge, naming no local path or command.
        name: the voice a new challenge is needed for (None: the id is malformed, so
            the voice is not known here).
        local: what only a local user needs (where challenges are kept, the command
            that prints ids), appended to ``problem`` in the message.
    """

    def __init__(self, problem: str, name: str | None = None, local: str = "") -> None:
        hint = f"; {_retry_hint(name)}" if name is not None else ""
        super().__init__(f"{problem}{local}{hint}")
        self.problem = problem
        self.name = name
        self.local = local

    def __reduce__(self) -> tuple[Any, ...]:  # pickles with its parts (worker processes)
        return type(self), (self.problem, self.name, self.local)


def check_challenge_id(challenge_id: str) -> str:
    """Validate the form of a challenge id. Raises ChallengeError saying what one looks like."""
    if not isinstance(challenge_id, str) or not _ID.match(challenge_id):
        raise ChallengeRefused(f"{challenge_id!r} is not a challenge id (12 hex digits)",
                               local="; use the id `voxclone challenge NAME` printed")
    return challenge_id


def _retry_hint(name: str) -> str:
    return (f"run `voxclone challenge {name}` for a new one and record yourself reading it "
            f"(Python: voxclone.challenge({name!r}))")


class ChallengeStore:
    """The pending and used challenges of one installation.

    Args:
        directory: where challenge files live (default ``<home>/consent/challenges``).
        key: the signing key (default ``derive_key("consent")``, read on first use).
        clock: returns the current UTC time (tests pass a fake one).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *,
                 key: bytes | None = None, clock: Clock = _utcnow) -> None:
        self.directory = (Path(directory) if directory is not None
                          else home_dir() / "consent" / "challenges")
        self._key = key
        self._clock = clock

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = derive_key("consent")
        return self._key

    def _path(self, challenge_id: str, suffix: str) -> Path:
        return self.directory / f"{check_challenge_id(challenge_id)}{suffix}"

    def issue(self, name: str, *, valid_for: timedelta = DEFAULT_VALID_FOR) -> Challenge:
        """Issue and store a fresh challenge for the voice ``name``.

        Raises:
            ValueError: invalid name, or ``valid_for`` is not positive.
            SecretError: the installation secret is unusable.
            OSError: the challenge folder cannot be written.
        """
        check_name(name)
        if valid_for <= timedelta(0):
            raise ValueError(f"valid_for must be positive, got {valid_for}")
        now = self._clock()
        recent = self._recent_words(name)
        words = [w for w in CHALLENGE_WORDS if w not in recent]
        phrase = []
        for _ in range(PHRASE_WORDS):  # distinct words, uniformly at random
            phrase.append(words.pop(secrets.randbelow(len(words))))
        challenge = Challenge(id=secrets.token_hex(6), name=name, phrase=tuple(phrase),
                              issued=now, expires=now + valid_for)
        self._purge(now)
        write_atomic(self._path(challenge.id, _PENDING),
                     seal(FORMAT, FORMAT_VERSION, challenge.to_json(), self.key))
        logger.info("issued consent challenge %s for %s (expires %s)", challenge.id, name,
                    challenge.expires.isoformat(timespec="seconds"))
        return challenge

    def _load(self, path: Path) -> Challenge:
        data = read_json(path, what="consent challenge")
        body = unseal(data, FORMAT, FORMAT_VERSION, self.key, origin=str(path))
        return Challenge.from_json(body, origin=str(path))

    def check(self, challenge_id: str, name: str) -> Challenge:
        """The pending challenge ``challenge_id``, if it may be used now for ``name``.

        Raises:
            ChallengeError: malformed or unknown id, already used, expired, or issued
                for another name.
            ConsentRecordError: the challenge file was edited (fails its signature).
        """
        pending = self._path(challenge_id, _PENDING)
        try:
            challenge = self._load(pending)
        except FileNotFoundError:
            if self._path(challenge_id, _USED).exists():
                raise ChallengeRefused(
                    f"challenge {challenge_id} has already been used: a consent recording "
                    "counts once only (a replayed recording is refused)", name) from None
            raise ChallengeRefused(
                f"challenge {challenge_id} is unknown to this installation", name,
                local=f" (challenges are issued per voxclone home, "
                      f"{self.directory.parent.parent})") from None
        if challenge.id != challenge_id:
            raise ConsentRecordError(f"{pending} holds challenge {challenge.id}, not "
                                     f"{challenge_id}; it was tampered with")
        if challenge.name != name:
            raise ChallengeRefused(
                f"challenge {challenge_id} was issued for the voice {challenge.name!r}, not "
                f"{name!r}: the statement must name the speaker being enrolled", name)
        if challenge.expired(self._clock()):
            raise ChallengeRefused(
                f"challenge {challenge_id} expired at "
                f"{challenge.expires.isoformat(timespec='seconds')}", name)
        return challenge

    def claim(self, challenge: Challenge) -> None:
        """Mark ``challenge`` used (atomically: of two concurrent claims one fails).

        Raises:
            ChallengeError: it was used (claimed) in the meantime.
        """
        try:
            os.rename(self._path(challenge.id, _PENDING), self._path(challenge.id, _USED))
        except FileNotFoundError:
            raise ChallengeRefused(
                f"challenge {challenge.id} was used by another enrollment in the meantime",
                challenge.name) from None

    def release(self, challenge: Challenge) -> None:
        """Undo :meth:`claim` (the enrollment failed after consent was verified)."""
        try:
            os.rename(self._path(challenge.id, _USED), self._path(challenge.id, _PENDING))
        except FileNotFoundError:
            logger.warning("could not release challenge %s: not marked used", challenge.id)

    def discard_pending(self, name: str) -> int:
        """Delete the pending challenges issued for ``name``; returns how many."""
        count = 0
        for path in self._files(_PENDING):
            try:
                if self._load(path).name == name:
                    path.unlink(missing_ok=True)
                    count += 1
            except ConsentRecordError:
                continue
        return count

    def _recent_words(self, name: str) -> set[str]:
        """Words of the last ``AVOID_RECENT`` challenges issued for ``name``, used or not."""
        issued = [c for _, c in self._readable(_PENDING) + self._readable(_USED)
                  if c.name == name]
        issued.sort(key=lambda c: c.issued, reverse=True)
        return {w for c in issued[:AVOID_RECENT] for w in c.phrase}

    def _readable(self, suffix: str) -> list[tuple[Path, Challenge]]:
        """The challenge files with ``suffix`` that load, each with its challenge."""
        found = []
        for path in self._files(suffix):
            try:
                found.append((path, self._load(path)))
            except (ConsentRecordError, OSError):
                continue
        return found

    def _files(self, suffix: str) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{suffix}"))

    def _purge(self, now: datetime) -> None:
        """Delete pending challenges that expired long ago (they can never be used)."""
        for path, challenge in self._readable(_PENDING):
            if challenge.expires + _PURGE_AFTER < now:
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    continue


def issue_challenge(name: str, *, valid_for: timedelta = DEFAULT_VALID_FOR,
                    store: ChallengeStore | None = None) -> Challenge:
    """Issue a consent challenge for the voice ``name`` in the default (or given) store.

    Raises the same errors as :meth:`ChallengeStore.issue`.
    """
    return (store or ChallengeStore()).issue(name, valid_for=valid_for)
