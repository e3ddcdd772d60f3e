"""A pull whose process is killed with SIGKILL mid-sync, resumed: nothing lost, nothing doubled.

``trainquant connectors sync`` runs as its own process against a SQLite file; the simulated CRM (in
this process) holds the sync's fourth page request, by which time the log must show committed pages,
and the process is killed there. The next run, once the dead run's lease has run out, resumes from
the position it had committed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.integration.integrations.test_pull import pull_body, week_items
from trainquant.config import Settings
from trainquant.db import make_sessionmaker, unit_of_work
from trainquant.integrations.connectors.service import create_connector
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.integrations.pull import service
from trainquant.integrations.pull.models import SyncRun
from trainquant.integrations.pull.schemas import PullIn
from trainquant.org.models import Department, Employee, ExternalId
from trainquant.simulate.systems.running import start_in_thread
from trainquant.simulate.systems.server import SystemConfig

CLI = str(Path(sys.executable).with_name("trainquant"))
ITEMS = 200  # five pages of 40, two records each


def test_a_sync_killed_mid_run_resumes_exactly(cli_engine, tmp_path):
    url = str(cli_engine.url)
    settings = Settings(env="test", database_url=url, encryption_key=Fernet.generate_key().decode(), secret_key="k" * 40,
                        pull_commit_records=1, pull_backoff_s=0.01)
    factory = make_sessionmaker(cli_engine)
    now = datetime.now(UTC)
    items = week_items(ITEMS)
    with unit_of_work(factory) as db:
        dep = Department(code="MKT", name="市场部", kind="marketing")
        db.add(dep)
        db.flush()
        for i in range(5):  # C4 too: every record is accepted
            person = Employee(employee_no=f"M{i}", name=f"顾问{i}", department_id=dep.id, status="active", created_at=now, updated_at=now)
            db.add(person)
            db.flush()
            db.add(ExternalId(employee_id=person.id, system="crm", external_id=f"C{i}"))
        create_connector(db, name="crm-main", system="crm", title=None, settings=settings, now=now)

    with start_in_thread(SystemConfig(name="crm", collection="weeks", items=items, token="tok-1", hold_request=4)) as system:
        with unit_of_work(factory) as db:
            service.configure(db, "crm-main", PullIn.model_validate(pull_body(system.url, "bearer", "page")), settings=settings, now=now)
        env = {**os.environ, "TQ_ENV": "test", "TQ_DATABASE_URL": url, "TQ_ENCRYPTION_KEY": settings.encryption_key,
               "TQ_SECRET_KEY": settings.secret_key, "TQ_PULL_COMMIT_RECORDS": "1", "TQ_INSTANCE_DIR": str(tmp_path)}
        proc = subprocess.Popen([CLI, "connectors", "sync", "crm-main"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            assert system.held(60), proc.stderr.read().decode() if proc.poll() is not None and proc.stderr else "no fourth request"
            # The fourth page is asked for once the third has come in, so the first two are committed
            # (the third may be committing now).
            with factory() as db:
                run = db.scalars(select(SyncRun)).one()
                assert (run.status, run.attempts) == ("running", 1) and run.pages >= 2
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
            system.release()

        with factory() as db:
            died = db.scalars(select(SyncRun)).one()
            assert died.status == "running" and died.position is not None and died.pages in (2, 3)
        later = datetime.now(UTC) + timedelta(seconds=settings.pull_lease_s + 1)  # the dead run's lease has run out
        service.sync(factory, "crm-main", settings=settings, clock=lambda: later)

    with factory() as db:
        run = db.scalars(select(SyncRun)).one()
        assert (run.status, run.attempts, run.pages, run.items, run.duplicate, run.rejected) == ("succeeded", 2, 5, ITEMS, 0, 0)
        rows = db.execute(select(func.count(), func.count(func.distinct(MetricRecord.source_record_id)))
                          .where(MetricRecord.status == "accepted")).one()
        assert tuple(rows) == (2 * ITEMS, 2 * ITEMS)
