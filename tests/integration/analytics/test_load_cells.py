"""The column-wise loading of metric records into period cells, against a plain record-by-record
reference written here (the ORM's typed values, Python datetimes and dictionaries: nothing shared)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_department, make_employee
from trainquant.analytics.impact.rules import Design
from trainquant.analytics.impact.service import load_cells
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.integrations.metrics.rules import DEFINITIONS, MEAN, RATIO, SUM
from trainquant.integrations.metrics.service import ingest_records
from trainquant.org.models import ExternalId

NOW = datetime(2026, 10, 1, tzinfo=UTC)
WEEK0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # Monday 2026-03-02 00:00 in Beijing


def _reference(db, key: str, people: set[int], design: Design, start: datetime, end: datetime):
    d = DEFINITIONS[key]
    keys = [d.numerator, d.denominator] if d.aggregation == RATIO else [d.key]
    mapped = {(e.system, e.external_id): e.employee_id for e in db.scalars(select(ExternalId))}
    sums: dict[tuple[int, int], list[float]] = {}
    skipped = 0
    step = timedelta(days=design.period_days)
    for r in db.scalars(select(MetricRecord)):
        owner = r.employee_id if r.status == "accepted" else mapped.get((r.external_system, r.external_id)) if r.status == "unmapped" else None
        if owner not in people or r.metric_key not in keys or r.period_start is None or r.period_end is None or r.value is None:
            continue
        if not start <= r.period_start < end:
            continue
        period = (r.period_start - design.origin) // step
        if (r.period_end - timedelta(microseconds=1) - design.origin) // step > period:
            skipped += 1
            continue
        acc = sums.setdefault((owner, period), [0.0, 0.0])
        if d.aggregation == RATIO:
            acc[0 if r.metric_key == d.numerator else 1] += float(r.value)
        elif d.aggregation == MEAN:
            acc[0] += float(r.value)
            acc[1] += 1
        else:
            assert d.aggregation == SUM
            acc[0] += float(r.value)
            acc[1] = 1.0
    return sorted((u, p, top / bottom, bottom) for (u, p), (top, bottom) in sums.items() if bottom > 0), skipped


@pytest.fixture
def records(db):
    rng = random.Random(3)
    dep = make_department(db, code="MKT", kind="marketing")
    people = [make_employee(db, employee_no=f"S{i:02d}", department=dep) for i in range(6)]
    db.add(ExternalId(employee_id=people[5].id, system="crm", external_id="C-LATE"))  # mapped after its records came in
    db.flush()
    out = []
    for w in range(20):
        start = WEEK0 + timedelta(weeks=w)
        for p in people[:5]:
            no = p.employee_no
            leads = rng.randint(0, 30)
            out += [{"record_id": f"L-{no}-{w}", "metric": "crm.leads", "value": str(leads), "employee_no": no},
                    {"record_id": f"C-{no}-{w}", "metric": "crm.conversions", "value": str(rng.randint(0, leads)), "employee_no": no},
                    {"record_id": f"O-{no}-{w}", "metric": "crm.order_amount", "value": f"{rng.uniform(0, 9000):.2f}", "employee_no": no}]
            for k in range(rng.randint(0, 2)):  # a mean of several ratings in one week, mid-week
                out.append({"record_id": f"R-{no}-{w}-{k}", "metric": "teaching.rating.overall", "value": f"{rng.uniform(3, 5):.3f}",
                            "employee_no": no, "at": (start + timedelta(days=2, hours=k)).isoformat()})
            for r in out[-3:]:
                r.setdefault("period_start", start.isoformat())
                r.setdefault("period_end", (start + timedelta(days=7)).isoformat())
        out.append({"record_id": f"X-{w}", "metric": "crm.order_amount", "value": "100", "external_id": "C-LATE",
                    "period_start": start.isoformat(), "period_end": (start + timedelta(days=7)).isoformat()})
    month = WEEK0 + timedelta(weeks=4)
    out.append({"record_id": "M-1", "metric": "crm.order_amount", "value": "30000", "employee_no": "S00",
                "period_start": month.isoformat(), "period_end": (month + timedelta(days=30)).isoformat()})  # spans periods: left out
    out.append({"record_id": "BAD", "metric": "crm.order_amount", "value": "-5", "employee_no": "S01",
                "period_start": month.isoformat(), "period_end": (month + timedelta(days=7)).isoformat()})  # rejected
    for r in out:
        if r["metric"] == "teaching.rating.overall":
            r.pop("period_start", None), r.pop("period_end", None)
    for i in range(0, len(out), 500):
        ingest_records(db, "crm", out[i:i + 500], now=NOW)
    db.commit()
    return people


@pytest.mark.parametrize("key", ["crm.conversion_rate", "crm.order_amount", "teaching.rating.overall"])
@pytest.mark.parametrize("period_days", [7, 14])
def test_cells_are_what_a_record_by_record_reading_gives(db, records, key, period_days):
    design = Design(period_days=period_days)
    people = {p.id for p in records[:4]} | {records[5].id}  # S04 is not asked for
    start, end = WEEK0 + timedelta(weeks=1), WEEK0 + timedelta(weeks=17, days=3)
    cells, skipped = load_cells(db, DEFINITIONS[key], people, design, start, end)
    want, want_skipped = _reference(db, key, people, design, start, end)
    assert [(c.unit, c.period) for c in cells] == [(u, p) for u, p, _, _ in want]
    for c, (_, _, value, weight) in zip(cells, want, strict=True):
        assert c.value == pytest.approx(value, rel=1e-12) and c.weight == pytest.approx(weight, rel=1e-12)
    assert skipped == want_skipped
    assert cells, "the fixture gives every metric some cells"
