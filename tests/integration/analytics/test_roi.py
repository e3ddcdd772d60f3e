"""A program's ROI from stored costs, attendance and order records: fully loaded, conservative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import select

from tests.conftest import make_api_key, make_department, make_employee
from tests.integration.training.conftest import make_program, make_session
from trainquant.analytics.impact.service import design_for
from trainquant.analytics.roi.rules import DEFAULT_FACTORS
from trainquant.analytics.roi.service import factors_from, program_roi
from trainquant.attendance.models import AttendanceRecord
from trainquant.errors import Invalid
from trainquant.integrations.metrics.service import ingest_records
from trainquant.org.models import Employee
from trainquant.training.models import CostItem, Enrolment

WEEK0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # Monday 2026-03-02 00:00 in Beijing
NOW = WEEK0 + timedelta(weeks=30)
COHORTS = (8, 11, 14)
LIFT = 600.0  # CNY of orders a week per trained consultant


@pytest.fixture
def sales(db):
    rng = np.random.default_rng(11)
    mkt = make_department(db, code="MKT", kind="marketing")
    people = [make_employee(db, employee_no=f"S{i:02d}", department=mkt, hourly_cost=None if i == 0 else Decimal("60.00")) for i in range(30)]
    program = make_program(db, code="CLOSE", title="成交技巧", aims=["crm.conversion_rate", "crm.order_amount"])
    sessions = [make_session(db, program=program, code=f"CLOSE-{k + 1}", sequence=k + 1, starts_at=WEEK0 + timedelta(weeks=w, days=2, hours=1))
                for k, w in enumerate(COHORTS)]
    week_of: dict[int, int | None] = {}
    for i, p in enumerate(people):
        k = i % 3 if i < 21 else None
        week_of[p.id] = None if k is None else COHORTS[k]
        if k is not None:
            db.add(Enrolment(session_id=sessions[k].id, employee_id=p.id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
            db.add(AttendanceRecord(session_id=sessions[k].id, employee_id=p.id, attended_seconds=6600, scheduled_seconds=7200, participation=6600 / 7200,
                                    late_seconds=0, early_leave_seconds=600, away=[], flags=[], events=2, computed_at=NOW))
    for category, amount, share in (("trainer_fee", "6000.00", "1"), ("venue", "900.00", "1"), ("design", "8000.00", "0.25")):
        db.add(CostItem(program_id=program.id, category=category, amount=Decimal(amount), share=Decimal(share), created_by="t", created_at=NOW))
    db.flush()
    records = []
    after = Decimal(0)
    for p in people:
        level = 3000 + rng.normal(0, 300)
        for w in range(26):
            since = None if week_of[p.id] is None else w - week_of[p.id]  # type: ignore[operator]
            value = level + (800 if 12 <= w <= 22 else 0) + (LIFT if since is not None and since > 0 else 0) + rng.normal(0, 150)
            amount = Decimal(f"{max(0.0, value):.2f}")
            if since is not None and 0 < since <= 4:
                after += amount
            start = WEEK0 + timedelta(weeks=w)
            records.append({"record_id": f"{p.employee_no}-{w}", "metric": "crm.order_amount", "value": str(amount), "employee_no": p.employee_no,
                            "period_start": start.isoformat(), "period_end": (start + timedelta(days=7)).isoformat()})
    assert ingest_records(db, "crm", records, now=NOW).accepted == len(records)
    db.commit()
    return program, after


def test_roi_is_fully_loaded_and_conservative(db, sales):
    _, orders_after = sales
    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    rep = program_roi(db, "CLOSE", design=design, factors=dict(DEFAULT_FACTORS), now=NOW)
    r = rep.roi
    # 6,000 + 900 + 8,000 x 0.25; and 20 of 21 participants' 110 minutes at 60 CNY/h (S00 has no hourly cost).
    assert dict(r.costs.by_category) == {"design": Decimal("2000.00"), "trainer_fee": Decimal("6000.00"), "venue": Decimal("900.00")}
    assert r.costs.participants_time == Decimal("2200.00") and r.costs.participant_minutes == 21 * 110
    assert r.costs.total == Decimal("11100.00") and "participants-without-hourly-cost" in r.gaps
    [orders] = [b for b in r.benefits if b.metric == "crm.order_amount"]
    e = rep.effects["crm.order_amount"].estimate
    assert e is not None and e.low <= LIFT <= e.high
    weeks = Decimal(4)  # by default only the 28 days measured after the training count
    assert rep.benefit_weeks == weeks
    assert orders.isolated is not None and orders.conservative is not None and orders.conservative < orders.isolated
    margin = DEFAULT_FACTORS["contribution_margin"].value
    assert abs(orders.isolated - Decimal(repr(e.effect)) * 21 * weeks * margin) < Decimal("1.00")
    # The naive figure is the source's: the trained people's orders in the 4 weeks after over the cost.
    assert r.naive.benefits == orders_after.quantize(Decimal("0.01"))
    assert r.naive.bcr == (orders_after / Decimal("11100.00")).quantize(Decimal("0.01"))
    assert r.isolated.bcr is not None and r.conservative.bcr is not None and r.conservative.bcr < r.isolated.bcr
    assert set(rep.effects) >= {"crm.order_amount", "crm.conversion_rate"}
    # A school whose follow-up shows the gain lasting counts the first year (Phillips' most): about
    # 600 x 21 x 52 x 0.25 = 164,000 CNY on 11,100.
    year = program_roi(db, "CLOSE", design=design, factors=factors_from({"benefit_weeks": {"value": 52, "source": "follow-up 2026"}}), now=NOW)
    [annual] = [b for b in year.roi.benefits if b.metric == "crm.order_amount"]
    assert year.benefit_weeks == Decimal(52) and annual.isolated is not None
    assert abs(annual.isolated - Decimal(repr(e.effect)) * 21 * 52 * margin) < Decimal("1.00")
    assert year.band == "excellent" and rep.roi.isolated.bcr is not None and year.roi.isolated.bcr > rep.roi.isolated.bcr * 12


def test_a_cohorts_roi_counts_its_own_people_and_its_share_of_the_costs(db, sales):
    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    first = (WEEK0 + timedelta(weeks=8), WEEK0 + timedelta(weeks=10))  # the first session only
    rep = program_roi(db, "CLOSE", design=design, factors=dict(DEFAULT_FACTORS), now=NOW, cohort=first)
    e = rep.effects["crm.order_amount"]
    assert e.sample.trained == 7  # the first of three sessions trained every third consultant
    # The three cost items have no session of their own: a third each; 7 participants' 110 minutes at 60 CNY/h (S00 is one).
    assert dict(rep.roi.costs.by_category) == {"design": Decimal("666.67"), "trainer_fee": Decimal("2000.00"), "venue": Decimal("300.00")}
    assert rep.roi.costs.participant_minutes == 7 * 110 and rep.roi.costs.participants_time == Decimal("660.00")
    # The other cohorts are neither trained here nor compared with: 9 never-trained colleagues remain.
    assert {r.unit for r in e.sample.rows if r.rel is None} == {p for p, in db.execute(
        select(Employee.id).where(Employee.employee_no.in_([f"S{i:02d}" for i in range(21, 30)])))}


def test_benefit_weeks_stay_within_the_first_year():
    with pytest.raises(Invalid):
        factors_from({"benefit_weeks": {"value": 60}})
    with pytest.raises(Invalid):
        factors_from({"benefit_weeks": {"value": -1}})


def test_factors_are_replaced_by_the_schools_and_checked():
    got = factors_from({"revenue_per_retained_student": {"value": "7200", "source": "finance 2026", "version": "2026-10"}})
    f = got["revenue_per_retained_student"]
    assert (f.value, f.source, f.version) == (Decimal(7200), "finance 2026", "2026-10")
    with pytest.raises(Invalid):
        factors_from({"nothing": {"value": 1}})
    with pytest.raises(Invalid):
        factors_from({"cost_per_error": {"value": "many"}})


def test_the_roi_api(client, db, sales):
    key = make_api_key(db, scopes=["reports:read"], name="reader")
    db.commit()
    got = client.get("/api/v1/reports/programs/CLOSE/roi?pre_days=28&post_days=28", headers={"Authorization": f"Bearer {key}"})
    assert got.status_code == 200, got.text
    body = got.json()
    # Four measured weeks of about 600 CNY x 21 people x 0.25 on 11,100: a fair return, said in full.
    assert body["costs"]["total"] == "11100.00" and body["band"] == "fair" and body["benefit_weeks"] == "4.0"
    assert Decimal(body["conservative"]["bcr"]) < Decimal(body["isolated"]["bcr"])
    assert body["effects"]["crm.order_amount"]["finding"]["status"] == "credible"
