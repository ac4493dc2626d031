"""A request body larger than the server will ever use is refused as it arrives.

The routes refuse uploads over the server's limits (:mod:`voxclone.server.uploads`), but
only once the multipart parser has received them: a 10 GB body was written to temporary
files first. This ASGI middleware refuses it before: at once when ``Content-Length``
says it is too large, else as soon as the bytes received pass the limit (a chunked
body), with the server's usual JSON error (413, type ``AudioError``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxclone.server.uploads import UPLOAD_TOO_LARGE, megabytes

#: Room for what a request carries besides its audio files (form fields, multipart
#: boundaries and headers, a JSON body for speech).
OVERHEAD_BYTES = 1 << 20


class _TooLarge(Exception):
    """The body passed the limit while it was being received."""


class BodyLimit:
    """Refuse (413) HTTP requests whose body is over ``limit`` bytes.

    Args:
        app: the ASGI application.
        limit: the largest body accepted, bytes (the server's largest request of audio
            files plus :data:`OVERHEAD_BYTES`).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send, declared)
            return
        received = 0
        exceeded = refused = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body is over the limit, whatever the app answers (the form
            # parser turns the error into a 400) is replaced by the 413.
            nonlocal refused
            if not exceeded:
                await send(message)
            elif message["type"] == "http.response.start" and not refused:
                refused = True
                await self._refuse(send, received)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not refused:
            await self._refuse(send, received)

    async def _refuse(self, send: Send, size: int) -> None:
        body = json.dumps({"error": {
            "type": "AudioError",
            "message": (f"the request's body is {megabytes(size)} or more, over this "
                        f"server's limit of {megabytes(self.limit)}; send fewer or smaller "
                        "recordings (the server's operator sets the limits: voxclone "
                        "serve --max-request-mb / --max-upload-mb)")}}).encode()
        headers: list[Any] = [(b"content-type", b"application/json"),
                              (b"content-length", str(len(body)).encode()),
                              (b"connection", b"close")]
        await send({"type": "http.response.start", "status": UPLOAD_TOO_LARGE,
                    "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
