"""Property-based tests of the HTTP API from its own OpenAPI spec (schemathesis): with a
valid key, no generated request - odd names, strings, numbers, files - gets a server
error."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from .server_helpers import Owner, add_owner  # noqa: E402

#: One home (database, secret) for the app and every generated request.
SHARED_HOME = True


@pytest.fixture(scope="module")
def app(module_home: Path) -> object:
    from voxclone.server.app import create_app

    return create_app()


@pytest.fixture(scope="module")
def owner(app: object) -> Owner:
    # A generous limit: the generator sends hundreds of requests a minute.
    return add_owner("prop", admin=True, rate_per_minute=100_000)


# CI replays a fixed set of generated requests, so a run is repeatable; set
# VOXCLONE_FUZZ_EXAMPLES (e.g. 300) for a longer, randomised search before a release.
FUZZ_EXAMPLES = int(os.environ.get("VOXCLONE_FUZZ_EXAMPLES", "0"))


def test_no_request_gets_a_server_error(app: object, owner: Owner) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES or 15, derandomize=not FUZZ_EXAMPLES,
                  deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            case.call_and_validate(headers=owner.headers, checks=[not_a_server_error])

        no_server_error()
