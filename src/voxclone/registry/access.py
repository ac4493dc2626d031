"""Owners and their API keys, with per-key rate limits and daily audio quotas.

An API key reads ``vxk_<prefix>_<secret>``. The prefix identifies the key in listings
and the audit log; only a SHA-256 of the whole key is stored (keys are 190-bit random
strings, so a slow password hash would add nothing), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from voxclone.errors import RateLimitError, UnknownKeyError, VoiceNotFoundError
from voxclone.registry.database import open_database
from voxclone.registry.schema import api_keys, owners, usage

logger = logging.getLogger(__name__)

KEY_PREFIX = "vxk_"
_KEY = re.compile(r"^vxk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$")
_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")

#: Defaults for a new key: requests per minute, and seconds of audio per UTC day.
DEFAULT_RATE_PER_MINUTE = 60
DEFAULT_QUOTA_SECONDS_PER_DAY = 3600.0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class Owner:
    """Someone who owns voices and API keys."""

    id: int
    name: str
    is_admin: bool
    created_at: str


@dataclass(frozen=True)
class ApiKey:
    """An API key's public facts (never the secret)."""

    id: int
    owner_id: int
    prefix: str
    label: str
    rate_per_minute: int
    quota_seconds_per_day: float
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the key's owner, and the key."""

    owner: Owner
    key: ApiKey

    @property
    def actor(self) -> str:
        return f"key:{self.key.prefix}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_owner_name(name: str) -> str:
    """Validate an owner name. Raises ValueError saying which names are allowed."""
    if not isinstance(name, str) or not _OWNER.match(name):
        raise ValueError(f"invalid owner name {name!r}: use 1-100 letters, digits, '_', '.', "
                         "'@' or '-', starting with a letter or digit")
    return name


class Access:
    """Owners, keys and usage in one registry database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else open_database()

    # -- owners -----------------------------------------------------------------------
    def add_owner(self, name: str, *, is_admin: bool = False) -> Owner:
        """Create an owner. Raises ValueError for a bad or taken name."""
        check_owner_name(name)
        created = now_iso()
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(owners).values(
                    name=name, is_admin=is_admin, created_at=created)).inserted_primary_key
        except IntegrityError:
            raise ValueError(f"an owner named {name!r} exists already; choose another name "
                             "or issue a new key for it with `voxclone key issue`") from None
        assert new_id is not None  # the insert returns the new row's key
        return Owner(int(new_id[0]), name, is_admin, created)

    def owner(self, name: str) -> Owner:
        """The owner called ``name``. Raises LookupError if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(owners).where(owners.c.name == name)).first()
        if row is None:
            raise LookupError(f"no owner named {name!r}; list them with `voxclone owner list`")
        return _owner(row)

    def owners(self) -> list[Owner]:
        with self.engine.connect() as conn:
            return [_owner(r) for r in conn.execute(select(owners).order_by(owners.c.id))]

    # -- keys -------------------------------------------------------------------------
    def issue_key(self, owner_id: int, *, label: str = "",
                  rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
                  quota_seconds_per_day: float = DEFAULT_QUOTA_SECONDS_PER_DAY,
                  ) -> tuple[str, ApiKey]:
        """A new key for ``owner_id``: the secret (shown once, never stored) and its facts.

        Raises:
            ValueError: non-positive limits, or a label over 100 characters.
        """
        if rate_per_minute < 1 or quota_seconds_per_day <= 0:
            raise ValueError("rate_per_minute and quota_seconds_per_day must be positive")
        if len(label) > 100:
            raise ValueError("a key label has at most 100 characters")
        prefix = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
        created = now_iso()
        with self.engine.begin() as conn:
            new_id = conn.execute(insert(api_keys).values(
                owner_id=owner_id, prefix=prefix, key_hash=_digest(secret), label=label,
                rate_per_minute=rate_per_minute, quota_seconds_per_day=quota_seconds_per_day,
                created_at=created)).inserted_primary_key
        assert new_id is not None
        return secret, ApiKey(int(new_id[0]), owner_id, prefix, label, rate_per_minute,
                              float(quota_seconds_per_day), created, None)

    def keys(self, owner_id: int) -> list[ApiKey]:
        """The keys of ``owner_id`` (revoked ones included), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys).where(api_keys.c.owner_id == owner_id)
                                .order_by(api_keys.c.id))
            return [_key(r) for r in rows]

    def revoke_key(self, owner_id: int, prefix: str) -> ApiKey:
        """Revoke the key ``prefix`` of ``owner_id``.

        Raises:
            VoiceNotFoundError: ``owner_id`` has no live key with that prefix.
        """
        with self.engine.begin() as conn:
            done = conn.execute(update(api_keys).where(
                api_keys.c.owner_id == owner_id, api_keys.c.prefix == prefix,
                api_keys.c.revoked_at.is_(None)).values(revoked_at=now_iso()))
            if done.rowcount != 1:
                raise VoiceNotFoundError(f"no live API key {prefix!r} of yours")
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).one()
        return _key(row)

    def authenticate(self, secret: str | None) -> Principal:
        """The owner and key of ``secret``.

        Raises:
            UnknownKeyError: no key, a malformed, unknown or revoked one.
        """
        if not secret:
            raise UnknownKeyError("this needs an API key: send 'Authorization: Bearer vxk_...' "
                                  "(an operator issues keys with `voxclone key issue OWNER`)")
        match = _KEY.match(secret.strip())
        if match is None:
            raise UnknownKeyError("that is not a voxclone API key (they look like vxk_...)")
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.prefix == match.group(1))
                               ).first()
            if row is None or not hmac.compare_digest(row.key_hash, _digest(secret.strip())):
                raise UnknownKeyError("unknown API key; check it, or ask for a new one")
            if row.revoked_at is not None:
                raise UnknownKeyError(f"API key {row.prefix} was revoked on {row.revoked_at}; "
                                      "ask for a new one")
            owner_row = conn.execute(select(owners).where(owners.c.id == row.owner_id)).one()
        return Principal(_owner(owner_row), _key(row))

    # -- rate limits and quotas -------------------------------------------------------
    def charge_request(self, key: ApiKey, *, now: float | None = None) -> None:
        """Count one request against the key's per-minute limit.

        Raises:
            RateLimitError: over the limit (``retry_after`` says when it resets).
        """
        moment = time.time() if now is None else now
        window = int(moment // 60) * 60
        with self.engine.begin() as conn:
            count = _add(conn, key.id, "minute", window, 1.0)
        if count > key.rate_per_minute:
            raise RateLimitError(
                f"API key {key.prefix} is limited to {key.rate_per_minute} requests a minute; "
                f"wait {window + 60 - moment:.0f} s", retry_after=window + 60 - moment)

    def check_quota(self, key: ApiKey, *, now: float | None = None) -> float:
        """Seconds of audio the key may still make today (UTC).

        Raises:
            RateLimitError: the quota is used up.
        """
        moment = time.time() if now is None else now
        day = int(moment // 86400) * 86400
        with self.engine.connect() as conn:
            used = conn.execute(select(usage.c.amount).where(
                usage.c.key_id == key.id, usage.c.kind == "day", usage.c.window == day)
            ).scalar() or 0.0
        left = key.quota_seconds_per_day - used
        if left <= 0:
            raise _used_up(key, retry_after=day + 86400 - moment)
        return left

    def reserve_audio(self, key: ApiKey, seconds: float, *, now: float | None = None,
                      ) -> None:
        """Count ``seconds`` of audio against the key's quota for the UTC day of ``now``
        before they are made, if they fit in what is left. The check and the count are
        one transaction, so requests racing for the last seconds cannot all get them.
        Settle later with :meth:`add_audio` (a negative amount gives back what was not
        used), passing the same ``now``.

        Raises:
            RateLimitError: the quota is used up, or has less than ``seconds`` left;
                nothing is counted then.
        """
        moment = time.time() if now is None else now
        day = int(moment // 86400) * 86400
        retry_after = day + 86400 - moment
        with self.engine.begin() as conn:  # an error rolls the count back
            total = _add(conn, key.id, "day", day, float(seconds))
            if total <= key.quota_seconds_per_day:
                return
            left = key.quota_seconds_per_day - (total - seconds)
            if left <= 0:
                raise _used_up(key, retry_after=retry_after)
            raise RateLimitError(
                f"API key {key.prefix} has {left:.1f} s of audio left for today (UTC), and "
                f"this needs about {seconds:.1f} s more; send a shorter text, or ask the "
                "key's owner for a larger quota", retry_after=retry_after)

    def add_audio(self, key: ApiKey, seconds: float, *, now: float | None = None) -> None:
        """Count ``seconds`` of audio made with ``key`` against today's quota (the UTC day
        of ``now``; negative: give back seconds reserved but not used)."""
        moment = time.time() if now is None else now
        with self.engine.begin() as conn:
            _add(conn, key.id, "day", int(moment // 86400) * 86400, float(seconds))


def _used_up(key: ApiKey, *, retry_after: float) -> RateLimitError:
    """The error for a key whose audio quota for today is spent."""
    return RateLimitError(
        f"API key {key.prefix} has used its {key.quota_seconds_per_day:.0f} s of audio for "
        "today (UTC); ask its owner for a larger quota", retry_after=retry_after)


def _add(conn: Connection, key_id: int, kind: str, window: int, amount: float) -> float:
    """Add ``amount`` to a usage counter (creating it), returning the new total."""
    where = (usage.c.key_id == key_id, usage.c.kind == kind, usage.c.window == window)
    current = conn.execute(select(usage.c.amount).where(*where).with_for_update()).scalar()
    if current is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(usage).values(key_id=key_id, kind=kind, window=window,
                                                  amount=amount))
            return amount
        except IntegrityError:  # another server created it first
            current = conn.execute(select(usage.c.amount).where(*where)).scalar_one()
    conn.execute(update(usage).where(*where).values(amount=usage.c.amount + amount))
    return float(current) + amount


def _owner(row: Row) -> Owner:
    return Owner(row.id, row.name, bool(row.is_admin), row.created_at)


def _key(row: Row) -> ApiKey:
    return ApiKey(row.id, row.owner_id, row.prefix, row.label, row.rate_per_minute,
                  float(row.quota_seconds_per_day), row.created_at, row.revoked_at)
