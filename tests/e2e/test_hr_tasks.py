"""The main HR tasks done in Chromium on the simulated school, in both languages, counting the clicks
each takes (issue 13): find a person, create a program and a session, enrol a department, approve as a
manager, record a session's results, open the board and the QR screen, review a proxy case, act on
alerts, create a session from the slot finder, run an evaluation, export a report. The counts are
printed (``pytest -s``) and kept in tests/e2e/artifacts/clicks-<lang>.txt; each task has a ceiling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.live import live_server, needs_chromium
from tests.e2e.test_csp_browser import NOW, TIMEOUT_MS, seed

pytestmark = needs_chromium
ARTIFACTS = Path(__file__).parent / "artifacts"
CEILING = 8  # clicks: every task here takes at most this many
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-tasks') / 'school.db'}"
    codes = seed(url)
    import sqlite3

    from trainquant.org.pinyin import keys
    from trainquant.simulate.institution.school import generate

    users = {u.username: u.password for u in generate(2026, today=NOW.astimezone(SH).date()).demo_users}
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    (name,) = conn.execute("SELECT name FROM employees WHERE employee_no = ?", (codes["employee_no"],)).fetchone()
    conn.close()
    with live_server(url, NOW) as base:
        yield base, {**codes, **{f"{k}_password": v for k, v in users.items()}, "employee_pinyin": keys(name)[0]}


class Tasks:
    """Clicks per task: every click goes through ``click``."""

    def __init__(self, page) -> None:
        self.pg, self.counts, self.current = page, {}, None

    def start(self, name: str) -> None:
        self.current = name
        self.counts[name] = 0

    def click(self, selector: str, **kw) -> None:
        self.counts[self.current] += 1
        self.pg.click(selector, **kw)

    def menu(self, group_text: str, item_text: str) -> None:
        self.click(f"nav.mainnav summary >> text={group_text}")
        self.click(f"nav.mainnav .menu a >> text={item_text}")

    def open_session(self, program: str, session: str, words: dict) -> None:
        """From any page: the training menu, the program, the session."""
        self.menu(words["training"], words["programs"])
        self.click(f"a[href='/training/programs/{program}']")
        self.click(f"a[href='/training/sessions/{session}'] >> nth=0")


def _log_in(browser, base: str, user: str, password: str, lang: str):
    context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(f"/login?lang={lang}")
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_url(lambda u: "/login" not in u)
    return context, pg


WORDS = {
    "zh_CN": {"people": "人员", "employees": "员工", "training": "培训", "programs": "培训项目", "attendance": "考勤", "review": "代签到审核",
              "alerts": "预警", "slots": "排课助手", "analytics": "分析", "indicators": "量化指标", "reports": "报表", "workbench": "工作台",
              "approvals": "审批"},
    "en": {"people": "People & org", "employees": "Employees", "training": "Training", "programs": "Training programs", "attendance": "Attendance & alerts",
           "review": "Proxy review", "alerts": "Alerts", "slots": "Slot finder", "analytics": "Analytics", "indicators": "Indicators",
           "reports": "Reports", "workbench": "Workbench", "approvals": "Approvals"},
}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_main_hr_tasks_and_their_clicks(browser, school, lang):
    base, codes = school
    w = WORDS[lang]
    suffix = "ZH" if lang == "zh_CN" else "EN"
    context, pg = _log_in(browser, base, "hr", codes["hr_password"], lang)
    t = Tasks(pg)

    t.start("find a person (pinyin)")
    t.menu(w["people"], w["employees"])
    pg.fill("[data-testid=search]", codes["employee_pinyin"])  # the name's pinyin, e.g. huangqing for 黄清
    pg.press("[data-testid=search]", "Enter")
    pg.locator(f"tr[data-employee='{codes['employee_no']}']").wait_for()
    t.click(f"tr[data-employee='{codes['employee_no']}'] a.strong")
    pg.locator("[data-testid=record]").wait_for()

    t.start("create a program and a session")
    t.menu(w["training"], w["programs"])
    t.click("[data-testid=new-program]")
    pg.fill("input[name=code]", f"TASK{suffix}")
    pg.fill("input[name=title]", "任务演练")
    pg.fill("input[name=title_en]", "Task drill")
    t.click("form button[type=submit].primary")
    pg.wait_for_url(f"**/training/programs/TASK{suffix}?done=created")
    t.click("[data-testid=schedule]")
    start = (NOW + timedelta(days=10)).astimezone(SH).replace(hour=19, minute=0)
    pg.fill("input[name=starts_at]", start.strftime("%Y-%m-%dT%H:%M"))
    pg.fill("input[name=ends_at]", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    pg.check("input[name=online]")
    t.click("form button[type=submit].primary")
    pg.wait_for_url("**/training/sessions/**")

    t.start("enrol a department")
    t.click("[data-testid=bulk-enrol] summary")
    pg.select_option("[data-testid=bulk-enrol] select[name=department]", "MKT-CC")
    t.click("[data-testid=bulk-enrol-submit]")
    pg.locator("[data-testid=bulk-result]").wait_for()

    t.start("open a session's attendance board")
    t.open_session(codes["program"], codes["session"], w)
    t.click("[data-testid=board-link]")
    pg.locator("table").first.wait_for()

    t.start("review a proxy case")
    t.menu(w["attendance"], w["review"])
    row = pg.locator("tr[data-case]").first
    row.locator("[data-testid=note]").fill("checked with the trainer")
    t.click("tr[data-case] >> nth=0 >> [data-testid=clear]")
    pg.locator("tr[data-case].row-done").first.wait_for()

    t.start("act on alerts (acknowledge a department's)")
    t.menu(w["attendance"], w["alerts"])
    pg.select_option("[data-testid=department]", "TEACH" if lang == "zh_CN" else "MKT")  # each run its own
    t.click("[data-testid=filters] button[type=submit]")
    pg.once("dialog", lambda d: d.accept())
    t.click("[data-testid=bulk-every] button")
    pg.locator("[data-testid=bulk-done]").wait_for()

    t.start("create a session from the slot finder")
    t.menu(w["training"], w["slots"])
    pg.select_option("select[name=program]", "SIM-CI")
    t.click("[data-testid=slot-form] button[type=submit]")
    pg.locator("[data-testid=plan-create]").first.wait_for()
    t.click("[data-testid=plan-create] >> nth=0")
    pg.locator("[data-testid=slot-group]").wait_for()
    pg.select_option("select[name=site_code]", index=1)
    t.click("form button[type=submit].primary")
    pg.locator("[data-testid=bulk-result]").wait_for()

    t.start("run an evaluation")
    t.menu(w["analytics"], w["indicators"])
    t.click("a.button[href='/indicators/results']")
    t.click(".run-form button[type=submit]")
    pg.wait_for_url("**ran=**")

    t.start("export a report")
    t.menu(w["analytics"], w["reports"])
    with pg.expect_download() as got:
        t.click("[data-testid=export]")
    assert got.value.suggested_filename.endswith(".xlsx")
    context.close()

    context, pg = _log_in(browser, base, "manager", codes["manager_password"], lang)
    t.pg = pg
    t.start("approve as a manager (all the filter shows)")
    t.menu(w["workbench"], w["approvals"])
    pg.select_option("[data-testid=filters] select[name=department]", "TEACH-IELTS" if lang == "zh_CN" else "TEACH-TOEFL")
    t.click("[data-testid=filters] button[type=submit]")
    if pg.locator("[data-testid=bulk-every]").count():
        pg.once("dialog", lambda d: d.accept())
        t.click("[data-testid=bulk-every] button")
        pg.locator("[data-testid=bulk-result]").wait_for()
    context.close()

    context, pg = _log_in(browser, base, "hr", codes["hr_password"], lang)
    t.pg = pg
    t.start("record a session's results")
    t.open_session(codes["program"], codes["session"], w)
    t.click("[data-testid=roster-link]")
    scores = pg.locator("[data-testid=score]")
    for i in range(min(3, scores.count())):
        scores.nth(i).fill("85")
    t.click("[data-testid=roster-save]")
    pg.locator("[data-testid=roster-saved]").wait_for()
    context.close()

    report = "\n".join(f"{n:>2}  {task}" for task, n in t.counts.items())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"clicks-{lang}.txt").write_text(report + "\n")
    print(f"\nclicks per task ({lang}):\n{report}")
    assert len(t.counts) == 11
    assert max(t.counts.values()) <= CEILING, t.counts
