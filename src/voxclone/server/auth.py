"""Who is calling: the API key in ``Authorization: Bearer``, checked against the
registry and its per-minute limit, on every route but /health."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from voxclone.errors import AccessError
from voxclone.registry.access import Principal
from voxclone.server.state import ServerState

_bearer = HTTPBearer(auto_error=False, description="an API key, vxk_...")


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.voxclone
    return state


def identified(request: Request,
               credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
               ) -> Principal:
    """The caller, not counted against the key's rate limit (raises UnknownKeyError)."""
    state = server_state(request)
    return state.access.authenticate(credentials.credentials if credentials else None)


def principal(who: Annotated[Principal, Depends(identified)], request: Request) -> Principal:
    """The caller, counted against the key's rate limit (raises UnknownKeyError or
    RateLimitError)."""
    server_state(request).access.charge_request(who.key)
    return who


def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """The caller, who must be an administrator (raises AccessError)."""
    if not who.owner.is_admin:
        raise AccessError("this needs an administrator's key")
    return who


Caller = Annotated[Principal, Depends(principal)]
#: For polling a job's progress, which is cheap and must not use up the rate limit.
Poller = Annotated[Principal, Depends(identified)]
Admin = Annotated[Principal, Depends(admin)]
State = Annotated[ServerState, Depends(server_state)]
