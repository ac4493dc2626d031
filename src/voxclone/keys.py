"""The installation secret: one random key per voxclone home, from which the keys that
sign consent records and key the watermark are derived.

The secret lives in ``<home>/secret.key`` (32 random bytes, mode 0600), created on
first use. Losing it means old watermarks and consent signatures can no longer be
checked, so it is never rewritten once it exists.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from pathlib import Path

from voxclone.errors import SecretError

SECRET_FILE = "secret.key"
SECRET_BYTES = 32


def home_dir() -> Path:
    """``$VOXCLONE_HOME``, else ``$XDG_DATA_HOME/voxclone`` (default ``~/.local/share``)."""
    home = os.environ.get("VOXCLONE_HOME")
    if home:
        return Path(home)
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(data) / "voxclone"


def installation_secret(home: str | os.PathLike[str] | None = None) -> bytes:
    """The 32-byte secret of this installation, created (atomically, 0600) if missing.

    Raises:
        SecretError: the secret file exists but is damaged, or cannot be created.
    """
    path = Path(home) / SECRET_FILE if home is not None else home_dir() / SECRET_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = _create(path)
    except OSError as exc:
        raise SecretError(f"cannot read the installation secret {path}: {exc}") from exc
    if len(data) != SECRET_BYTES:
        raise SecretError(
            f"the installation secret {path} is damaged ({len(data)} bytes, expected "
            f"{SECRET_BYTES}); restore it from a backup - replacing it invalidates every "
            "consent signature and watermark key made with it"
        )
    return data


def _create(path: Path) -> bytes:
    data = secrets.token_bytes(SECRET_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole to a private file first, then linked into place: a process that
        # loses the race reads a complete secret, never a half-written one, and two
        # processes starting at once never each keep their own (link fails if it exists).
        fd, temp = tempfile.mkstemp(prefix=".secret-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        finally:
            os.unlink(temp)
    except FileExistsError:
        return path.read_bytes()
    except OSError as exc:
        raise SecretError(f"cannot create the installation secret {path}: {exc}") from exc
    return data


def derive_key(purpose: str, home: str | os.PathLike[str] | None = None) -> bytes:
    """A 32-byte key for one ``purpose`` (e.g. ``"watermark"``, ``"consent"``).

    Keys for different purposes are independent: HMAC-SHA256(secret, purpose).
    """
    return hmac.new(installation_secret(home), purpose.encode(), hashlib.sha256).digest()
