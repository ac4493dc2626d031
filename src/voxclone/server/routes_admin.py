"""Routes for API keys, owners (administrators) and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from voxclone.registry.access import (
    DEFAULT_QUOTA_SECONDS_PER_DAY,
    DEFAULT_RATE_PER_MINUTE,
    ApiKey,
)
from voxclone.server.auth import Admin, Caller, State

router = APIRouter(prefix="/v1")


class KeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=100)
    rate_per_minute: int = Field(DEFAULT_RATE_PER_MINUTE, ge=1, le=100_000)
    quota_seconds_per_day: float = Field(DEFAULT_QUOTA_SECONDS_PER_DAY, gt=0, le=1e7)


class OwnerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    is_admin: bool = False


def key_json(key: ApiKey) -> dict[str, Any]:
    return {"prefix": key.prefix, "label": key.label, "rate_per_minute": key.rate_per_minute,
            "quota_seconds_per_day": key.quota_seconds_per_day, "created": key.created_at,
            "revoked": key.revoked_at}


@router.get("/keys", tags=["keys"])
def keys(who: Caller, state: State) -> list[dict[str, Any]]:
    """Your API keys (never their secrets)."""
    return [key_json(k) for k in state.access.keys(who.owner.id)]


@router.post("/keys", tags=["keys"], status_code=201)
def new_key(body: KeyRequest, who: Caller, state: State) -> dict[str, Any]:
    """A new API key for you; ``key`` is shown this once only. A key's limits cannot
    exceed those of the key that asks for it, unless you are an administrator."""
    if not who.owner.is_admin:
        rate = min(body.rate_per_minute, who.key.rate_per_minute)
        quota = min(body.quota_seconds_per_day, who.key.quota_seconds_per_day)
    else:
        rate, quota = body.rate_per_minute, body.quota_seconds_per_day
    secret, key = state.access.issue_key(who.owner.id, label=body.label,
                                         rate_per_minute=rate, quota_seconds_per_day=quota)
    state.audit.append("key-issue", actor=who.actor, owner_id=who.owner.id,
                       details={"prefix": key.prefix})
    return {"key": secret, **key_json(key)}


@router.delete("/keys/{prefix}", tags=["keys"], status_code=204)
def revoke_key(prefix: str, who: Caller, state: State) -> Response:
    """Revoke one of your keys (it stops working at once)."""
    state.access.revoke_key(who.owner.id, prefix)
    state.audit.append("key-revoke", actor=who.actor, owner_id=who.owner.id,
                       details={"prefix": prefix})
    return Response(status_code=204)


@router.post("/owners", tags=["owners"], status_code=201)
def new_owner(body: OwnerRequest, who: Admin, state: State) -> dict[str, Any]:
    """Create an owner with a first API key (administrators only)."""
    owner = state.access.add_owner(body.name, is_admin=body.is_admin)
    secret, key = state.access.issue_key(owner.id, label="first key")
    state.audit.append("owner-add", actor=who.actor, owner_id=owner.id,
                       details={"name": owner.name, "is_admin": owner.is_admin,
                                "prefix": key.prefix})
    return {"name": owner.name, "is_admin": owner.is_admin, "key": secret}


@router.get("/audit", tags=["audit"])
def audit(who: Caller, state: State,
          # Bounded by the database's 64-bit integer: a larger number is a 422, not a 500.
          after: int = Query(0, ge=0, le=2**63 - 1),
          limit: int = Query(100, ge=1, le=1000),
          event: str | None = Query(None, max_length=32)) -> list[dict[str, Any]]:
    """Audit entries about your voices or made with your keys (all, for administrators),
    oldest first, after entry number ``after``."""
    if who.owner.is_admin:
        entries = state.audit.entries(after=after, limit=limit, event=event)
    else:
        prefixes = [f"key:{k.prefix}" for k in state.access.keys(who.owner.id)]
        entries = state.audit.entries(after=after, limit=limit, event=event,
                                      owner_id=who.owner.id, actors=prefixes)
    return [e.to_json() for e in entries]


@router.get("/audit/verify", tags=["audit"])
def audit_verify(who: Admin, state: State) -> dict[str, Any]:
    """Check the whole audit chain (administrators only)."""
    report = state.audit.verify()
    return {"ok": report.ok, "entries": report.entries, "anchored_seq": report.anchored_seq,
            "problems": [{"seq": p.seq, "kind": p.kind, "message": p.message}
                         for p in report.problems]}
