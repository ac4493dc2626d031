"""The HTTP server (``pip install 'voxclone[server]'``): FastAPI app, web page, and
``voxclone serve``. Importing this package needs the server extra."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(database_url: str | None = None, **options: Any) -> FastAPI:
    """The voxclone FastAPI application (see :func:`voxclone.server.app.create_app`).

    Raises:
        ImportError: the server extra is not installed (the message says how).
    """
    try:
        from voxclone.server.app import create_app as build
    except ImportError as exc:
        raise ImportError(f"the voxclone server needs its extra ({exc.name} is missing): "
                          "pip install 'voxclone[server]'") from exc
    return build(database_url, **options)
