"""QR check-in in a real browser: HR opens the room's QR screen, an employee on a "phone" (a second
browser context with a fixed location inside the room) scans it, logs in, presses 签到 and is accepted;
the live board then shows them in the room. Debian's Chromium only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.live import live_server, needs_chromium

pytestmark = needs_chromium

ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser-test-password"
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai; the session started at 09:30
ROOM = {"latitude": 39.98, "longitude": 116.31}
TIMEOUT_MS = 10_000


def seed(url: str) -> None:
    from trainquant.auth.service import create_user
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee, Site, Venue
    from trainquant.training.models import Enrolment, Program, TrainingSession

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        site = Site(code="BJ", name="北京中关村校区", timezone="Asia/Shanghai", venues=[Venue(name="301教室", radius_m=50, **ROOM)])
        teach = Department(code="TEACH", name="教学部", name_en="Teaching", kind="teaching")
        db.add_all([site, teach])
        db.flush()
        people = []
        for no, name in [("T01", "李雷"), ("T02", "韩梅梅")]:
            people.append(Employee(employee_no=no, name=name, department_id=teach.id, site_id=site.id, hire_date=date(2025, 3, 1), status="active", created_at=NOW, updated_at=NOW))
        db.add_all(people)
        program = Program(code="CI", title="课堂互动技巧", title_en="Classroom interaction", kind="offline", level="advanced", target_kinds=["teaching"],
                          tags=[], planned_hours=2, eligibility={}, requires_approval=True, active=True, created_at=NOW)
        db.add(program)
        db.flush()
        start = NOW - timedelta(minutes=30)
        session = TrainingSession(code="CI-1", program_id=program.id, sequence=1, starts_at=start, ends_at=start + timedelta(hours=2), site_id=site.id,
                                  venue_id=site.venues[0].id, online=False, trainer="王老师", capacity=20, checkin_methods=["qr", "geo"], min_participation=0.8,
                                  missing_checkout_policy="credit-to-end", status="scheduled", created_at=NOW)
        db.add(session)
        db.flush()
        for emp in people:
            db.add(Enrolment(session_id=session.id, employee_id=emp.id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
        create_user(db, username="hr", password=PASSWORD, role="hr", now=NOW, display_name="人事专员")
        create_user(db, username="t01", password=PASSWORD, role="employee", now=NOW, employee_no="T01")
        db.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-checkin') / 'school.db'}"
    seed(url)
    with live_server(url, NOW) as base:
        yield base


def open_page(browser, base_url, errors: list[str], **options):
    context = browser.new_context(base_url=base_url, locale="zh-CN", device_scale_factor=1, **options)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, pg


def log_in(pg, username: str) -> None:
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")


def test_employee_scans_the_room_qr_checks_in_and_shows_on_the_board(browser, base_url):
    from playwright.sync_api import expect

    errors: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    hr_context, screen = open_page(browser, base_url, errors, viewport={"width": 1280, "height": 900})
    screen.goto("/attendance/sessions/CI-1/qr")
    log_in(screen, "hr")
    screen.wait_for_url("**/attendance/sessions/CI-1/qr")
    qr = screen.locator("[data-testid=qr]")
    expect(qr.locator("svg")).to_be_visible()
    token = qr.get_attribute("data-token")
    assert token and token.startswith("tq1.")
    screen.screenshot(path=str(ARTIFACTS / "attendance-qr-screen.png"))

    phone_context, phone = open_page(
        browser, base_url, errors, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        geolocation={**ROOM, "accuracy": 10}, permissions=["geolocation"],
    )
    phone.goto(f"/checkin?t={token}")
    assert "/login?next=" in phone.url
    log_in(phone, "t01")
    phone.wait_for_url(f"**/checkin?t={token}")
    expect(phone.locator("[data-testid=checkin-session]")).to_have_text("课堂互动技巧")
    phone.click("[data-testid=checkin-in]")
    result = phone.locator("[data-testid=checkin-result]")
    expect(result).to_contain_text("签到成功")
    expect(result).to_have_class("checkin-result accepted")
    phone.screenshot(path=str(ARTIFACTS / "attendance-checkin-phone.png"))
    phone.click("[data-testid=checkin-in]")  # a second press is a new event; the token was used once already
    expect(result).to_contain_text("您已使用过该二维码")

    screen.goto("/attendance/sessions/CI-1")
    board = screen.locator("[data-testid=board-table]")
    expect(board.locator('tr[data-employee="T01"]')).to_have_attribute("data-state", "in")
    expect(board.locator('tr[data-employee="T02"]')).to_have_attribute("data-state", "never-came")
    expect(screen.locator("[data-testid=count-in]")).to_have_text("1")
    expect(screen.locator("[data-testid=events]")).to_contain_text("李雷")
    screen.screenshot(path=str(ARTIFACTS / "attendance-board.png"), full_page=True)
    phone_context.close()
    hr_context.close()
    assert not errors, f"the browser reported errors: {errors}"
