"""Opening the registry database: SQLite in the voxclone home by default, or any
SQLAlchemy URL (PostgreSQL for several servers), migrated to the current schema.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from voxclone.errors import RegistryError
from voxclone.keys import home_dir

logger = logging.getLogger(__name__)

#: The environment variable naming the database (an SQLAlchemy URL).
URL_ENV = "VOXCLONE_DATABASE_URL"
DB_FILE = "voxclone.db"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url(url: str | None = None) -> str:
    """``url``, else ``$VOXCLONE_DATABASE_URL``, else SQLite at ``<home>/voxclone.db``."""
    if url:
        return url
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV]
    return f"sqlite:///{home_dir() / DB_FILE}"


def open_database(url: str | None = None) -> Engine:
    """The engine for ``url`` (see :func:`database_url`), migrated to the latest schema.

    One engine per URL per process (engines pool their connections). SQLite runs in
    WAL mode with a 30 s busy timeout, and each transaction takes the write lock at
    its start, so concurrent writers queue instead of failing.

    Raises:
        RegistryError: the database cannot be opened or migrated.
    """
    resolved = database_url(url)
    with _lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _create(resolved)
            _engines[resolved] = engine
    return engine


def _create(url: str) -> Engine:
    try:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            folder = Path(url.removeprefix("sqlite:///")).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryError(f"cannot open the voxclone database {_safe(url)}: its "
                                    f"folder cannot be made ({exc}); check the URL in "
                                    f"${URL_ENV}") from exc
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        migrate(engine)
    except SQLAlchemyError as exc:
        if "database is locked" in str(exc):  # SQLite, after its 30 s busy timeout
            raise RegistryError(f"the voxclone database {_safe(url)} stayed locked by another "
                                "program for over 30 s; try again when it has finished "
                                "(another voxclone, or a tool holding the database open)"
                                ) from exc
        raise RegistryError(f"cannot open the voxclone database {_safe(url)}: {exc}; check "
                            f"the URL in ${URL_ENV} and that the database is reachable") from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, start transactions (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock up front: a read-then-write transaction (the audit chain)
        # must not find its snapshot stale when it comes to write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the schema up to the latest migration (Alembic, idempotent)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    logger.debug("database %s is at the latest schema", _safe(str(engine.url)))


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "<database>"
