"""The pages under the strict Content-Security-Policy in a real browser: every main page of the simulated
school opens in Chromium without a single refusal (console "Refused to ..." or a securitypolicyviolation
event), the charts draw, computed geometry (data-style) is applied, the confirm prompts still ask, and the
API docs (Swagger UI from local files) render. Debian's Chromium only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.live import live_server, needs_chromium

pytestmark = needs_chromium

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
TIMEOUT_MS = 15_000
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("securitypolicyviolation: " + e.violatedDirective + " blocked " + e.blockedURI + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def seed(url: str) -> dict[str, str]:
    """The demo's simulated school (people, training year, check-ins, one evaluation); returns codes to visit."""
    from sqlalchemy import select

    from trainquant.attendance.models import AttendanceRecord
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.indicators.evaluation import run_evaluation
    from trainquant.indicators.models import Indicator
    from trainquant.migrate import upgrade
    from trainquant.org.models import Employee, WeeklySlot
    from trainquant.simulate.attendance.generate import generate_checkins
    from trainquant.simulate.attendance.load import load_attendance
    from trainquant.simulate.institution.school import generate
    from trainquant.simulate.load import load_school
    from trainquant.simulate.training.generate import generate_training
    from trainquant.simulate.training.load import load_training
    from trainquant.training.models import Program, TrainingSession

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    school = generate(2026, today=NOW.astimezone(ZoneInfo("Asia/Shanghai")).date())
    with unit_of_work(factory) as db:
        load_school(db, school, now=NOW, default_tz="Asia/Shanghai")
    year = generate_training(school)
    with unit_of_work(factory) as db:
        load_training(db, school, year, now=NOW)
    with unit_of_work(factory) as db:
        load_attendance(db, year, generate_checkins(school, year), now=NOW, default_tz="Asia/Shanghai", secret_key="s" * 40)
    with unit_of_work(factory) as db:
        run_id = run_evaluation(db, period_end=school.today, actor="demo", now=NOW, tz=ZoneInfo("Asia/Shanghai")).run.id
    with factory() as db:
        session = db.scalars(select(TrainingSession).where(TrainingSession.status == "completed").order_by(TrainingSession.starts_at.desc())).first()
        codes = {
            "teacher": db.scalar(select(Employee.employee_no).join(WeeklySlot, WeeklySlot.employee_id == Employee.id).order_by(Employee.employee_no)),
            "program": db.scalar(select(Program.code).where(Program.id == session.program_id)),
            "session": session.code,
            "indicator": db.scalar(select(Indicator.code).order_by(Indicator.code)),
            "run": str(run_id),
            "attendee": db.scalar(select(Employee.employee_no).join(AttendanceRecord, AttendanceRecord.employee_id == Employee.id)
                                  .where(AttendanceRecord.session_id == session.id).order_by(Employee.employee_no)),
        }
    engine.dispose()
    users = {u.username: u.password for u in school.demo_users}
    employee = next(u for u in school.demo_users if u.username == "employee")
    return {**codes, "hr_password": users["hr"], "employee_password": users["employee"], "employee_no": employee.employee_no or ""}


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-csp') / 'school.db'}"
    codes = {**seed(url), "database_url": url}
    with live_server(url, NOW) as base:
        yield base, codes


@pytest.fixture
def hr_page(browser, school):
    base, codes = school
    context = browser.new_context(base_url=base, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_VIOLATIONS)
    pg = context.new_page()
    problems: list[str] = []
    # Refusals show as "Refused to ..." and through the event above; any other console error (htmx's
    # own, e.g. an attribute it cannot parse) is a broken page too.
    pg.on("console", lambda m: problems.append(m.text) if (m.type == "error" or "Refused to" in m.text) else None)
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.goto("/login")
    pg.fill("input[name=username]", "hr")
    pg.fill("input[name=password]", codes["hr_password"])
    pg.click("button[type=submit]")
    pg.wait_for_url(lambda u: "/login" not in u)
    yield pg, codes, problems
    context.close()


def visit(pg, path: str) -> None:
    response = pg.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    assert "content-security-policy" in response.headers
    pg.wait_for_load_state("networkidle")


def test_main_pages_open_without_a_single_csp_refusal(hr_page):
    pg, c, problems = hr_page
    paths = [
        "/", "/departments", "/employees", f"/employees/{c['teacher']}", "/imports", "/indicators", f"/indicators/{c['indicator']}",
        "/indicators/results", f"/indicators/results/{c['teacher']}", "/training", f"/training/programs/{c['program']}",
        f"/training/sessions/{c['session']}", "/training/programs/new", "/training/assessments/new", "/my/trainings", "/approvals",
        "/attendance/review", "/alerts", "/scheduling", "/reports", f"/reports/programs/{c['program']}", f"/reports/sessions/{c['session']}",
        f"/reports/employees/{c['teacher']}", f"/attendance/sessions/{c['session']}", f"/attendance/sessions/{c['session']}/qr",
        f"/attendance/employees/{c['attendee']}", "/account/password", "/api/docs",
    ]
    for path in paths:
        visit(pg, path)
        assert not problems, (path, problems)


def test_charts_draw_under_the_policy(hr_page):
    pg, c, problems = hr_page
    for path, holders in [
        ("/", ["#chart-kinds", "#chart-week"]),
        ("/reports", ["#chart-participation"]),
        (f"/reports/programs/{c['program']}", ["#chart-participation"]),
        ("/indicators/results", ["#chart-share"]),
        (f"/attendance/employees/{c['attendee']}", ["#chart-participation"]),
    ]:
        visit(pg, path)
        for holder in holders:
            assert pg.locator(holder).count() == 1, (path, holder)
            pg.wait_for_selector(f"{holder} canvas")
            box = pg.locator(f"{holder} canvas").first.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 100, (path, holder, box)
    assert not problems, problems


def test_computed_geometry_and_confirm_prompts_work_without_inline_code(hr_page):
    pg, c, problems = hr_page
    visit(pg, "/departments")
    depths = pg.eval_on_selector_all(".tree[data-style]", "els => els.map(e => e.style.getPropertyValue('--depth').trim())")
    assert "1" in depths, depths
    visit(pg, f"/employees/{c['teacher']}")
    tops = pg.eval_on_selector_all(".week [data-style^='top']", "els => els.map(e => e.style.top)")
    assert tops and all(t.endswith("%") for t in tops), tops

    visit(pg, f"/training/programs/{c['program']}")
    asked: list[str] = []

    def decline(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    pg.once("dialog", decline)
    pg.locator("form[data-confirm] button[type=submit]").first.click()
    pg.wait_for_timeout(300)
    assert asked and pg.url.endswith(f"/training/programs/{c['program']}")
    assert not problems, problems


def test_swagger_ui_renders_from_local_files(hr_page):
    pg, _c, problems = hr_page
    visit(pg, "/api/docs")
    pg.wait_for_selector(".swagger-ui .info .title")
    assert "TrainQuant" in pg.inner_text(".swagger-ui .info .title")
    # Past 135 operations Swagger UI renders the operations near the viewport only, so count a screenful.
    assert pg.locator(".opblock").count() >= 10
    assert not problems, problems


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_top_bar_fits_1366_pixels_in_both_languages(browser, school, lang):
    """The menus (issue 13: 13 flat items made the page 1,580-1,670 px wide in English and broke the
    Chinese labels a character a line at 1366 px): one line, no horizontal scroll from the top bar."""
    base, codes = school
    context, pg = _login(browser, base, "hr", codes["hr_password"], 1366, 768)
    for path in ("/", "/employees", "/training", "/reports", "/alerts", "/indicators"):
        visit(pg, f"{path}?lang={lang}")
        bar = pg.evaluate("""() => { const t = document.querySelector('.topbar');
            const labels = [...t.querySelectorAll('.mainnav > a, .navgroup > summary')];
            return {scroll: t.scrollWidth, client: t.clientWidth, page: document.documentElement.scrollWidth,
                    tallest: Math.max(...labels.map(l => l.getBoundingClientRect().height)), bar: t.getBoundingClientRect().height}; }""")
        assert bar["scroll"] <= bar["client"] <= 1366, (path, bar)
        assert bar["tallest"] <= bar["bar"], (path, bar)  # no label wraps onto a second line
        assert bar["page"] <= 1366, (path, bar)  # and the page itself scrolls only down
    # A menu opens on a click and shows its items.
    pg.click("nav.mainnav summary >> nth=1")
    assert pg.locator("details.navgroup[open] .menu a").first.is_visible()
    context.close()


def _login(browser, base, user, password, width, height=900, *, bypass_csp=False, **options):
    context = browser.new_context(base_url=base, viewport={"width": width, "height": height}, locale="zh-CN", bypass_csp=bypass_csp, **options)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto("/login")
    pg.fill("input[name=username]", user)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_url(lambda u: "/login" not in u)
    return context, pg


def _widths(pg, paths, lang, limit):
    wide = {}
    for path in paths:
        visit(pg, f"{path}{'&' if '?' in path else '?'}lang={lang}")
        width = pg.evaluate("document.documentElement.scrollWidth")
        if width > limit:
            wide[path] = width
    return wide


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_employee_page_fits_a_390_pixel_phone(browser, school, lang):
    """Issue 13: 我的出勤 was 1,198 px wide on a 390 px phone, 我的培训 674 px, the home page overflowed and
    the brand wrapped to three lines. Wide tables may scroll inside their card; the page never sideways."""
    base, codes = school
    context, pg = _login(browser, base, "employee", codes["employee_password"], 390, 844)
    pages = ["/", "/my/trainings", "/my/learning", "/attendance/me", "/checkin", f"/employees/{codes['employee_no']}", "/training",
             "/training/calendar", "/training/calendar?view=month"]
    assert _widths(pg, pages, lang, 390) == {}
    brand = pg.evaluate("document.querySelector('.topbar .brand').getBoundingClientRect().height")
    assert brand <= 40, brand  # one line
    context.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_hr_page_fits_1366_pixels(browser, school, lang):
    base, codes = school
    context, pg = _login(browser, base, "hr", codes["hr_password"], 1366, 768)
    pages = ["/", "/departments", "/employees", f"/employees/{codes['teacher']}", "/imports", "/training", f"/training/programs/{codes['program']}",
             f"/training/sessions/{codes['session']}", "/approvals", "/scheduling", "/attendance/review", "/alerts", "/indicators",
             f"/indicators/{codes['indicator']}", "/reports", "/reports?department=MKT", f"/reports/programs/{codes['program']}",
             f"/reports/sessions/{codes['session']}", f"/reports/employees/{codes['attendee']}", "/reports/case", "/training/calendar",
             "/training/calendar?view=month", f"/indicators/runs/{codes['run']}", f"/indicators/results/{codes['teacher']}",
             "/settings/campuses", "/settings/devices"]
    assert _widths(pg, pages, lang, 1366) == {}
    context.close()


def test_a_venue_geofence_takes_the_phones_own_location(browser, school):
    """Issue 13: "use my current location" on a phone standing in the room. The browser's position (here
    Playwright's, granted like a person would) fills the form; the page at 390 px has no sideways scroll."""
    base, codes = school
    context, pg = _login(browser, base, "hr", codes["hr_password"], 390, 844, geolocation={"latitude": 39.983421, "longitude": 116.316512},
                         permissions=["geolocation"])
    visit(pg, "/settings/campuses")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    section = pg.locator("section[data-site]").first
    section.locator("[data-testid=add-venue] summary").click()
    form = section.locator("[data-testid=add-venue] form")
    form.locator("[data-geolocate]").click()
    pg.wait_for_function("document.querySelector('section[data-site] [data-testid=add-venue] [name=latitude]').value !== ''")
    assert (form.locator("[name=latitude]").input_value(), form.locator("[name=longitude]").input_value()) == ("39.983421", "116.316512")
    assert "保存后生效" in form.locator("[data-geolocate-status]").inner_text()
    form.locator("[name=name]").fill("测试教室")
    form.locator("button[type=submit]").click()
    pg.wait_for_url(lambda u: "done=venue" in u)
    assert "测试教室" in pg.content() and "39.983421" in pg.content()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[\s\d,.:;()%/'-]+[A-Za-z]{2,}){2,}\b")
TEXT_OF_PAGE = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('script, style, code, .mono, .lang').forEach(e => e.remove());
  const texts = [];
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) { const t = walker.currentNode.nodeValue.trim(); if (t) texts.push(t); }
  const attrs = [...body.querySelectorAll('[title], [placeholder], [aria-label]')]
    .flatMap(e => ['title', 'placeholder', 'aria-label'].map(a => e.getAttribute(a) || ''));
  return [...texts, ...attrs].join(' \u00b6 ');  // a text node's words never run into the next one's
}"""


def _data_corpus(database_url: str) -> str:
    """Every text the school's data holds (names, titles, notes, reasons, course names): a page may show
    any of them in either language."""
    import sqlite3

    conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    out = []
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")') if (r[2] or "").upper().startswith(("VARCHAR", "TEXT", "JSON"))]
        for c in columns:
            out.extend(str(v) for (v,) in conn.execute(f'SELECT DISTINCT "{c}" FROM "{table}" WHERE "{c}" IS NOT NULL LIMIT 20000'))
    conn.close()
    return "\n".join(out)


LEAK_PAGES = ["/", "/employees", "/departments", "/training", "/training/calendar?view=month", "/approvals", "/scheduling", "/attendance/review", "/alerts", "/indicators",
              "/reports", "/imports", "/indicators/runs", "/settings/campuses", "/settings/devices"]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_no_ui_text_of_the_other_language_leaks_into_a_page(browser, school, lang):
    """Issue 13: English in zh-CN pages (alert details, proxy evidence, import errors) and Chinese in
    English ones (program titles, the xlsx). A page's text, data aside, is in its own language: on an
    English page every Chinese run is a data value; on a Chinese page no run of three English words
    is UI text (a new untranslated string shows as its English msgid)."""
    base, codes = school
    corpus = _data_corpus(codes["database_url"])
    context, pg = _login(browser, base, "hr", codes["hr_password"], 1366, 768)
    pages = [*LEAK_PAGES, f"/employees/{codes['teacher']}", f"/training/programs/{codes['program']}", f"/training/sessions/{codes['session']}",
             f"/reports/programs/{codes['program']}", f"/reports/sessions/{codes['session']}", f"/reports/employees/{codes['attendee']}",
             f"/indicators/runs/{codes['run']}", f"/indicators/results/{codes['teacher']}", f"/indicators/{codes['indicator']}"]
    leaks: dict[str, set[str]] = {}
    for path in pages:
        visit(pg, f"{path}{'&' if '?' in path else '?'}lang={lang}")
        text = pg.evaluate(TEXT_OF_PAGE)
        runs = CJK.findall(text) if lang == "en" else ENGLISH_RUN.findall(text)
        found = {r for r in runs if r.strip("，。、；：（）「」\u3000 ") and r.strip("\u3000") not in corpus}
        if found:
            leaks[path] = found
    context.close()
    assert leaks == {}, leaks


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(not AXE.exists(), reason="make setup installs axe-core (npm) into node_modules")
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_axe_finds_no_serious_or_critical_violation(browser, school, lang):
    """axe-core (served from node_modules, nothing downloaded) on the main pages. The test's context may
    run it under the pages' strict CSP only by bypassing the policy for its own script."""
    base, codes = school
    context, pg = _login(browser, base, "hr", codes["hr_password"], 1366, bypass_csp=True)
    pages = [*LEAK_PAGES, f"/employees/{codes['teacher']}", f"/training/sessions/{codes['session']}", f"/reports/programs/{codes['program']}",
             f"/indicators/runs/{codes['run']}", f"/indicators/{codes['indicator']}"]
    found: dict[str, list[str]] = {}
    for path in pages:
        pg.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        pg.wait_for_load_state("networkidle")
        pg.add_script_tag(path=str(AXE))
        result = pg.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                             ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                             ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
        if result:
            found[path] = result
    context.close()
    assert found == {}, found
