"""The FastAPI application: routes, authentication, error mapping and the web page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxclone import __version__
from voxclone.errors import RateLimitError, UnknownKeyError, VoxcloneError
from voxclone.registry import open_database
from voxclone.server import (
    routes_admin,
    routes_models,
    routes_speech,
    routes_stream_input,
    routes_voices,
)
from voxclone.server.body_limit import OVERHEAD_BYTES, BodyLimit
from voxclone.server.errors import error_body, http_error, status_of, validation_error
from voxclone.server.state import ServerConfig, ServerState
from voxclone.server.uploads import UPLOAD_TOO_LARGE, UploadTooLargeError

logger = logging.getLogger(__name__)

_STATIC = files("voxclone.server") / "static"


def create_app(database_url: str | None = None, *,
               config: ServerConfig | None = None) -> FastAPI:
    """The voxclone HTTP API and web page over the registry at ``database_url``
    (default: ``$VOXCLONE_DATABASE_URL``, else SQLite in the voxclone home).

    Raises:
        RegistryError: the database cannot be opened or migrated.
    """
    state = ServerState(open_database(database_url), config or ServerConfig())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.jobs.shutdown()

    app = FastAPI(title="voxclone", version=__version__, lifespan=lifespan,
                  description="Offline voice cloning with consent, watermarking and an "
                              "audit log. Every route but /health needs an API key "
                              "(Authorization: Bearer vxk_...). Text written as it is "
                              "spoken: WebSocket /v1/audio/speech/stream-input.")
    app.state.voxclone = state
    # A body over anything the routes accept is refused as it arrives, not spooled first.
    largest = max(state.config.max_request_bytes, state.config.max_upload_bytes)
    app.add_middleware(BodyLimit, limit=largest + OVERHEAD_BYTES)

    async def voxclone_error(_request: Request, exc: Exception) -> JSONResponse:
        headers = ({"Retry-After": str(max(1, round(exc.retry_after)))}
                   if isinstance(exc, RateLimitError) else None)
        if isinstance(exc, UnknownKeyError):
            headers = {"WWW-Authenticate": "Bearer"}
        status = UPLOAD_TOO_LARGE if isinstance(exc, UploadTooLargeError) else status_of(exc)
        return JSONResponse({"error": error_body(exc)}, status_code=status, headers=headers)

    async def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        return JSONResponse({"error": validation_error(errors)}, status_code=422)

    async def framework_error(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):  # (only registered for those)
            return await voxclone_error(request, exc)
        body = http_error(exc.status_code, exc.detail, request.method, request.url.path)
        return JSONResponse({"error": body}, status_code=exc.status_code,
                            headers=exc.headers)

    for kind in (VoxcloneError, ValueError, LookupError):
        app.add_exception_handler(kind, voxclone_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, framework_error)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness: no key needed."""
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(_STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")
    app.include_router(routes_voices.router)
    app.include_router(routes_speech.router)
    app.include_router(routes_stream_input.router)
    app.include_router(routes_models.router)
    app.include_router(routes_admin.router)
    return app
