"""Training in a real browser: an employee requests a place, the manager approves and rejects in the inbox
(rows swap in place through HTMX, no page load), the employee sees the outcome. Debian's Chromium only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.live import live_server, needs_chromium

pytestmark = needs_chromium

ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
TIMEOUT_MS = 10_000


def seed(url: str) -> None:
    from trainquant.auth.service import create_user
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee, Site, Venue
    from trainquant.training.models import Program, TrainingSession

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        site = Site(code="BJ", name="北京中关村校区", timezone="Asia/Shanghai", venues=[Venue(name="301教室", latitude=39.98, longitude=116.31, radius_m=50)])
        teach = Department(code="TEACH", name="教学部", name_en="Teaching", kind="teaching")
        db.add_all([site, teach])
        db.flush()
        people = {}
        for no, name in [("B01", "周主任"), ("T01", "李雷"), ("T02", "韩梅梅"), ("T03", "黄清")]:
            people[no] = Employee(employee_no=no, name=name, department_id=teach.id, site_id=site.id, hire_date=date(2025, 3, 1), status="active", created_at=NOW, updated_at=NOW)
            db.add(people[no])
        program = Program(code="CI", title="课堂互动技巧", title_en="Classroom interaction", kind="offline", level="advanced", target_kinds=["teaching"],
                          tags=["classroom-interaction"], planned_hours=10, eligibility={"department_kinds": ["teaching"]}, requires_approval=True,
                          active=True, created_at=NOW)
        db.add(program)
        db.flush()
        start = NOW + timedelta(days=7, hours=4)
        db.add(TrainingSession(code="CI-1", program_id=program.id, sequence=1, starts_at=start, ends_at=start + timedelta(hours=2), site_id=site.id,
                               venue_id=site.venues[0].id, online=False, trainer="王老师", capacity=20, checkin_methods=["face"], min_participation=0.8,
                               missing_checkout_policy="credit-to-end", status="scheduled", created_at=NOW))
        create_user(db, username="boss", password=PASSWORD, role="manager", now=NOW, employee_no="B01", department_code="TEACH")
        create_user(db, username="t01", password=PASSWORD, role="employee", now=NOW, employee_no="T01")
        create_user(db, username="t02", password=PASSWORD, role="employee", now=NOW, employee_no="T02")
        create_user(db, username="hr", password=PASSWORD, role="hr", now=NOW)
        db.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-training') / 'school.db'}"
    seed(url)
    with live_server(url, NOW) as base:
        yield base


def new_page(browser, base_url, errors: list[str]):
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, pg


def log_in(pg, username: str) -> None:
    pg.goto("/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(lambda u: "/login" not in u)


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_request_then_approve_and_reject_in_the_inbox(browser, base_url):
    errors: list[str] = []
    for username in ("t01", "t02"):
        context, pg = new_page(browser, base_url, errors)
        log_in(pg, username)
        pg.click("nav.mainnav summary >> text=工作台")  # the menu, then its item
        pg.click("nav.mainnav .menu >> text=我的培训")
        row = pg.locator("[data-testid=open-sessions] tr[data-session='CI-1']")
        row.locator("input[name=reason]").fill("希望提升课堂互动")
        row.locator("[data-testid=request]").click()
        pg.wait_for_url("**/my/trainings?done=requested")
        assert pg.locator("[data-testid=my-enrolments] [data-status=requested]").count() == 1
        if username == "t01":
            shot(pg, "training-my-zh")
        context.close()

    context, pg = new_page(browser, base_url, errors)
    log_in(pg, "boss")
    pg.click("nav.mainnav summary >> text=工作台")
    pg.click("nav.mainnav .menu >> text=审批")
    assert pg.locator("[data-testid=approvals] tbody tr").count() == 2
    pg.evaluate("window.__marker = 'kept'")  # survives only if no full page load happens
    first = pg.locator("tr[data-enrolment]").filter(has_text="李雷")
    first.locator("[data-testid=approve]").click()
    pg.locator("tr[data-enrolment].row-done").filter(has_text="李雷").locator("[data-status=approved]").wait_for()
    second = pg.locator("tr[data-enrolment]").filter(has_text="韩梅梅")
    second.locator("[data-testid=reason]").fill("本月教学任务重")
    second.locator("[data-testid=reject]").click()
    pg.locator("tr[data-enrolment].row-done").filter(has_text="韩梅梅").locator("[data-status=rejected]").wait_for()
    assert pg.evaluate("window.__marker") == "kept"
    shot(pg, "training-approvals-zh")
    pg.goto("/approvals?lang=en")
    assert "Nothing is waiting for your decision." in pg.content()
    context.close()

    context, pg = new_page(browser, base_url, errors)
    log_in(pg, "t02")
    pg.goto("/my/trainings")
    mine = pg.locator("[data-testid=my-enrolments] tr[data-session='CI-1']")
    assert mine.locator("[data-status=rejected]").count() == 1 and "本月教学任务重" in mine.inner_text()
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def test_hr_picks_people_by_pinyin_and_enrols_them_together(browser, base_url):
    """The people picker: typing ``huang`` offers 黄清 (huangqing); Add puts T03 in the list, once."""
    errors: list[str] = []
    context, pg = new_page(browser, base_url, errors)
    log_in(pg, "hr")
    pg.goto("/training/sessions/CI-1")
    pg.click("[data-testid=bulk-enrol] summary")
    pg.fill("[data-testid=picker]", "huang")
    pg.locator("#people-options option[value=T03]").wait_for(state="attached")
    assert "黄清" in pg.locator("#people-options").inner_html()
    pg.fill("[data-testid=picker]", "T03")  # what choosing the offered option puts in the box
    pg.click("[data-append-to=employee_nos]")
    pg.fill("[data-testid=picker]", "T03")
    pg.click("[data-append-to=employee_nos]")  # a second time: still once
    assert pg.input_value("#employee_nos") == "T03"
    pg.click("[data-testid=bulk-enrol-submit]")
    pg.locator("[data-testid=bulk-result]").wait_for()
    assert "已报名 1 人" in pg.locator("[data-testid=bulk-result]").inner_text()
    context.close()
    assert not errors, f"the browser reported errors: {errors}"
