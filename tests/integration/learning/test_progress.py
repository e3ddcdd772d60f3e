"""A learner's own player posting video-profile statements through the LRS, and what they add up to:
coverage per video, the program's completion, study time and the indicator facts."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import NOW, login, make_employee, make_user
from tests.integration.learning.conftest import HOME, V1, V2, basic, player
from trainquant.indicators.facts import LearningFacts
from trainquant.learning import video
from trainquant.learning.models import CourseVideo
from trainquant.learning.service import course_progress, daily_program_study_seconds, daily_study_seconds
from trainquant.training.models import Program


def test_the_players_statements_give_exact_coverage_and_study_time(client, db, clock, learner, program):
    make_user(db, username="huang", role="employee", employee=learner)
    send = player(client, clock, login(client, "huang"))
    # Video 1 watched through, with a heartbeat half-way.
    send(video.PLAYED, V1, "tab-1", time=0.0)
    send(video.HEARTBEAT, V1, "tab-1", advance=30, time=30.0)
    send(video.PAUSED, V1, "tab-1", advance=30, time=60.0)
    send(video.COMPLETED, V1, "tab-1", time=60.0)
    # Video 2: ten seconds, a seek to near the end, the last five, and a claim of completion.
    send(video.PLAYED, V2, "tab-2", advance=5, time=0.0)
    send(video.SEEKED, V2, "tab-2", advance=10, time_from=10.0, time_to=55.0)
    send(video.PAUSED, V2, "tab-2", advance=5, time=60.0)
    send(video.COMPLETED, V2, "tab-2", time=60.0, progress=1)
    # Then video 2 again in a background tab: played, but hidden.
    send(video.PLAYED, V2, "tab-3", advance=5, time=10.0, hidden=True)
    send(video.PAUSED, V2, "tab-3", advance=40, time=50.0, hidden=True)

    progress = course_progress(db, program.id, [learner.id])[learner.id]
    first, second = (v.coverage for v in progress.videos)
    assert first.watched == pytest.approx(60.0) and first.complete
    assert second.watched == pytest.approx(15.0) and not second.complete
    assert second.excluded["hidden"] == pytest.approx(40.0)
    assert not progress.complete
    assert progress.ratio == pytest.approx(75.0 / 120.0)
    # Study time: 60 s on video 1 and 10 + 5 s on video 2; the hidden tab's 40 s are not study.
    assert progress.study_seconds == pytest.approx(75.0)
    assert progress.course_seconds == pytest.approx(60 + 15 + 40)  # the three tabs open one after another

    facts = list(LearningFacts().load(db, [learner.id], start=date(2026, 9, 1), end=date(2026, 9, 1), kinds=frozenset({"online_hours"})))
    assert [(f.kind, f.value, f.program) for f in facts] == [("online_hours", pytest.approx(75.0 / 3600), "ONL1")]


def test_two_programs_played_at_once_count_once_for_the_first_in_code_order(client, db, clock, learner, program):
    other = Program(code="ABC", title="办公系统（线上）", kind="online", created_at=NOW)
    db.add(other)
    db.flush()
    v3 = "http://school.example/course/ABC/video/1"
    db.add(CourseVideo(program_id=other.id, position=1, title="第1讲", activity_id=v3, length_s=120.0, max_speed=2.0, no_skipping=False,
                       created_at=NOW))
    db.flush()
    make_user(db, username="huang", role="employee", employee=learner)
    send = player(client, clock, login(client, "huang"))
    # ONL1's video 1 for 60 s; ABC's video in another tab from 30 s on, for 60 s: 30 s of the two at once.
    send(video.PLAYED, V1, "tab-1", time=0.0)
    send(video.PLAYED, v3, "tab-2", advance=30, time=0.0)
    send(video.PAUSED, V1, "tab-1", advance=30, time=60.0)
    send(video.PAUSED, v3, "tab-2", advance=30, time=60.0)
    day = date(2026, 9, 1)
    per_program = daily_program_study_seconds(db, [learner.id], start=day, end=day, zone="Asia/Shanghai")
    # ABC comes first in code order and keeps its whole 60 s; ONL1 adds the 30 s before ABC began
    assert per_program == {(learner.id, day, "ABC"): pytest.approx(60.0), (learner.id, day, "ONL1"): pytest.approx(30.0)}
    assert daily_study_seconds(db, [learner.id], start=day, end=day, zone="Asia/Shanghai") == {(learner.id, day): pytest.approx(90.0)}


def test_a_client_keys_statements_count_by_their_timestamps_and_voided_ones_do_not(client, db, key, learner, program):
    actor = {"account": {"homePage": HOME, "name": "E100"}}

    def statement(sid, verb, seconds, at):
        return {"id": sid, "actor": actor, "verb": {"id": verb}, "object": {"id": V1}, "timestamp": at,
                "result": {"extensions": {video.TIME: seconds}}, "context": {"extensions": {video.SESSION_ID: "ext-1"}}}

    ids = ["0d6c2a4e-1b7f-4c7e-9a51-000000000001", "0d6c2a4e-1b7f-4c7e-9a51-000000000002"]
    batch = [statement(ids[0], video.PLAYED, 0.0, "2026-09-01T01:00:00Z"), statement(ids[1], video.PAUSED, 60.0, "2026-09-01T01:01:00Z")]
    assert client.post("/xapi/statements", json=batch, headers=basic(key)).status_code == 200
    assert course_progress(db, program.id, [learner.id])[learner.id].videos[0].coverage.complete
    void = {"actor": {"mbox": "mailto:hr@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": ids[1]}}
    assert client.post("/xapi/statements", json=void, headers=basic(key)).status_code == 200
    assert course_progress(db, program.id, [learner.id])[learner.id].videos[0].coverage.watched == 0


def test_the_pages_show_the_learner_and_hr_the_same_figures(client, db, clock, learner, program):
    make_user(db, username="huang", role="employee", employee=learner)
    csrf = login(client, "huang")
    send = player(client, clock, csrf)
    send(video.PLAYED, V1, "tab-1", time=0.0)
    send(video.PAUSED, V1, "tab-1", advance=60, time=60.0)
    mine = client.get("/my/learning", params={"lang": "zh_CN"})
    assert mine.status_code == 200
    assert "我的线上课程" in mine.text and "已观看 50.0%" in mine.text and "已完成" in mine.text
    assert client.get("/training/programs/ONL1/learning").status_code == 403  # a learner is not HR
    client.post("/logout", data={"csrf_token": csrf})
    make_user(db, username="hr1", role="hr")
    login(client, "hr1")
    page = client.get("/training/programs/ONL1/learning", params={"lang": "en"})
    assert page.status_code == 200
    assert 'data-employee="E100"' in page.text and "50.0%" in page.text and "1 of 1 learners complete" not in page.text


def test_the_dropoff_chart_and_a_persons_history(client, db, clock, learner, program):
    make_user(db, username="huang", role="employee", employee=learner)
    csrf = login(client, "huang")
    send = player(client, clock, csrf)
    send(video.PLAYED, V1, "tab-1", time=0.0)
    send(video.PAUSED, V1, "tab-1", advance=30, time=30.0)  # stops half-way
    mine = client.get(f"/learning/people/{learner.employee_no}", params={"lang": "en"})
    assert mine.status_code == 200 and 'data-program="ONL1"' in mine.text and "0.5" in mine.text  # 30 s = 0.5 min that day
    other = make_employee(db, employee_no="E200", department=learner.department, name="李雷")
    assert client.get(f"/learning/people/{other.employee_no}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    make_user(db, username="hr1", role="hr")
    hr_csrf = login(client, "hr1")
    page = client.get("/training/programs/ONL1/learning")
    chart = json.loads(page.text.split('id="chart-dropoff-data">', 1)[1].split("</script>", 1)[0])
    first = chart["series"][0]["values"]
    # Twentieths of a 60 s video, sampled at their middles: the first ten watched by everyone, then nobody.
    assert first == [100.0] * 10 + [0.0] * 10
    assert chart["series"][1]["values"] == [0.0] * 20  # nobody started video 2
    # HR sets a quiz: an assessment kind scored in points; a pass/fail kind is refused.
    ok = client.post("/training/programs/ONL1/quiz", data={"csrf_token": hr_csrf, "quiz_kind": "online_test"}, follow_redirects=False)
    assert ok.status_code == 303
    bad = client.post("/training/programs/ONL1/quiz", data={"csrf_token": hr_csrf, "quiz_kind": "case_analysis"}, params={"lang": "en"})
    assert bad.status_code == 422 and "scored in points" in bad.text
