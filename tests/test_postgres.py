"""The same registry code on PostgreSQL (what several servers share): migrations, the
audit chain under concurrent writers, owners, keys, usage counters, voices and grants,
and the server on top."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text, update

from voxclone.audit import AuditLog
from voxclone.registry import open_database
from voxclone.registry.access import Access
from voxclone.registry.schema import audit

from .postgres_server import postgres_bin, temporary_postgres

pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed")
pytestmark = pytest.mark.skipif(postgres_bin() is None,
                                reason="PostgreSQL is not installed (`make test` installs it)")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with temporary_postgres() as database_url:
        yield database_url


@pytest.fixture()
def engine(url: str) -> Engine:
    return open_database(url)


def test_migrations_create_the_schema(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    tables = set(inspect(engine).get_table_names())
    assert {"owners", "api_keys", "voices", "grants", "usage", "audit", "audit_head",
            "fingerprints", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0002"


def test_the_audit_chain_holds_under_concurrent_writers(engine: Engine) -> None:
    before = AuditLog(engine).verify().entries

    def writer(tag: int) -> None:
        log = AuditLog(engine)
        for number in range(15):
            log.append("synthesis", voice="ada", payload=tag * 100 + number,
                       details={"writer": tag})

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log = AuditLog(engine)
    report = log.verify()
    assert report.ok and report.entries == before + 60
    assert log.find_payload(203) is not None
    with engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == before + 7).values(actor="mallory"))
    assert [(p.seq, p.kind) for p in log.verify().problems] == [(before + 7, "edited")]


def test_keys_and_rate_limits(engine: Engine) -> None:
    access = Access(engine)
    owner = access.add_owner("pg-owner")
    secret, key = access.issue_key(owner.id, rate_per_minute=2, quota_seconds_per_day=5)
    assert access.authenticate(secret).owner == owner
    access.charge_request(key, now=60.0)
    access.charge_request(key, now=61.0)
    with pytest.raises(Exception, match="2 requests a minute"):
        access.charge_request(key, now=62.0)
    access.add_audio(key, 6.0, now=100.0)
    with pytest.raises(Exception, match="for today"):
        access.check_quota(key, now=200.0)


def test_the_server_runs_on_postgres(url: str) -> None:
    from fastapi.testclient import TestClient

    from voxclone.server import create_app

    access = Access(open_database(url))
    owner = access.add_owner("pg-server", is_admin=True)
    secret, _ = access.issue_key(owner.id)
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(url)) as client:
        assert client.post("/v1/consent/challenges", json={"name": "ada"},
                           headers=headers).status_code == 201
        assert client.get("/v1/voices", headers=headers).json() == []
        checked = client.get("/v1/audit/verify", headers=headers).json()
    assert checked["entries"] >= 1
