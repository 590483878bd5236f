"""/api/v1 fuzzed against its own OpenAPI description (schemathesis, a bounded run): no
500, every answer as the description says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from sqlalchemy.orm import Session, sessionmaker
from webkit import T0, TEXT, add

from monitor.storage.db import make_engine, session_factory, upgrade
from monitor.web.app import create_app
from monitor.web.auth import hash_secret
from monitor.web.deps import Console
from monitor.web.settings import ApiToken, WebSettings

AUTH = {"Authorization": "Bearer fuzz-token"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    sessions: sessionmaker[Session] = session_factory(engine)
    with sessions.begin() as s:
        for n in range(3):
            add(s, n, text=TEXT)
    web = WebSettings(api_tokens=[ApiToken(name="fuzz", token_hash=hash_secret("fuzz-token"))])
    yield create_app(Console(web, sessions, clock=lambda: T0))
    engine.dispose()


def test_api_keeps_to_its_openapi_description(app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the description reads
        operations.append(result.ok())
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def call(case: Any) -> None:
            case.call_and_validate(headers=AUTH)

        call()
