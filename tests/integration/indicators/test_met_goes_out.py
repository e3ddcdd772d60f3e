"""``indicator.met`` goes out in the evaluation run's transaction, once per person, indicator version and period."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tests.conftest import NOW
from tests.integration.indicators.conftest import PERIOD_END
from trainquant.indicators import evaluation
from trainquant.integrations.connectors.service import create_connector
from trainquant.integrations.outbox import service
from trainquant.integrations.outbox.models import Delivery, OutboxEvent


def _run(db):
    return evaluation.run_evaluation(db, period_end=PERIOD_END, actor="test", now=NOW, tz=ZoneInfo("Asia/Shanghai"))


def test_met_results_are_published_once(db, school, settings):
    create_connector(db, name="oa-main", system="oa", title=None, settings=settings, now=NOW)
    service.subscribe(db, "oa-main", url="http://127.0.0.1:9/hook", events=["indicator.met"], settings=settings, now=NOW)
    summary = _run(db)
    assert summary.met > 0
    events = list(db.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "indicator.met")))
    assert len(events) == summary.met
    assert db.scalar(select(func.count()).select_from(Delivery)) == summary.met
    sample = events[0].payload
    assert set(sample) == {"employee_no", "indicator_code", "name", "name_en", "value", "threshold", "period_end"}
    assert sample["period_end"] == PERIOD_END.isoformat()
    again = _run(db)  # the same period evaluated again: the same results, nothing new goes out
    assert again.met == summary.met
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == summary.met


def test_no_subscription_publishes_nothing(db, school):
    assert _run(db).met > 0
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == 0
