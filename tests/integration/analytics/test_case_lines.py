"""The case table's year-on-year line: a department kind's summed records over the later period's
weeks against the same weeks 52 weeks before, everyone's (those who have left too), only weeks with
records on both sides, and no figure without the history to compare."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.conftest import make_department, make_employee
from trainquant.analytics import case
from trainquant.analytics.impact.service import design_for
from trainquant.analytics.roi.rules import DEFAULT_FACTORS
from trainquant.integrations.metrics.service import ingest_records

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
SINCE = date(2026, 6, 1)  # months=2: after = 1 June .. 31 July 2026 (61 days); 52 weeks before: 2 June .. 1 August 2025


def _weeks(first: date, last: date) -> list[datetime]:
    monday = first - timedelta(days=first.weekday())
    out = []
    while monday <= last:
        out.append(datetime.combine(monday, datetime.min.time(), TZ))
        monday += timedelta(days=7)
    return out


def _orders(db, people, weeks: list[datetime], amount) -> list[tuple[datetime, Decimal]]:
    records, kept = [], []
    for p in people:
        for w in weeks:
            value = Decimal(amount(p, w))
            kept.append((w, value))
            records.append({"record_id": f"{p.employee_no}-{w.date()}", "metric": "crm.order_amount", "value": str(value),
                            "employee_no": p.employee_no, "period_start": w.isoformat(), "period_end": (w + timedelta(days=7)).isoformat()})
    assert ingest_records(db, "crm", records, now=NOW).accepted == len(records)
    return kept


def _line(db, months: int = 2):
    table = case.case_table(db, since=SINCE, today=NOW.date(), zone="Asia/Shanghai", design=design_for("Asia/Shanghai"),
                            factors=dict(DEFAULT_FACTORS), now=NOW, months=months)
    return {(line.kind, line.key): line for line in table.lines}[("marketing", "yoy:crm.order_amount")], table


def test_new_orders_year_on_year_sum_everyones_records_of_both_spans(db):
    mkt = make_department(db, code="MKT", kind="marketing")
    people = [make_employee(db, employee_no=f"S{i}", department=mkt) for i in range(3)]
    people[2].status = "left"  # left since: last year's orders were still the department's
    other = make_department(db, code="TCH", kind="teaching")
    teacher = make_employee(db, employee_no="T1", department=other)
    db.flush()
    last_year = _orders(db, people, _weeks(date(2025, 5, 20), date(2025, 9, 10)), lambda p, w: 1000 + 10 * int(p.employee_no[1:]))
    # This year the week of 13 July has no records (the CRM lost them): it is left out on both sides.
    this_year = _orders(db, people[:2], [w for w in _weeks(date(2026, 5, 20), date(2026, 8, 30)) if w.date() != date(2026, 7, 13)],
                        lambda p, w: 1500 + w.day)
    _orders(db, [teacher], _weeks(date(2026, 5, 20), date(2026, 8, 30)), lambda p, w: 99999)  # another kind: not counted
    db.commit()
    line, table = _line(db, months=3)
    assert table.periods.after == (datetime(2026, 6, 1, tzinfo=TZ), datetime(2026, 8, 31, tzinfo=TZ))
    # Summed here without the code under test: this year's weeks starting in the period (Mondays
    # 1 June .. 24 August, but 13 July), and the Mondays 52 weeks before each (2 June .. 25 August 2025, but 14 July).
    weeks = [w for w in _weeks(date(2026, 6, 1), date(2026, 8, 30)) if w.date() != date(2026, 7, 13)]
    after = sum(v for w, v in this_year if w in weeks)
    before = sum(v for w, v in last_year if w + timedelta(weeks=52) in weeks)
    assert line.basis == case.YEAR and line.metric is not None and line.metric.key == "crm.order_amount"
    assert abs(Decimal(repr(line.before)) - before) < Decimal("0.01") and abs(Decimal(repr(line.after)) - after) < Decimal("0.01")
    assert line.counts == (12, 13)  # 12 of the period's 13 weeks compared


def test_without_records_a_year_before_the_line_has_no_figure(client, db, clock):
    from tests.conftest import login, make_user

    mkt = make_department(db, code="MKT", kind="marketing")
    people = [make_employee(db, employee_no=f"S{i}", department=mkt) for i in range(2)]
    # A year before: records in the last four of the nine weeks only (the CRM kept less history).
    _orders(db, people, _weeks(date(2025, 7, 8), date(2025, 7, 29)), lambda p, w: 1000)
    _orders(db, people, _weeks(date(2026, 6, 1), date(2026, 7, 27)), lambda p, w: 1200)
    make_user(db, username="hr1", role="hr")
    db.commit()
    line, _ = _line(db)
    assert line.before is None and line.counts == (4, 9) and line.after == 2 * 9 * 1200
    clock.at = NOW
    login(client, "hr1")
    en = client.get(f"/reports/case?since={SINCE}&months=2&lang=en")
    assert en.status_code == 200
    row = en.text.split('data-line="marketing:yoy:crm.order_amount"')[1].split("</tr>")[0]
    assert "New orders year on year" in row and "no records for the same weeks a year before" in row and "¥21,600" in row
    zh = client.get(f"/reports/case?since={SINCE}&months=2&lang=zh_CN")
    assert "新增订单同比" in zh.text and "去年同期没有记录" in zh.text
