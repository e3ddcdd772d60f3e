"""Business metric records through the batch API: verdicts per record, idempotency per system,
unknown ids kept for mapping, and a person's figure over a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.org.models import ExternalId

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def at(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


@pytest.fixture
def crm(db, client, clock):
    clock.at = NOW
    dep = make_department(db, code="MKT")
    m1 = make_employee(db, employee_no="M1", department=dep)
    make_employee(db, employee_no="M2", department=dep)
    db.add(ExternalId(employee_id=m1.id, system="crm", external_id="CRM-1"))
    key = make_api_key(db, scopes=["metrics:write", "metrics:read"], name="crm-sync")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    return {"m1": m1}


def post(client, records, source="crm"):
    resp = client.post("/api/v1/metrics/records", json={"source": source, "records": records})
    assert resp.status_code == 200, resp.text
    return resp.json()


def lead(i, days, *, who=None, value=1, metric="crm.leads"):
    return {"record_id": f"r{i}", "metric": metric, "value": value, "at": at(days), **(who or {"external_id": "CRM-1"})}


def test_each_record_gets_its_verdict_and_one_bad_record_blocks_nothing(client, crm, db):
    got = post(client, [
        lead(1, 3),
        lead(2, 2, who={"employee_no": "M1"}, metric="crm.conversions"),
        lead(3, 2, who={"external_id": "CRM-404"}),  # nobody has this id yet: kept aside
        lead(4, 1, value="2"),  # a decimal string is a decimal
        lead(5, 1, value=True),  # a boolean is no number
        lead(6, 1, metric="crm.conversion_rate", value=0.2),  # derived: send its parts
        lead(7, 1, metric="crm.magic"),
        lead(8, -1),  # tomorrow
        lead(9, 1, value=-3),
        lead(10, 1, who={"employee_no": "NOBODY"}),
        {"record_id": "r11", "metric": "crm.leads", "value": 1, "external_id": "CRM-1"},  # no time
    ])
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [
        ("accepted", None), ("accepted", None), ("unmapped", "unmapped"), ("accepted", None), ("rejected", "invalid"),
        ("rejected", "invalid-value"), ("rejected", "unknown-metric"), ("rejected", "in-the-future"), ("rejected", "invalid-value"),
        ("rejected", "unknown-employee"), ("rejected", "invalid"),
    ]
    assert got["results"][4]["reason"].startswith("value")
    assert (got["accepted"], got["unmapped"], got["rejected"]) == (3, 1, 7)
    assert db.scalar(select(func.count()).select_from(MetricRecord)) == 11  # rejected ones are kept with their reason


def test_a_retry_is_a_repeat_and_another_record_under_a_kept_id_is_refused(client, crm, db):
    first = post(client, [lead(1, 3), lead(2, 2, value=5)])
    again = post(client, [lead(1, 3), lead(2, 2, value=6), lead(1, 3)])
    assert [(r["status"], r["reason_code"]) for r in again["results"]] == [
        ("duplicate", "duplicate"), ("rejected", "id-conflict"), ("duplicate", "duplicate")]
    assert again["results"][0]["id"] == again["results"][2]["id"] == first["results"][0]["id"]
    assert again["results"][1]["id"] not in (first["results"][1]["id"], None)  # kept apart, with its reason
    # The same record id from another system is another record.
    assert post(client, [lead(1, 3, who={"employee_no": "M1"}, metric="oa.operations")], source="oa")["accepted"] == 1
    # A rejected record sent again is answered as a repeat of its rejection, not stored twice.
    bad = [lead(9, 1, metric="crm.magic")]
    one = post(client, bad)["results"][0]
    two = post(client, bad)["results"][0]
    assert (two["status"], two["id"]) == ("duplicate", one["id"])
    assert db.scalar(select(func.count()).select_from(MetricRecord).where(MetricRecord.status == "rejected")) == 2


def test_the_batch_itself_must_name_its_source_and_list_its_records(client, crm):
    for body in ({"records": []}, {"source": "crm"}, {"source": "crm", "records": {}}, {"source": "c r m", "records": [lead(1, 1)]},
                 {"source": "crm", "records": [], "extra": 1}, [lead(1, 1)]):
        resp = client.post("/api/v1/metrics/records", json=body)
        assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json"), body
    assert client.post("/api/v1/metrics/records", json={"source": "crm", "records": []}).status_code == 422


def test_an_unknown_id_mapped_later_counts_for_its_person(client, crm, db):
    post(client, [lead(1, 5, who={"external_id": "CRM-404"}, value=4), lead(2, 4, who={"external_id": "CRM-404"}, value=6),
                  lead(3, 4, who={"external_id": "CRM-404"}, metric="crm.conversions", value=2)])
    listed = client.get("/api/v1/metrics/unmapped").json()
    assert listed["total"] == 1 and listed["items"][0]["external_id"] == "CRM-404" and listed["items"][0]["records"] == 3
    window = {"start": at(30), "end": NOW.isoformat()}
    before = client.get("/api/v1/metrics/employees/M2/crm.conversion_rate", params=window).json()
    assert (before["value"], before["records"]) == (None, 0)
    resp = client.post("/api/v1/metrics/unmapped/map", json={"system": "crm", "external_id": "CRM-404", "employee_no": "M2"})
    assert resp.status_code == 200 and resp.json()["records"] == 3
    after = client.get("/api/v1/metrics/employees/M2/crm.conversion_rate", params=window).json()
    assert (float(after["value"]), after["records"]) == (0.2, 3)  # 2 conversions of 10 leads
    assert client.get("/api/v1/metrics/unmapped").json()["total"] == 0
    # An id already someone's, or a second id for the same person, is a conflict.
    assert client.post("/api/v1/metrics/unmapped/map", json={"system": "crm", "external_id": "CRM-404", "employee_no": "M1"}).status_code == 409
    assert client.post("/api/v1/metrics/unmapped/map", json={"system": "crm", "external_id": "CRM-9", "employee_no": "M2"}).status_code == 409
    # The stored rows are as received: mapping changed none of them.
    assert db.scalar(select(func.count()).select_from(MetricRecord).where(MetricRecord.status == "unmapped")) == 3


def test_reading_needs_metrics_read_and_writing_metrics_write(client, crm, db):
    reader = make_api_key(db, scopes=["metrics:read"], name="reader")
    db.commit()
    client.headers["Authorization"] = f"Bearer {reader}"
    assert client.get("/api/v1/metrics/definitions").status_code == 200
    assert client.post("/api/v1/metrics/records", json={"source": "crm", "records": [lead(1, 1)]}).status_code == 403
    other = make_api_key(db, scopes=["attendance:read"], name="other")
    db.commit()
    client.headers["Authorization"] = f"Bearer {other}"
    assert client.get("/api/v1/metrics/records").status_code == 403


def test_hr_maps_an_unknown_id_on_the_page(client, crm, db):
    from tests.conftest import login, make_user

    post(client, [lead(1, 5, who={"external_id": "CRM-404"}, value=4)])
    del client.headers["Authorization"]
    make_user(db, username="hr", role="hr")
    db.commit()
    csrf = login(client, "hr")
    page = client.get("/metrics/unmapped")
    assert page.status_code == 200 and "CRM-404" in page.text and "待关联的外部账号" in page.text
    assert 'href="/metrics/unmapped"' in client.get("/imports").text
    refused = client.post("/metrics/unmapped/map", data={"csrf_token": csrf, "system": "crm", "external_id": "CRM-404", "employee_no": "M1"})
    assert refused.status_code == 422 and "该员工在此系统中已有账号" in refused.text  # M1 already has CRM-1
    done = client.post("/metrics/unmapped/map", data={"csrf_token": csrf, "system": "crm", "external_id": "CRM-404", "employee_no": "M2"})
    assert done.status_code == 200 and "1 条数据现已计入" in done.text and "CRM-404" in done.text


def test_metric_history_from_a_sheet_row_by_row_and_again_as_repeats(client, crm, db):
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "外部账号", "指标", "数值", "时间"])
    ws.append(["M1", None, "crm.leads", 10, datetime(2026, 8, 20, 10, 0)])  # local time, no offset
    ws.append([None, "CRM-1", "crm.conversions", 2, "2026-08-21 15:30"])
    ws.append(["M1", None, "crm.order_amount", 20000.5, "2026-08-22"])
    ws.append(["M1", None, "crm.leads", "很多", "2026-08-23"])  # not a number
    ws.append([None, "CRM-77", "crm.leads", 3, "2026-08-24 09:00"])  # nobody's yet
    buf = io.BytesIO()
    wb.save(buf)
    files = {"file": ("历史数据.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    got = client.post("/api/v1/metrics/imports", params={"source": "crm"}, files=files)
    assert got.status_code == 200, got.text
    body = got.json()
    assert [(r["index"], r["status"]) for r in body["results"]] == [(2, "accepted"), (3, "accepted"), (4, "accepted"), (5, "rejected"), (6, "unmapped")]
    assert body["results"][3]["reason"].startswith("value")
    stored = db.scalar(select(MetricRecord).where(MetricRecord.metric_key == "crm.leads", MetricRecord.status == "accepted"))
    assert stored.period_start == datetime(2026, 8, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    again = client.post("/api/v1/metrics/imports", params={"source": "crm"}, files=files).json()
    assert (again["duplicate"], again["accepted"], again["rejected"]) == (5, 0, 0)
    rate = client.get("/api/v1/metrics/employees/M1/crm.conversion_rate", params={"start": at(30), "end": NOW.isoformat()}).json()
    assert float(rate["value"]) == 0.2


def test_a_sheet_that_is_no_metric_history_is_refused_saying_what_it_needs(client, crm):
    files = {"file": ("x.csv", "姓名,部门\n张三,市场部\n".encode(), "text/csv")}
    resp = client.post("/api/v1/metrics/imports", files=files)
    assert resp.status_code == 422 and "指标" in resp.json()["detail"] and resp.json()["code"] == "not-a-metric-sheet"


def test_hr_imports_metric_history_on_the_page(client, crm, db):
    from tests.conftest import login, make_user

    del client.headers["Authorization"]
    make_user(db, username="hr", role="hr")
    db.commit()
    csrf = login(client, "hr")
    sheet = "工号,指标,数值,时间\nM1,crm.leads,5,2026-08-20 10:00\nM1,crm.leads,-1,2026-08-21 10:00\n".encode()
    page = client.post("/metrics/import", data={"csrf_token": csrf, "source": "crm"}, files={"file": ("h.csv", sheet, "text/csv")})
    assert page.status_code == 200 and "接受 1 条" in page.text and "拒绝 1 条" in page.text and "at least 0" in page.text
    empty = client.post("/metrics/import", data={"csrf_token": csrf, "source": "crm"}, files={"file": ("h.csv", b"a,b\n1,2\n", "text/csv")})
    assert empty.status_code == 422 and "表格需要列" in empty.text
