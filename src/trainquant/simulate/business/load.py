"""The simulated school's three business systems, run and connected both ways: each is a real HTTP
server in a process of its own with a year of data (``simulate/business/generate.py``), its own auth style,
paging and failure modes; TrainQuant pulls from it through a connector and sends it training data
through a subscription (signed deliveries from the outbox).

The subscriptions' secrets are shown once, so the demo keeps what the systems need to verify them in
the instance folder (``demo-systems.json``, readable by the owner only), beside its other keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.errors import NotFound
from trainquant.integrations.connectors.models import Connector
from trainquant.integrations.connectors.service import create_connector
from trainquant.integrations.outbox import service as outbox
from trainquant.integrations.outbox.models import EVENT_TYPES, Subscription
from trainquant.integrations.pull import service as pull
from trainquant.integrations.pull.models import SyncRun
from trainquant.integrations.pull.schemas import PullIn
from trainquant.simulate.business.generate import BusinessYear
from trainquant.simulate.systems.process import SystemProcess, start_process
from trainquant.simulate.systems.server import WEBHOOK_PATH, SystemConfig


@dataclass(frozen=True)
class DemoSystem:
    connector: str
    system: str
    title: str
    collection: str
    auth: str
    paging: str
    credentials: dict[str, str]
    mapping: dict[str, Any]
    size_param: str
    failures: dict[str, Any]  # the failure plan: SystemConfig's fields


SYSTEMS = (
    DemoSystem("teaching-platform", "teaching_platform", "教学平台（模拟）", "weekly-stats", "oauth2", "cursor",
               {"client_id": "trainquant", "client_secret": "demo-teaching-client-secret"},
               {"items": "$.results", "who_path": "$.teacher.id", "period_start": "$.week.start", "period_end": "$.week.end",
                "records": [{"metric": "teaching.rating.overall", "value": "$.ratings.overall"},
                            {"metric": "teaching.rating.interaction", "value": "$.ratings.interaction"},
                            {"metric": "teaching.students", "value": "$.renewals.due"},
                            {"metric": "teaching.students.retained", "value": "$.renewals.renewed"}]},
               "limit", {"rate_limit_every": 7, "retry_after_s": 1}),
    DemoSystem("crm", "crm", "CRM（模拟）", "consultant-weeks", "api_key", "link", {"api_key": "demo-crm-api-key"},
               {"items": "$", "who_path": "$.owner", "period_start": "$.period[0]", "period_end": "$.period[1]",
                "records": [{"metric": "crm.leads", "value": "$.leads"}, {"metric": "crm.conversions", "value": "$.deals"},
                            {"metric": "crm.order_amount", "value": "$.amount"}]},
               "per_page", {"error_every": 4}),
    DemoSystem("oa", "oa", "OA 系统（模拟）", "staff-weeks", "basic", "offset", {"username": "trainquant", "password": "demo-oa-password"},
               {"items": "$.items", "who_path": "$.staff_id", "period_start": "$.from", "period_end": "$.to",
                "records": [{"metric": "oa.operations", "value": "$.stats[0].value"}, {"metric": "oa.process_minutes", "value": "$.stats[1].value"},
                            {"metric": "oa.errors", "value": "$.stats[2].value"}, {"metric": "oa.operating_cost", "value": "$.stats[3].value"}]},
               "limit", {}),
)
PAGE_SIZE = 500


def _items(business: BusinessYear, system: str) -> list[dict]:
    return {"teaching_platform": business.teaching, "crm": business.crm, "oa": business.oa}[system]


def _server_auth(s: DemoSystem) -> dict[str, Any]:
    c = s.credentials
    return {"oauth2": {"client_id": c.get("client_id", ""), "client_secret": c.get("client_secret", "")},
            "api_key": {"api_key": c.get("api_key", "")}, "basic": {"username": c.get("username", ""), "password": c.get("password", "")},
            "bearer": {"token": c.get("token", "")}}[s.auth]


def secrets_file(settings: Settings) -> Path:
    return settings.instance_folder() / "demo-systems.json"


def _secrets(db: Session, settings: Settings, now: datetime) -> dict[str, str]:
    """Each system's subscription secret: kept from an earlier start, or made now."""
    path = secrets_file(settings)
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for s in SYSTEMS:
        connector = db.scalar(select(Connector).where(Connector.name == s.connector))
        if connector is None:
            connector, _ = create_connector(db, name=s.connector, system=s.system, title=s.title, settings=settings, now=now)
        has = db.scalar(select(Subscription.id).where(Subscription.connector_id == connector.id))
        if has is None or s.connector not in kept:
            if has is not None:  # its secret was lost with the file: this subscription gives way to a new one
                db.execute(Subscription.__table__.update().where(Subscription.connector_id == connector.id).values(active=False))
            _, kept[s.connector] = outbox.subscribe(db, s.connector, url="http://127.0.0.1:1/", events=list(EVENT_TYPES), settings=settings, now=now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept))
    os.chmod(path, 0o600)
    return kept


def start(business: BusinessYear, factory: sessionmaker[Session], settings: Settings, *, now: datetime, workdir: Path,
          base_port: int) -> list[SystemProcess]:
    """The three systems in processes of their own on ``base_port`` .. +2, connected: pulls configured
    (hourly), subscriptions pointed at their webhook paths."""
    with unit_of_work(factory) as db:
        secrets = _secrets(db, settings, now)
    running: list[SystemProcess] = []
    try:
        for i, s in enumerate(SYSTEMS):
            config = SystemConfig(name=s.connector, collection=s.collection, items=_items(business, s.system), auth=s.auth, pagination=s.paging,
                                  page_size=PAGE_SIZE, max_page_size=PAGE_SIZE, webhook_secret=secrets[s.connector], **_server_auth(s),
                                  **s.failures)
            running.append(start_process(config, workdir, port=base_port + i))
        with unit_of_work(factory) as db:
            for s, process in zip(SYSTEMS, running, strict=True):
                auth: dict[str, Any] = {"style": s.auth}
                if s.auth == "oauth2":
                    auth["token_url"] = f"{process.url}/oauth/token"
                url = f"{process.url}/api/v1/{s.collection}"
                body: dict[str, Any] = {"config": {"url": url, "auth": auth,
                                   "paging": {"style": s.paging, "size": PAGE_SIZE, "size_param": s.size_param},
                                   "mapping": {"record_id": "$.id", "who": "external_id", "cursor_field": "$.updated_at", **s.mapping}},
                        "credentials": s.credentials, "schedule_minutes": 60}
                source = db.scalar(select(Connector).where(Connector.name == s.connector))
                assert source is not None
                current = db.scalars(select(Subscription).where(Subscription.connector_id == source.id, Subscription.active.is_(True))).first()
                if current is not None:
                    current.url = f"{process.url}{WEBHOOK_PATH}"
                try:
                    existing = pull.get_source(db, s.connector)
                except NotFound:
                    existing = None
                if existing is None or existing.config.get("url") != url:
                    pull.configure(db, s.connector, PullIn.model_validate(body), settings=settings, now=now)
    except BaseException:
        for process in running:
            process.stop()
        raise
    return running


def pull_all(factory: sessionmaker[Session], settings: Settings, *, clock: Callable[[], datetime],
             on_page: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
    """Every system's pull, now (a resumed or incremental run takes only what is new)."""
    out = {}
    for s in SYSTEMS:
        def page(run: SyncRun, name: str = s.connector) -> None:
            if on_page is not None:
                on_page(name, run)

        run_id = pull.sync(factory, s.connector, settings=settings, clock=clock, on_page=page)
        with unit_of_work(factory) as db:
            run = db.get(SyncRun, run_id)
            assert run is not None
            out[s.connector] = pull.run_read(run, s.connector)
    return out
