"""Migration 0009 on a database holding events stored before origins were recorded (SQLite, and
PostgreSQL when TQ_TEST_DATABASE_URL is set): every old event keeps its idempotency."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from tests.conftest import make_department, make_employee, make_site
from tests.integration.training.conftest import make_session
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.models import CheckinEvent, Device
from trainquant.auth.permissions import DataScope, Principal
from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker
from trainquant.migrate import alembic_config, current, upgrade
from trainquant.models import metadata
from trainquant.org.models import ExternalId

NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
KEY = Principal(kind="apikey", id=41, name="erp", role=None, permissions=frozenset({"attendance:write"}), scope=DataScope())


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> Iterator[Engine]:
    """A database of its own, migrated to 0007 (before origins)."""
    if request.param == "sqlite":
        engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
        schema = None
    else:
        url = os.environ.get("TQ_TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            pytest.skip("PostgreSQL: set TQ_TEST_DATABASE_URL")
        schema = f"mig_{uuid.uuid4().hex[:10]}"
        with make_engine(Settings(env="test"), url=url).begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = make_engine(Settings(env="test"), url=url, connect_args={"options": f"-c search_path={schema}"})
    upgrade(engine, "0009")  # the revision before the ingest-sources one
    yield engine
    engine.dispose()
    if schema:
        with make_engine(Settings(env="test"), url=os.environ["TQ_TEST_DATABASE_URL"]).begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def _old_rows(engine: Engine) -> dict[str, int]:
    """A school, and events as the 0007 release stored them: keys "<source>:<event id>"."""
    factory = make_sessionmaker(engine)
    with factory() as db:
        dep = make_department(db, code="T")
        site = make_site(db, code="SH")
        t1 = make_employee(db, employee_no="T1", department=dep, site=site)
        t2 = make_employee(db, employee_no="T2", department=dep, site=site, name="李四")
        db.add(ExternalId(employee_id=t1.id, system="device_pin", external_id="1001"))
        # The programs table as it was then (no later columns): written by hand, not through today's model.
        program_id = db.execute(text(
            "INSERT INTO programs (code, title, kind, level, target_kinds, tags, planned_hours, eligibility, requires_approval, active, created_at) "
            "VALUES ('CI', 'CI 培训', 'offline', 'foundation', '[]', '[]', 2, '{}', TRUE, TRUE, '2026-09-01 00:00:00') RETURNING id")).scalar_one()
        session = make_session(db, program=SimpleNamespace(id=program_id, code="CI"), code="CI-1", starts_at=START, hours=2, site=site)
        session.venue_id = site.venues[0].id
        session.checkin_methods = ["face", "qr"]
        db.add(Device(device_id="ZK-1", kind="zkteco", site_id=site.id, venue_id=site.venues[0].id, active=True, info={}))
        db.commit()
        ids = {"t1": t1.id, "t2": t2.id, "session": session.id}
    rows = [
        ("api:1001", "api", "accepted", t1.id, "T1", "face", "ZK-1"),
        ("zkteco:ZK-1:1001:2026-09-01 14:00:00", "zkteco", "accepted", t1.id, "device_pin:1001", "face", "ZK-1"),
        ("zkteco:ZK-1:malformed:0123456789abcdef", "zkteco", "rejected", None, None, None, None),
        ("wecom:wecom:u7:1788228000:上班打卡", "wecom", "rejected", None, "wecom:u7", "manual", None),
        ("qr-page:6c1d", "qr-page", "accepted", t2.id, "T2", "qr", None),
    ]
    with engine.begin() as conn:
        for key, source, verdict, employee, ref, method, device in rows:
            conn.execute(text(
                "INSERT INTO checkin_events (dedup_key, source, received_at, employee_id, employee_ref, session_id, kind, at, method, device_id, verdict, raw) "
                "VALUES (:key, :source, :at, :employee, :ref, :session, 'in', :at, :method, :device, :verdict, '{}')"
            ), {"key": key, "source": source, "at": START.replace(tzinfo=None) if engine.dialect.name == "sqlite" else START, "employee": employee,
                "ref": ref, "session": ids["session"] if employee else None, "method": method, "device": device, "verdict": verdict})
        ids |= dict(conn.execute(text("SELECT dedup_key, id FROM checkin_events")).all())
    return ids


def test_the_upgrade_names_every_old_events_sender_and_keeps_its_retries_idempotent(old_database):
    ids = _old_rows(old_database)
    upgrade(old_database, "0010")
    assert current(old_database) == "0010"
    with old_database.connect() as conn:
        got = {id_: (origin, key, content) for id_, origin, key, content in conn.execute(text("SELECT id, origin, dedup_key, content_key FROM checkin_events"))}
    assert got == {
        ids["api:1001"]: ("api", "api:1001", None),  # which API key sent it was never recorded
        ids["zkteco:ZK-1:1001:2026-09-01 14:00:00"]: ("zkteco:ZK-1", "zkteco:ZK-1|ZK-1:1001:2026-09-01 14:00:00", None),
        ids["zkteco:ZK-1:malformed:0123456789abcdef"]: ("zkteco:ZK-1", "zkteco:ZK-1|ZK-1:malformed:0123456789abcdef", None),
        ids["wecom:wecom:u7:1788228000:上班打卡"]: ("wecom", "wecom|wecom:u7:1788228000:上班打卡", None),
        ids["qr-page:6c1d"]: ("qr-page", "qr-page:6c1d", None),
    }

    factory = make_sessionmaker(old_database)
    settings = Settings(env="test")
    punch = {"session": "CI-1", "kind": "in", "at": START.isoformat(), "method": "face", "device_id": "ZK-1"}
    with factory() as db:
        # The retry of an old API event about the same person: a duplicate of it, whichever key sends it now.
        retry = ingest(db, [{**punch, "event_id": "1001", "employee_no": "T1"}], source="api", principal=KEY, now=NOW, secret_key=settings.secret_key)
        assert [(v[2], v[5]) for v in retry.verdicts] == [("duplicate", ids["api:1001"])]
        # The same id about another person is not that event: judged on its own.
        api = ingest(db, [{**punch, "event_id": "1001", "employee_no": "T2"}], source="api", principal=KEY, now=NOW, secret_key=settings.secret_key)
        assert [v[2] for v in api.verdicts] == ["accepted"], api.verdicts
        page = ingest(db, [{**punch, "event_id": "6c1d", "employee_no": "T2", "method": "qr"}], source="qr-page", principal=KEY, now=NOW,
                      secret_key=settings.secret_key)
        assert [(v[2], v[5]) for v in page.verdicts] == [("duplicate", ids["qr-page:6c1d"])]
        # A terminal resending an old punch computes the rewritten key.
        terminal = {**punch, "event_id": "ZK-1:1001:2026-09-01 14:00:00", "external_system": "device_pin", "external_id": "1001"}
        zk = ingest(db, [terminal], source="zkteco", principal=None, now=NOW, secret_key=settings.secret_key)
        assert [(v[2], v[5]) for v in zk.verdicts] == [("duplicate", ids["zkteco:ZK-1:1001:2026-09-01 14:00:00"])]
        db.commit()
        stored = db.execute(select(CheckinEvent.origin, CheckinEvent.dedup_key).where(CheckinEvent.id == api.verdicts[0][5])).one()
        assert tuple(stored) == ("apikey:41", "apikey:41|1001")


def test_the_downgrade_gives_terminals_and_importers_their_old_keys_back(old_database):
    ids = _old_rows(old_database)
    upgrade(old_database)
    with old_database.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0009")
    with old_database.connect() as conn:
        keys = dict(conn.execute(text("SELECT id, dedup_key FROM checkin_events")).all())
    assert keys == {id_: key for key, id_ in ids.items() if ":" in key}


def test_the_migration_matches_the_models_of_its_tables(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    tables = ("checkin_events", "checkin_rejections_per_hour", "checkin_legacy_keys")
    mine = [change for change in diff if any(f"'{table}'" in repr(change) or f"{table}." in repr(change) for table in tables)]
    assert mine == [], mine
