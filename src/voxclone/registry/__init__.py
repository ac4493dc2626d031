"""The registry: owners, API keys, voices, grants, usage and the audit log, in one
SQL database (SQLite by default, PostgreSQL through a URL)."""

from voxclone.registry.database import database_url, open_database

__all__ = ["database_url", "open_database"]
