"""Signed JSON documents: HMAC-SHA256 over canonical JSON, written atomically.

Consent records, revocation records and pending challenges are stored this way. The
key is the installation's ``derive_key("consent")`` (see :mod:`voxclone.keys`), so a
record edited by hand, or copied from another installation, fails verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voxclone.atomic_file import write_text_atomic
from voxclone.errors import ConsentRecordError

SIGNATURE_FIELD = "hmac"
_ENVELOPE = ("format", "version", SIGNATURE_FIELD)


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, ASCII only."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def signature(body: Mapping[str, Any], key: bytes) -> str:
    """Hex HMAC-SHA256 of ``body`` under ``key``."""
    return hmac.new(key, canonical(body), hashlib.sha256).hexdigest()


def seal(kind: str, version: int, body: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """``body`` wrapped with its format name, version and signature."""
    return {"format": kind, "version": version,
            SIGNATURE_FIELD: signature(body, key), **body}


def unseal(data: Any, kind: str, version: int, key: bytes, *, origin: str) -> dict[str, Any]:
    """The body of a sealed document, after checking format, version and signature.

    Raises:
        ConsentRecordError: not a ``kind`` document, another version, or the signature
            does not match (the file was edited, or was made by another installation).
    """
    if not isinstance(data, dict) or data.get("format") != kind:
        raise ConsentRecordError(f"{origin} is not a {kind} document")
    if data.get("version") != version:
        raise ConsentRecordError(
            f"{origin} has format version {data.get('version')}; this voxclone reads "
            f"version {version} - upgrade voxclone"
        )
    body = {k: v for k, v in data.items() if k not in _ENVELOPE}
    claimed = data.get(SIGNATURE_FIELD)
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, signature(body, key)):
        raise ConsentRecordError(
            f"{origin} fails its signature check: it was edited, damaged, or made by another "
            "voxclone installation; it cannot be trusted - enroll the voice again with fresh "
            "consent"
        )
    return body


def write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file and ``os.replace``.

    Raises:
        OSError: the folder cannot be created or written.
    """
    write_text_atomic(path, json.dumps(data, indent=1))


def read_json(path: Path, *, what: str) -> Any:
    """Parsed JSON of ``path``.

    Raises:
        FileNotFoundError: there is no such file.
        ConsentRecordError: the file cannot be read or is not JSON.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConsentRecordError(f"the {what} {path} is unreadable ({exc})") from exc


def erase(path: Path) -> None:
    """Overwrite a file with zeros, flush it to disk, then delete it.

    Best effort against recovery from the same file: journaling or copy-on-write file
    systems and SSD wear levelling may still keep old blocks.
    """
    try:
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
    except FileNotFoundError:
        return
    path.unlink(missing_ok=True)
