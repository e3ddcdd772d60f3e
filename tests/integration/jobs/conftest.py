"""A database of the test's own that real processes and commands commit to: a SQLite file always,
and a scratch PostgreSQL database too when ``TQ_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from trainquant.config import Settings
from trainquant.db import make_engine


def _backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("TQ_TEST_DATABASE_URL", "").startswith("postgres") else [])


@pytest.fixture(params=_backends())
def scratch_database(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    base = os.environ["TQ_TEST_DATABASE_URL"]
    name = f"tq_scratch_{os.getpid()}"
    admin = make_engine(Settings(env="test"), url=base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
