"""Scheduled pulls against the simulated systems over real HTTP: every auth and paging style, the
incremental cursor, 429 / 5xx / timeouts, a system that dies mid-sync and a TrainQuant run that dies
mid-sync, each resumed with nothing lost or doubled."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee
from trainquant.config import Settings
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.integrations.pull import service
from trainquant.integrations.pull.models import PullSource, SyncRun
from trainquant.integrations.pull.schemas import PullIn
from trainquant.org.models import ExternalId
from trainquant.simulate.systems.process import start_process
from trainquant.simulate.systems.running import start_in_thread
from trainquant.simulate.systems.server import SystemConfig

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
ITEMS_PATH = {"page": "$.data", "offset": "$.items", "cursor": "$.results", "link": "$"}
SIZE_PARAM = {"page": "per_page", "offset": "limit", "cursor": "limit", "link": "per_page"}
CREDENTIALS = {"bearer": {"token": "tok-1"}, "basic": {"username": "tq-user", "password": "pw-1"}, "api_key": {"api_key": "key-1"},
               "oauth2": {"client_id": "tq-client", "client_secret": "s3cret"}}
SERVER_AUTH = {"bearer": {"token": "tok-1"}, "basic": {"username": "tq-user", "password": "pw-1"}, "api_key": {"api_key": "key-1"},
               "oauth2": {"client_id": "tq-client", "client_secret": "s3cret"}}


def week_items(n: int, *, start: int = 0) -> list[dict]:
    """A consultant's week in the CRM: leads and conversions; people C0..C4, C4 unknown to TrainQuant."""
    out = []
    for i in range(start, start + n):
        week = NOW - timedelta(weeks=45) + timedelta(weeks=i // 5)
        out.append({"id": f"W{i:05d}", "updated_at": (NOW - timedelta(days=300) + timedelta(hours=i)).isoformat(),
                    "consultant": {"id": f"C{i % 5}"}, "week_start": week.isoformat(), "week_end": (week + timedelta(days=7)).isoformat(),
                    "leads": 10 + i % 7, "won": i % 3})
    return out


def pull_body(url: str, auth: str, paging: str, **extra) -> dict:
    config = {
        "url": f"{url}/api/v1/weeks", "auth": {"style": auth, **({"token_url": f"{url}/oauth/token"} if auth == "oauth2" else {})},
        "paging": {"style": paging, "size": 40, "size_param": SIZE_PARAM[paging]},
        "mapping": {"items": ITEMS_PATH[paging], "record_id": "$.id", "who": "external_id", "who_path": "$.consultant.id",
                    "records": [{"metric": "crm.leads", "value": "$.leads"}, {"metric": "crm.conversions", "value": "$.won"}],
                    "period_start": "$.week_start", "period_end": "$.week_end", "cursor_field": "$.updated_at"},
        "timeout_s": extra.pop("timeout_s", 5.0),
    }
    return {"config": config, "credentials": CREDENTIALS[auth], **extra}


@pytest.fixture
def fast(settings) -> Settings:
    return settings.model_copy(update={"pull_backoff_s": 0.01, "pull_max_wait_s": 5.0, "pull_retries": 3, "pull_lease_s": 60,
                                   "pull_commit_records": 1})  # a commit per page, unless a test says otherwise


@pytest.fixture
def crm(db, client, clock):
    clock.at = NOW
    dep = make_department(db, code="MKT", kind="marketing")
    for i in range(4):
        person = make_employee(db, employee_no=f"M{i}", department=dep)
        db.add(ExternalId(employee_id=person.id, system="crm", external_id=f"C{i}"))
    key = make_api_key(db, scopes=["integrations:manage", "metrics:read"], name="it")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    assert client.post("/api/v1/integrations/connectors", json={"name": "crm-main", "system": "crm"}).status_code == 201
    return client


def configure(db, body: dict, settings: Settings) -> None:
    service.configure(db, "crm-main", PullIn.model_validate(body), settings=settings, now=NOW)
    db.commit()


def stored(db) -> int:
    return db.scalar(select(func.count()).select_from(MetricRecord).where(MetricRecord.source == "crm-main")) or 0


def last_run(db) -> SyncRun:
    db.expire_all()
    return db.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


@pytest.mark.parametrize(("auth", "paging"), [("bearer", "page"), ("basic", "offset"), ("api_key", "cursor"), ("oauth2", "link"),
                                              ("oauth2", "page"), ("bearer", "cursor"), ("basic", "link"), ("api_key", "offset")])
def test_every_auth_and_paging_style_pulls_everything_once(crm, db, session_factory, fast, clock, auth, paging):
    items = week_items(203)
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, auth=auth, pagination=paging, **SERVER_AUTH[auth])) as system:
        resp = crm.put("/api/v1/integrations/connectors/crm-main/pull", json=pull_body(system.url, auth, paging))
        assert resp.status_code == 200, resp.text
        assert resp.json()["credentials_set"] is True and "credentials" not in resp.json()
        run_id = service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        served = system.stats.served_per_item
    run = last_run(db)
    assert run.id == run_id and run.status == "succeeded" and run.error is None
    assert (run.items, run.pages) == (203, 6)
    # C4 is nobody's yet: its records are kept aside for mapping, never dropped.
    c4 = sum(1 for it in items if it["consultant"]["id"] == "C4")
    reasons = db.execute(select(MetricRecord.source_record_id, MetricRecord.reason).where(MetricRecord.status == "rejected")).all()
    assert (run.accepted, run.unmapped, run.duplicate, run.rejected) == (2 * (203 - c4), 2 * c4, 0, 0), reasons
    assert stored(db) == 406
    assert set(served.values()) == {1} and len(served) == 203
    src = db.scalar(select(PullSource))
    assert src.cursor == max(datetime.fromisoformat(it["updated_at"]) for it in items).isoformat()
    assert src.lease_until is None
    # The credentials are kept encrypted, never in the clear.
    assert all(v not in src.credentials_encrypted for v in CREDENTIALS[auth].values())


def test_the_next_run_asks_only_for_what_changed(crm, db, session_factory, fast, clock):
    first = week_items(50)
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=first, token="tok-1")) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
    more = first + week_items(30, start=50)
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=more, token="tok-1")) as system:
        src = db.scalar(select(PullSource))
        src.config = {**src.config, "url": f"{system.url}/api/v1/weeks"}  # the same system, moved: the cursor stays
        db.commit()
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        assert system.stats.served_per_item.keys() == {it["id"] for it in more[50:]}
    run = last_run(db)
    assert (run.status, run.items, run.duplicate) == ("succeeded", 30, 0)
    assert stored(db) == 160


def test_429_waits_as_asked_and_5xx_and_timeouts_back_off(crm, db, session_factory, fast, clock):
    items = week_items(200)
    plan = {"rate_limit_every": 3, "retry_after_s": 0, "error_every": 5}
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", **plan)) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        stats = system.stats
    run = last_run(db)
    assert run.status == "succeeded" and stored(db) == 400
    assert stats.rate_limited >= 1 and stats.unavailable >= 1
    assert run.retries == stats.rate_limited + stats.unavailable
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", slow_every=2, slow_s=1.6)) as system:
        configure(db, pull_body(system.url, "bearer", "page", timeout_s=1.0), fast)
        db.execute(PullSource.__table__.update().values(cursor=None))
        db.commit()
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        slowed = system.stats.slowed
    run = last_run(db)
    assert run.status == "succeeded" and slowed >= 1 and run.retries >= 1
    assert run.duplicate == 400 and stored(db) == 400  # pulled again from the start: every record a repeat


def test_a_system_that_keeps_failing_ends_the_run_resumable_and_it_resumes(crm, db, session_factory, fast, clock):
    items = week_items(200)
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", error_every=1)) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        assert system.stats.unavailable == fast.pull_retries + 1
    run = last_run(db)
    assert (run.status, run.error_code, run.pages, run.retries) == ("failed", "gave-up", 0, fast.pull_retries)
    listed = crm.get("/api/v1/integrations/connectors/crm-main/runs").json()
    assert listed["total"] == 1 and listed["items"][0]["resumable"] is True and "503" in listed["items"][0]["error"]


def test_a_system_that_dies_mid_sync_is_resumed_from_its_position(crm, db, session_factory, fast, clock, tmp_path):
    items = week_items(200)
    crashing = SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", pagination="cursor", crash_after_pages=3)
    with start_process(crashing, tmp_path) as first:
        configure(db, pull_body(first.url, "bearer", "cursor"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        assert first.wait(10) == 17
        port = int(first.url.rsplit(":", 1)[1])
    run = last_run(db)
    assert (run.status, run.pages, run.items) == ("failed", 3, 120) and run.position and run.position.get("cursor")
    assert stored(db) == 240
    steady = SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", pagination="cursor")
    with start_process(steady, tmp_path, port=port):
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
    run = last_run(db)
    assert (run.status, run.attempts, run.pages, run.items, run.duplicate) == ("succeeded", 2, 5, 200, 0)
    assert stored(db) == 400


def test_a_run_whose_process_died_is_taken_over_after_its_lease(crm, db, session_factory, fast, clock):
    items = week_items(200)

    class Died(Exception):
        pass

    def die_after_two(run) -> None:
        if run.pages == 2:
            raise Died  # as a kill -9 after the second page's commit: the lease is still held

    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1")) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        with pytest.raises(Died):
            service.sync(session_factory, "crm-main", settings=fast, clock=clock.now, on_page=die_after_two)
        with pytest.raises(service.SyncRunning):
            service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        clock.at = NOW + timedelta(seconds=fast.pull_lease_s + 1)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        served = system.stats.served_per_item
    run = last_run(db)
    assert (run.status, run.attempts, run.items, run.duplicate) == ("succeeded", 2, 200, 0)
    # Nothing lost or doubled; the third page, fetched ahead while the second was stored, was asked for again.
    assert stored(db) == 400
    assert sorted(i for i, n in served.items() if n == 2) == [it["id"] for it in items[80:120]]
    assert set(served.values()) == {1, 2}


def test_two_runs_of_one_source_never_overlap(crm, db, session_factory, fast, clock):
    items = week_items(120)
    inside, release = threading.Event(), threading.Event()
    answers: list[str] = []

    def hold(run) -> None:
        if run.pages == 1:
            inside.set()
            release.wait(10)

    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1")) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        first = threading.Thread(target=lambda: answers.append(str(service.sync(session_factory, "crm-main", settings=fast, clock=clock.now,
                                                                                  on_page=hold))))
        first.start()
        assert inside.wait(10)
        with pytest.raises(service.SyncRunning):
            service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        release.set()
        first.join(10)
    assert len(answers) == 1 and stored(db) == 240


def test_bad_mappings_and_items_that_do_not_fit(crm, db, session_factory, fast, clock):
    body = pull_body("http://127.0.0.1:9", "bearer", "page")
    body["config"]["mapping"]["records"] = [{"metric": "crm.conversion_rate", "value": "$.x"}]
    resp = crm.put("/api/v1/integrations/connectors/crm-main/pull", json=body)
    assert resp.status_code == 422 and "derived" in resp.text
    body = pull_body("http://127.0.0.1:9", "bearer", "page")
    body["config"]["mapping"]["who_path"] = "consultant.id"
    assert crm.put("/api/v1/integrations/connectors/crm-main/pull", json=body).status_code == 422
    body = pull_body("http://127.0.0.1:9", "oauth2", "page")
    body["credentials"] = {"client_id": "x"}
    assert "client_secret" in crm.put("/api/v1/integrations/connectors/crm-main/pull", json=body).text
    assert crm.get("/api/v1/integrations/connectors/nobody/pull").status_code == 404
    # A mapping that points where the items are not: the run stops and says so; an item without a
    # field gives a rejected record with its reason, and the others count.
    items = week_items(10)
    del items[3]["leads"]
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1")) as system:
        wrong = pull_body(system.url, "bearer", "page")
        wrong["config"]["mapping"]["items"] = "$.rows"
        configure(db, wrong, fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        assert (last_run(db).status, last_run(db).error_code) == ("failed", "items-not-found")
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
    run = last_run(db)
    assert (run.status, run.items, run.rejected, run.accepted + run.unmapped) == ("succeeded", 10, 1, 19)


def test_refused_credentials_end_the_run_at_once(crm, db, session_factory, fast, clock):
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=week_items(5), token="another")) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
        assert system.stats.data_requests == 0  # refused before counting
    run = last_run(db)
    assert (run.status, run.error_code, run.retries) == ("failed", "unauthorized", 0)


def test_an_oauth_token_revoked_early_is_fetched_again(crm, db, session_factory, fast, clock):
    items = week_items(120)
    config = SystemConfig(name="crm", collection="weeks", items=items, auth="oauth2", client_id="tq-client", client_secret="s3cret")

    with start_in_thread(config) as system:
        def revoke(run) -> None:
            if run.pages == 1:
                system.expire_tokens()

        configure(db, pull_body(system.url, "oauth2", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now, on_page=revoke)
        assert system.stats.tokens_issued == 2
    assert last_run(db).status == "succeeded" and stored(db) == 240


def test_the_sync_route_runs_it_on_the_queue_and_the_log_reads_back(crm, db, clock):
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=week_items(45), token="tok-1")) as system:
        assert crm.put("/api/v1/integrations/connectors/crm-main/pull", json=pull_body(system.url, "bearer", "page")).status_code == 200
        resp = crm.post("/api/v1/integrations/connectors/crm-main/sync")
        assert resp.status_code == 202
    runs = crm.get("/api/v1/integrations/connectors/crm-main/runs").json()
    assert runs["items"][0]["status"] == "succeeded" and runs["items"][0]["items"] == 45
    assert crm.get("/api/v1/integrations/connectors/crm-main/pull").json()["cursor"] is not None


def test_the_connector_page_shows_the_pull_and_its_runs(crm, db, session_factory, fast, clock):
    from tests.conftest import login, make_user

    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=week_items(45), token="tok-1")) as system:
        configure(db, pull_body(system.url, "bearer", "page"), fast)
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
    make_user(db, username="it1", role="admin")
    db.commit()
    del crm.headers["Authorization"]
    login(crm, "it1")
    zh = crm.get("/integrations/connectors/crm-main")
    assert zh.status_code == 200
    for text in ("定时拉取", "页码", "crm.leads ← $.leads", "成功", "同步记录", "该系统未订阅任何事件。"):
        assert text in zh.text, text
    en = crm.get("/integrations/connectors/crm-main?lang=en")
    assert "Scheduled pull" in en.text and "Succeeded" in en.text and "定时拉取" not in en.text
    assert 'href="/integrations/connectors/crm-main"' in crm.get("/integrations/connectors").text


def test_the_pull_is_configured_on_the_connector_page_and_keeps_its_credentials(crm, db, session_factory, fast, clock):
    import json

    from tests.conftest import login, make_user

    make_user(db, username="it2", role="admin")
    db.commit()
    del crm.headers["Authorization"]
    token = login(crm, "it2")
    page = crm.get("/integrations/connectors/crm-main?lang=en")
    assert 'data-testid="pull-form"' in page.text and "Configure the pull" in page.text
    body = pull_body("http://127.0.0.1:9", "bearer", "page")
    form = {"csrf_token": token, "url": body["config"]["url"], "auth_style": "bearer", "token": "tok-1", "paging_style": "page",
            "size": "40", "size_param": "per_page", "schedule_minutes": "60", "mapping": json.dumps(body["config"]["mapping"])}
    # Bad input: clear words where it is wrong, nothing stored.
    bad = crm.post("/integrations/connectors/crm-main/pull", data={**form, "mapping": "{not json"})
    assert bad.status_code == 422 and "The mapping is not JSON" in bad.text
    wrong = crm.post("/integrations/connectors/crm-main/pull", data={**form, "auth_style": "oauth2"})
    assert wrong.status_code == 422 and "OAuth2 needs the token URL." in wrong.text
    derived = {**body["config"]["mapping"], "records": [{"metric": "crm.conversion_rate", "value": "$.rate"}]}
    refused = crm.post("/integrations/connectors/crm-main/pull", data={**form, "mapping": json.dumps(derived)})
    assert refused.status_code == 422 and "crm.conversion_rate is derived (crm.conversions / crm.leads): map those two instead." in refused.text
    crm.get("/integrations/connectors/crm-main?lang=zh_CN")  # the reader's language, remembered
    refused = crm.post("/integrations/connectors/crm-main/pull", data={**form, "mapping": json.dumps(derived)})
    assert "crm.conversion_rate 是派生指标（crm.conversions / crm.leads）" in refused.text and "is derived" not in refused.text
    assert db.scalar(select(func.count()).select_from(PullSource)) == 0
    saved = crm.post("/integrations/connectors/crm-main/pull", data=form, follow_redirects=False)
    assert saved.status_code == 303
    # Saved again with the credentials left blank: the stored token stays and the pull works.
    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=week_items(45), token="tok-1")) as system:
        again = {**form, "token": "", "url": f"{system.url}/api/v1/weeks", "size": "20"}
        assert crm.post("/integrations/connectors/crm-main/pull", data=again, follow_redirects=False).status_code == 303
        db.expire_all()
        src = db.scalar(select(PullSource))
        assert src.config["paging"]["size"] == 20 and src.schedule_minutes == 60 and "tok-1" not in src.credentials_encrypted
        service.sync(session_factory, "crm-main", settings=fast, clock=clock.now)
    assert last_run(db).status == "succeeded" and stored(db) == 90  # 45 items x 2 metrics (C4's kept for mapping)
    shown = crm.get("/integrations/connectors/crm-main")
    assert "tok-1" not in shown.text and '"who_path": "$.consultant.id"' in shown.text.replace("&#34;", '"')
