"""The installation secret: created once, private, stable, and refused when damaged."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voxclone.errors import SecretError
from voxclone.keys import SECRET_FILE, derive_key, installation_secret


def test_secret_is_created_private_and_stable(tmp_path: Path) -> None:
    first = installation_secret(tmp_path)
    assert len(first) == 32
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert installation_secret(tmp_path) == first


def test_installations_have_different_secrets(tmp_path: Path) -> None:
    assert installation_secret(tmp_path / "a") != installation_secret(tmp_path / "b")


def test_derived_keys_are_per_purpose(tmp_path: Path) -> None:
    assert derive_key("watermark", tmp_path) != derive_key("consent", tmp_path)
    assert derive_key("watermark", tmp_path) == derive_key("watermark", tmp_path)


def test_damaged_secret_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_bytes(b"short")
    with pytest.raises(SecretError, match="restore it from a backup"):
        installation_secret(tmp_path)
    assert (tmp_path / SECRET_FILE).read_bytes() == b"short"
