"""Alembic migrations of the registry schema (run by :func:`voxclone.registry.open_database`)."""
