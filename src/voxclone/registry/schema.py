"""The registry's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Queries use these tables; the migrations in ``migrations/versions`` create and change
them, so a change here needs a new migration too.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

owners = Table(
    "owners", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", Integer, ForeignKey("owners.id", ondelete="CASCADE"), nullable=False),
    # The key's public half (shown in listings); the secret half is stored only hashed.
    Column("prefix", String(24), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("label", String(100), nullable=False, default=""),
    Column("rate_per_minute", Integer, nullable=False),
    Column("quota_seconds_per_day", Float, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

voices = Table(
    "voices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", Integer, ForeignKey("owners.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("profile", Text, nullable=False),   # VoiceProfile JSON (self-digested)
    Column("consent", Text, nullable=False),   # signed consent record JSON
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("owner_id", "name", name="uq_voices_owner_name"),
)

grants = Table(
    "grants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("voice_id", Integer, ForeignKey("voices.id", ondelete="CASCADE"), nullable=False),
    Column("grantee_id", Integer, ForeignKey("owners.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("voice_id", "grantee_id", name="uq_grants_voice_grantee"),
)

usage = Table(
    "usage", metadata,
    # One row per key and window: kind "minute" counts requests (rate limit),
    # kind "day" sums seconds of audio (quota). ``window`` is the window's start, in
    # seconds since the epoch.
    Column("key_id", Integer, ForeignKey("api_keys.id", ondelete="CASCADE"),
           primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("window", BigInteger, primary_key=True, autoincrement=False),
    Column("amount", Float, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("event", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("owner_id", Integer, nullable=True, index=True),
    Column("voice", String(64), nullable=True),
    Column("payload", BigInteger, nullable=True, index=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row (id 1): the chain's last entry. Appenders lock it, so entries get consecutive
# numbers even with several servers, and a log cut short at its end is detected.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row per synthesis: its acoustic fingerprint (voxclone.fingerprint), which finds a
# clip of it when the watermark cannot be read. ``words`` is the frames' bits (uint16,
# little-endian), ``active`` which frames are loud enough to compare (packed bits).
fingerprints = Table(
    "fingerprints", metadata,
    Column("synthesis_id", BigInteger, primary_key=True, autoincrement=False),
    Column("scheme", String(40), nullable=False),
    Column("frames", Integer, nullable=False),
    Column("words", LargeBinary, nullable=False),
    Column("active", LargeBinary, nullable=False),
    Column("created_at", String(40), nullable=False),
)
