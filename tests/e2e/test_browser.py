"""The HR pages in a real browser: Debian's Chromium, driven by Playwright, against a real uvicorn server.

Log in through the form, live-search the employee list (HTMX), open a profile's week view and switch
language both ways. Screenshots go to tests/e2e/artifacts/ and the Chinese employee list also to
docs/screenshot.png for the README (with TQ_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.live import live_server, needs_chromium

pytestmark = needs_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
README_SCREENSHOT = ROOT / "docs" / "screenshot.png"
PASSWORD = "browser-test-password"
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
TIMEOUT_MS = 10_000

NAMES = [
    "李雷", "韩梅梅", "王芳", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷",
    "吴昊", "徐丽", "孙强", "胡月", "朱晨", "高翔", "林燕", "何军", "郭佳", "马超",
    "罗琳", "梁宇", "宋洁", "郑凯", "谢楠", "韩雪", "唐亮", "冯琪", "于晴", "董鹏",
]


def seed(url: str) -> None:
    """A small school through the same service functions the API and the importer use."""
    from trainquant.auth.permissions import DataScope, Principal
    from trainquant.auth.service import create_user
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.migrate import upgrade
    from trainquant.org import schemas, service
    from trainquant.org.rules import DatedClassRecord, EmployeeRecord, WeeklySlotRecord
    from trainquant.org.upsert import upsert_employees, upsert_timetable

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        service.create_site(db, schemas.SiteCreate(code="BJ", name="北京中关村校区", venues=[schemas.VenueCreate(name="301教室", latitude=39.98, longitude=116.31)]))
        service.create_site(db, schemas.SiteCreate(code="SH", name="上海徐汇校区"))
        for code, name, name_en, kind, parent in [
            ("TEACH", "教学部", "Teaching", "teaching", None),
            ("IELTS", "雅思组", "IELTS team", "teaching", "TEACH"),
            ("KIDS", "少儿英语组", "Kids English", "teaching", "TEACH"),
            ("MKT", "市场部", "Marketing", "marketing", None),
            ("ADM", "行政部", "Administration", "admin", None),
        ]:
            service.create_department(db, schemas.DepartmentCreate(code=code, name=name, name_en=name_en, kind=kind, parent_code=parent))
        records = []
        for i, name in enumerate(NAMES):
            if i < 20:
                no, dept, position = f"T{i + 1:03d}", ("IELTS", "KIDS")[i % 2], ("雅思讲师", "少儿英语讲师")[i % 2]
            elif i < 26:
                no, dept, position = f"M{i - 19:03d}", "MKT", "课程顾问"
            else:
                no, dept, position = f"A{i - 25:03d}", "ADM", "教务专员"
            records.append(EmployeeRecord(
                employee_no=no, row=i + 1, name=name, department=dept, site=("BJ", "SH")[i % 3 == 2], position=position,
                hire_date=date(2022, 3, 1) + timedelta(days=37 * i), status="probation" if i in (17, 19) else "active",
                hourly_cost=Decimal("85.00") if no.startswith("T") else Decimal("60.00"),
                tags=("new-teacher",) if i in (17, 19) else (), external_ids=(("device_pin", str(1000 + i)),),
                manager_no="T002" if no.startswith("T") and no != "T002" else None,
            ))
        result = upsert_employees(db, records, now=NOW)
        assert not result.errors, result.errors
        slots = []
        for i in range(20):
            for weekday, start, hours, course in [(0, 9, 2, "雅思口语"), (2, 14, 1.5, "雅思写作"), (3, 18, 2, "少儿英语"), (5, 10, 3, "周末强化班")]:
                if (i + weekday) % 3 == 1 and weekday != 5:
                    continue
                begin = time(start + i % 2, 0)
                end_minutes = (start + i % 2) * 60 + int(hours * 60)
                slots.append(WeeklySlotRecord(f"T{i + 1:03d}", weekday, begin, time(end_minutes // 60, end_minutes % 60), date(2026, 1, 1), course=course))
        makeup = [DatedClassRecord("T001", date(2026, 9, 1), time(19, 0), time(20, 30), course="试讲点评")]
        assert not upsert_timetable(db, slots, makeup, default_tz="Asia/Shanghai").errors
        seeder = Principal(kind="user", id=0, name="seed", role="hr", permissions=frozenset({"growth:write"}), scope=DataScope(all=True))
        for i in range(0, 20, 2):
            emp = service.get_employee(db, f"T{i + 1:03d}", DataScope(all=True))
            for kind, tag, source in [("need", "雅思口语进阶", "self"), ("weakness", "互动性不足", "student-feedback"), ("weakness", "语法讲解不足", "assessment")][: 3 - i % 3]:
                service.add_growth_note(db, emp, schemas.GrowthNoteCreate(kind=kind, tag=tag, source=source, noted_on=date(2026, 8, 10 + i)), seeder)
        create_user(db, username="hr", password=PASSWORD, role="hr", now=NOW, display_name="人事专员")
        db.commit()
    engine.dispose()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'school.db'}"
    seed(url)
    with live_server(url, NOW) as base:
        yield base


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900}, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def shot(pg, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_hr_searches_opens_a_profile_and_switches_language(page):
    from playwright.sync_api import expect

    # Log in through the form; the overview follows.
    page.goto("/employees")
    assert "/login?next=%2Femployees" in page.url
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("input[name=username]", "hr")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/employees")

    # The employee list, in Chinese, with every employee on one page.
    table = page.locator("[data-testid=employee-table]")
    expect(table.locator("tbody tr")).to_have_count(30)
    expect(page.locator("[data-testid=total]")).to_have_text("共 30 人")
    for header in ("工号", "姓名", "部门", "岗位", "入职日期", "状态"):
        expect(table.locator("thead")).to_contain_text(header)
    expect(table).to_contain_text("新教师")
    expect(table).to_contain_text("试用")
    if os.environ.get("TQ_UPDATE_SCREENSHOT"):
        # The README's picture changes only on request, so a test run leaves the tree clean.
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(README_SCREENSHOT))
    shot(page, "01-employees-zh")

    # Live search: typing swaps only the table (no navigation: a marker on window survives).
    page.evaluate("window.__noReload = true")
    page.locator("[data-testid=search]").press_sequentially("T01", delay=40)
    expect(table.locator("tbody tr")).to_have_count(10)
    expect(page.locator("[data-testid=total]")).to_have_text("共 10 人")
    assert page.evaluate("window.__noReload") is True
    assert page.url.endswith("/employees?q=T01")  # the search is in the address bar, so it can be shared and reloaded
    page.locator("[data-testid=search]").press_sequentially("0", delay=40)
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page.locator("#lang-en")).to_have_attribute("href", re.compile(r"^\?q=T010&.*lang=en$"))  # swapped with the table
    shot(page, "02-employees-search")

    # A filter narrows as well (select change, HTMX), together with the search cleared.
    page.locator("[data-testid=search]").fill("")
    page.locator("[data-testid=search]").press("Backspace")
    expect(table.locator("tbody tr")).to_have_count(30)
    page.select_option("select[name=kind]", "marketing")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table).to_contain_text("课程顾问")

    # The profile: facts, growth profile, and the week view with its classes.
    page.goto("/employees/T001")
    expect(page.locator("h1")).to_contain_text("李雷")
    for text in ("基本信息", "工号", "入职日期", "时薪", "成长档案", "进阶需求", "课表", "周视图", "本周课时"):
        expect(page.locator("main")).to_contain_text(text)
    expect(page.locator("[data-testid=facts]")).to_contain_text("韩梅梅")  # reports to
    expect(page.locator("[data-testid=growth]")).to_contain_text("互动性不足")
    classes = page.locator("[data-testid=week-view] [data-testid=class]")
    expect(classes).to_have_count(5)
    expect(page.locator("[data-testid=week-range]")).to_have_text("2026-08-31 – 2026-09-06")
    expect(page.locator("[data-testid=week-hours]")).to_have_text("10")
    expect(page.locator('[data-day="2026-09-01"] .one-off')).to_contain_text("试讲点评")
    monday = page.locator('[data-day="2026-08-31"] [data-testid=class]')
    expect(monday).to_contain_text("雅思口语")
    box, column = monday.bounding_box(), page.locator('[data-day="2026-08-31"]').bounding_box()
    # 09:00-11:00 in a 08:00-22:00 column: starts 1/14 down, 2/14 tall.
    assert abs((box["y"] - column["y"]) / column["height"] - 1 / 14) < 0.01
    assert abs(box["height"] / column["height"] - 2 / 14) < 0.01
    shot(page, "03-profile-zh")
    page.click("[data-testid=next-week]")
    expect(page.locator("[data-testid=week-range]")).to_have_text("2026-09-07 – 2026-09-13")
    expect(classes).to_have_count(4)  # the make-up class was a one-off

    # English, then back to Chinese; the choice sticks across pages.
    page.click("#lang-en")
    for text in ("Basic facts", "Growth profile", "Development need", "Timetable", "Week view", "Class hours this week", "Hourly cost"):
        expect(page.locator("main")).to_contain_text(text)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "04-profile-en")
    page.click("nav.mainnav summary >> text=People & org")  # the menu, then its item
    page.click("nav.mainnav .menu >> text=Employees")
    expect(page.locator("[data-testid=employee-table] thead")).to_contain_text("Employee no.")
    expect(page.locator("[data-testid=total]")).to_have_text("30 in total")
    shot(page, "05-employees-en")
    page.click("#lang-zh")
    expect(page.locator("[data-testid=employee-table] thead")).to_contain_text("工号")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto("/departments")
    expect(page.locator("[data-testid=department-tree]")).to_contain_text("雅思组")
    shot(page, "06-departments-zh")
