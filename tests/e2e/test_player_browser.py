"""Our course player in a real browser: a learner plays a video, tries to skip ahead and to speed it
past the course's limit, leaves it playing in a hidden tab, and walks away until the idle prompt; the
coverage the LRS computes from the player's statements is checked against the browser's own record of
what played (``video.played``). Debian's Chromium only; the server runs on the system clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.live import live_server, needs_chromium

pytestmark = needs_chromium

PASSWORD = "browser-test-password"
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
TIMEOUT_MS = 15_000


def seed(url: str, instance: Path) -> None:
    from trainquant.auth.service import create_user
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.learning.courses import add_uploaded_video
    from trainquant.learning.media import encode_demo_video
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee
    from trainquant.training.models import Program

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    clip = instance / "lecture.webm"
    encode_demo_video(clip, seconds=30)
    with unit_of_work(make_sessionmaker(engine)) as db:
        dept = Department(code="TEACH", name="教学部", kind="teaching")
        db.add(dept)
        db.flush()
        db.add(Employee(employee_no="E100", name="黄清", department_id=dept.id, status="active", created_at=NOW, updated_at=NOW))
        program = Program(code="ONL1", title="课堂互动（线上）", kind="online", created_at=NOW)
        db.add(program)
        db.flush()
        create_user(db, username="huang", password=PASSWORD, role="employee", now=NOW, employee_no="E100")
        add_uploaded_video(db, program, title="第一讲", upload=clip, instance=instance, home_page=Settings(env="test").home_page(),
                           max_speed=2.0, no_skipping=True, now=NOW)
    engine.dispose()


def _server(tmp_path: Path, monkeypatch, idle_minutes: float) -> Iterator[tuple[str, str]]:
    monkeypatch.setenv("TQ_LEARNING_IDLE_MINUTES", str(idle_minutes))
    url = f"sqlite:///{tmp_path / 'player.db'}"
    seed(url, tmp_path)
    with live_server(url, None) as base:
        yield base, url


@pytest.fixture
def server(tmp_path, monkeypatch):
    yield from _server(tmp_path, monkeypatch, idle_minutes=5)


@pytest.fixture
def idle_server(tmp_path, monkeypatch):
    yield from _server(tmp_path, monkeypatch, idle_minutes=0.05)  # 3 seconds


def _open_player(browser, base: str):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "huang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u, timeout=TIMEOUT_MS)
    page.goto(f"{base}/my/learning/ONL1/1")
    _when(page, "v.readyState >= 1", "loadedmetadata")
    page.evaluate("document.querySelector('video').muted = true")
    return context, page


def _when(page, condition: str, *events: str) -> None:
    """Resolve once ``condition`` (about the video ``v``) holds, checked now and at each of the video's
    ``events``: driven by the page's own events (the CSP forbids Playwright's in-page polling)."""
    page.evaluate(f"""() => new Promise((resolve, reject) => {{
        const v = document.querySelector('video');
        const check = () => {{ if ({condition}) {{ for (const e of {list(events)!r}) v.removeEventListener(e, check); resolve(); }} }};
        for (const e of {list(events)!r}) v.addEventListener(e, check);
        setTimeout(() => reject(new Error('never true: {condition}')), {TIMEOUT_MS});
        check();
    }})""")


def _posted(page, verb: str):
    """A wait for the player's POST of a statement with ``verb`` to be answered (then it is stored:
    the LRS commits before it answers, and the player posts one statement after another)."""
    return page.expect_response(lambda r: r.url.endswith("/xapi/statements") and r.request.method == "POST"
                                and f"verbs/{verb}" in (r.request.post_data or ""), timeout=TIMEOUT_MS)


def _progress(url: str):
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.learning.service import course_progress
    from trainquant.org.models import Employee
    from trainquant.training.models import Program

    engine = make_engine(Settings(env="test"), url=url)
    try:
        with make_sessionmaker(engine)() as db:
            from sqlalchemy import select

            emp = db.scalar(select(Employee.id).where(Employee.employee_no == "E100"))
            program = db.scalar(select(Program.id).where(Program.code == "ONL1"))
            return course_progress(db, program, [emp])[emp]
    finally:
        engine.dispose()


def _played_seconds(page) -> float:
    return page.evaluate("""() => { const r = document.querySelector('video').played; let s = 0;
        for (let i = 0; i < r.length; i++) s += r.end(i) - r.start(i); return s; }""")


def test_the_player_counts_what_played_in_view_and_nothing_else(browser, server):
    base, url = server
    context, page = _open_player(browser, base)
    try:
        page.evaluate("document.querySelector('video').play()")
        _when(page, "v.currentTime >= 3", "timeupdate")
        # Skipping ahead is refused: the player jumps back to what was watched.
        page.evaluate("document.querySelector('video').currentTime = 25")
        _when(page, "v.currentTime < 8 && !v.seeking", "seeked", "timeupdate")
        assert "只能后退" in page.inner_text("[data-testid=player-note]")
        # Faster than the course allows is capped.
        page.evaluate("document.querySelector('video').playbackRate = 4")
        _when(page, "v.playbackRate === 2", "ratechange")
        page.evaluate("document.querySelector('video').playbackRate = 1")
        with _posted(page, "paused"):
            page.evaluate("document.querySelector('video').pause()")
        visible = _played_seconds(page)
        progress = _progress(url)
        assert progress.videos[0].coverage.watched == pytest.approx(visible, abs=0.5)
        # Then left playing in a hidden tab: the browser plays it, the LRS does not count it.
        page.evaluate("""Object.defineProperty(document, 'visibilityState', {get: () => 'hidden', configurable: true});
                         document.dispatchEvent(new Event('visibilitychange'))""")
        page.evaluate("document.querySelector('video').play()")
        before = page.evaluate("document.querySelector('video').currentTime")
        _when(page, f"v.currentTime >= {before + 2}", "timeupdate")
        with _posted(page, "paused"):
            page.evaluate("document.querySelector('video').pause()")
        progress = _progress(url)
        coverage = progress.videos[0].coverage
        assert coverage.excluded["hidden"] >= 1.5
        assert coverage.watched == pytest.approx(visible, abs=0.5)
        assert not coverage.complete
    finally:
        context.close()


def test_the_idle_prompt_pauses_and_takes_back_the_unattended_time(browser, idle_server):
    base, url = idle_server
    context, page = _open_player(browser, base)
    try:
        with _posted(page, "paused"):  # the idle prompt's pause
            page.evaluate("document.querySelector('video').play()")
            page.wait_for_selector("dialog[open]", timeout=TIMEOUT_MS)
        assert page.evaluate("document.querySelector('video').paused")
        progress = _progress(url)
        assert progress.videos[0].coverage.excluded["idle"] >= 2.5
        assert progress.videos[0].coverage.watched < 0.5
        page.click("[data-testid=still-here]")
        _when(page, "!v.paused", "play", "playing")
    finally:
        context.close()
