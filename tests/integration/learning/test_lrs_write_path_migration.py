"""Migration 0022: statement links in one B-tree keyed for their lookup, partial indexes on the mostly
empty columns (and the filters read through them), deliveries compressed, and a downgrade that gives
0021's tables back with every statement, link and body as it was."""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from datetime import UTC, datetime

import orjson
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from tests.integration.learning.conftest import basic, new_id, statement
from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.learning import video
from trainquant.learning.models import XapiDelivery
from trainquant.learning.packed import Packed
from trainquant.learning.xapi import statement_key
from trainquant.migrate import alembic_config, upgrade
from trainquant.models import metadata

TABLES = ("xapi_statements", "xapi_statement_links", "xapi_deliveries")


def test_the_migration_matches_the_lrs_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    mine = [change for change in diff if any(t in repr(change) for t in TABLES)]
    assert mine == [], mine


def test_links_are_one_btree_keyed_by_kind_value_and_statement(engine):
    assert inspect(engine).get_pk_constraint("xapi_statement_links")["constrained_columns"] == ["kind", "value", "statement_pk"]
    assert inspect(engine).get_indexes("xapi_statement_links") == []
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'xapi_statement_links'")).scalar_one()
        assert sql.rstrip().endswith("WITHOUT ROWID"), sql


def test_the_filters_read_through_the_partial_indexes(engine):
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner chooses by statistics; the SQLite plan is the one fixed here
    queries = {
        "ix_xapi_statements_registration": "SELECT id FROM xapi_statements WHERE registration = 'r' ORDER BY id DESC",
        "ix_xapi_statements_employee": "SELECT id FROM xapi_statements WHERE employee_id IN (1, 2) AND activity_id = 'a'",
        "ix_xapi_statements_object_agent": "SELECT id FROM xapi_statements WHERE object_agent_key = 'k' ORDER BY id DESC",
        "ix_xapi_statements_target": "SELECT target_id FROM xapi_statements WHERE voiding AND target_id IN ('a', 'b')",
    }
    with engine.connect() as conn:
        for name, query in queries.items():
            where = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}).scalar_one()
            assert "IS NOT NULL" in where, where
            if name == "ix_xapi_statements_employee":
                continue  # the planner may prefer the activity's index; either is an index
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            assert name in plan, plan


def test_a_delivery_is_stored_compressed_and_read_back_byte_for_byte(client, key, db):
    batch = [statement(sid=new_id(), activity=f"http://example.com/act/{i}") for i in range(200)]
    body = orjson.dumps(batch)
    r = client.post("/xapi/statements", content=body, headers={**basic(key), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    delivery = db.scalars(select(XapiDelivery)).one()
    assert delivery.compressed and len(delivery.body) < len(body) / 4
    assert delivery.raw == body and zlib.decompress(delivery.body) == body


DOC = {**statement(sid="0f6d7a43-5e8b-4c2a-9d51-0c2b7e3e8a11"), "stored": "2026-12-01T00:00:00.000000Z", "version": "1.0.0",
       "authority": {"objectType": "Agent", "account": {"homePage": "http://h/", "name": "apikey:1"}}}


# 0021's fingerprint, computed here as its code did: SHA-256 of the canonical form of the statement as sent.
FINGERPRINT = hashlib.sha256(statement_key(statement(sid=DOC["id"]))).hexdigest()


def _post_at_0021(engine) -> tuple[bytes, list[tuple]]:
    """A delivery, a statement and its links written by 0021's schema, as its code wrote them."""
    body = orjson.dumps(statement(sid=DOC["id"]))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO xapi_deliveries (id, received_at, stored_by, body) VALUES (1, '2026-12-01 00:00:00.000000', 'apikey:1', :b)"),
                     {"b": body})
        conn.execute(text("INSERT INTO xapi_statements (id, statement_id, stored, delivery_id, document, fingerprint, verb_id, voiding, voided, stored_by)"
                          " VALUES (7, :sid, '2026-12-01 00:00:00.000000', 1, :doc, :f, 'http://v', false, false, 'apikey:1')"),
                     {"sid": DOC["id"], "doc": orjson.dumps(DOC).decode(), "f": FINGERPRINT})
        links = [(7, "activity", "http://a"), (7, "agent", "mbox:a@b")]
        for pk, kind, value in links:
            conn.execute(text("INSERT INTO xapi_statement_links (statement_pk, kind, value) VALUES (:p, :k, :v)"), {"p": pk, "k": kind, "v": value})
    return body, links


def test_the_upgrade_writes_the_blocks_of_the_statements_already_stored(tmp_path):
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0021")
    _post_at_0021(engine)  # no employee, no session: no record
    played = {**statement(sid=new_id(), verb=video.PLAYED, activity="http://example.com/video/1"), "timestamp": "2026-12-01T08:00:00Z",
              "result": {"extensions": {video.TIME: 12.5}}, "context": {"extensions": {video.SESSION_ID: "tab-1"}}}
    raw = sqlite3.connect(f"{tmp_path}/old.db")  # foreign keys off: the employee row itself is not what this test is about
    raw.execute("INSERT INTO xapi_statements (id, statement_id, stored, delivery_id, document, fingerprint, verb_id, activity_id, voiding, voided,"
                " stored_by, employee_id) VALUES (8, ?, '2026-12-01 09:00:00.000000', 1, ?, 'f', ?, ?, false, false, 'apikey:1', 42)",
                (played["id"], orjson.dumps(played).decode(), video.PLAYED, "http://example.com/video/1"))
    raw.commit()
    raw.close()
    upgrade(engine)
    with engine.connect() as conn:
        (activities, sessions, data, rows), = conn.execute(text("SELECT activities, sessions, data, rows FROM xapi_video_blocks")).all()
    block = Packed.from_bytes(orjson.loads(activities), orjson.loads(sessions), data)
    assert rows == 1 and block.activities == ["http://example.com/video/1"] and block.sessions == ["tab-1"]
    record = block.records[0]
    assert (record["pk"], record["learner"], record["time"]) == (8, 42, 12.5)
    # A client key's statement: its wall time is its timestamp, not when it was stored.
    assert record["wall"] == datetime(2026, 12, 1, 8, tzinfo=UTC).timestamp() != record["stored"]
    engine.dispose()


def _links(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text("SELECT statement_pk, kind, value FROM xapi_statement_links")))


def test_upgrade_and_downgrade_keep_every_link_and_body(tmp_path):
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "0021")
    body, links = _post_at_0021(engine)
    upgrade(engine)
    assert _links(engine) == links
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body, compressed FROM xapi_deliveries")).one() == (body, False)  # old rows read as they are
        conn.execute(text("INSERT INTO xapi_deliveries (id, received_at, stored_by, body, compressed) VALUES (2, '2026-12-02 00:00:00.000000', 'k', :b, true)"),
                     {"b": zlib.compress(b"[1, 2]", 1)})
        conn.commit()
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "0021")
    assert _links(engine) == links
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, body FROM xapi_deliveries")).all()) == {1: body, 2: b"[1, 2]"}
    assert {i["name"] for i in inspect(engine).get_indexes("xapi_statement_links")} == {"ix_xapi_statement_links_value"}
    with engine.connect() as conn:  # 0021's repeated-id check reads the fingerprint again
        assert conn.execute(text("SELECT fingerprint FROM xapi_statements")).scalar_one() == FINGERPRINT
    upgrade(engine)
    assert _links(engine) == links
    engine.dispose()
