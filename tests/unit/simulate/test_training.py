"""The simulated training year: deterministic, the right shape, every result on its kind's scale."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from trainquant.simulate.institution.school import generate
from trainquant.simulate.training.generate import MEASURED_SINCE_DAYS, generate_training

TODAY = date(2026, 9, 1)


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


@pytest.fixture(scope="module")
def year(school):
    return generate_training(school, 2026)


def test_same_seed_same_year_and_another_seed_another(school, year):
    assert generate_training(school, 2026) == year
    assert generate_training(school, 7) != year


def test_counts_per_department_kind(school, year):
    kind = {d.code: d.kind for d in school.departments}
    dept = {e.employee_no: e.department for e in school.employees}
    programs = {p.code: p for p in year.programs}
    assert len(programs) == 9
    per_kind = Counter(programs[s.program_code].target_kinds[0] for s in year.sessions)
    assert per_kind["teaching"] > per_kind["marketing"] > 0 and per_kind["admin"] > 0
    for e in year.enrolments:
        program = programs[year.program_of(e.session_code)]
        assert kind[dept[e.employee_no]] in program.target_kinds
    people = Counter(kind[dept[e.employee_no]] for e in year.enrolments)
    assert set(people) == {"teaching", "marketing", "admin"}


def test_sessions_are_plausible(year):
    programs = {p.code: p for p in year.programs}
    by_program = Counter(s.code.rsplit("-S", 1)[0] for s in year.sessions)
    assert all(2 <= n <= 4 for n in by_program.values())
    weekend = 0
    for s in year.sessions:
        local = s.starts_at.astimezone(ZoneInfo("Asia/Shanghai"))
        target = programs[s.program_code].target_kinds[0]
        assert 20 <= s.capacity <= 40 and s.ends_at > s.starts_at
        assert year.first_day <= local.date() <= year.last_day + timedelta(days=7)
        if target == "teaching":
            assert local.weekday() < 5 and local.hour == 14 and s.checkin_methods == ("face",)
        elif target == "marketing":
            assert local.hour == 10 and s.checkin_methods == ("geo",)
            weekend += local.weekday() >= 5
        else:
            assert local.weekday() < 5 and local.hour == 10 and set(s.checkin_methods) <= {"fingerprint", "qr"}
        assert s.online or s.venue
    assert weekend > 0


@pytest.mark.parametrize("seed", [2026, 7, 11])
def test_no_room_is_booked_twice_at_once(school, seed):
    # The platform refuses a second session in a booked room (409 venue-busy): the simulated school never tries.
    sessions = [s for s in generate_training(school, seed).sessions if not s.online and s.venue is not None]
    for i, a in enumerate(sessions):
        for b in sessions[i + 1:]:
            if (a.site, a.venue) == (b.site, b.venue):
                assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a.code, b.code)


def test_every_assessment_is_on_its_kinds_scale(year):
    assert {a.kind for a in year.assessments} >= {"trial_lecture", "script_simulation", "case_analysis", "ielts", "communication", "error_rate"}
    for a in year.assessments:
        assert a.assessed_on <= year.today
        if a.kind == "trial_lecture":
            assert 2 <= len(a.ratings) <= 3
            assert all(0 <= s <= 100 and (s * 2) == int(s * 2) for _, s in a.ratings)
        elif a.kind in ("script_simulation", "communication", "online_test"):
            assert 0 <= a.score <= 100
        elif a.kind == "case_analysis":
            assert a.passed in (True, False) and a.score is None
        elif a.kind == "ielts":
            assert 0 <= a.score <= 9 and (a.score * 2) == int(a.score * 2)
        elif a.kind == "error_rate":
            assert 40 <= a.operations <= 60 and 0 <= a.errors <= a.operations
    assert 80 <= year.truth.mean("trial_lecture") <= 88
    assert 0.75 <= year.truth.mean("case_analysis") <= 0.95
    assert all(c.amount > 0 and isinstance(c.amount, Decimal) for c in year.costs)
    assert all(800 <= c.amount <= 3000 for c in year.costs if c.category == "trainer_fee" and "角色扮演" not in c.note)
    # The sales training since the school measures is scored role-play: actors for each of its sessions.
    since = year.today - timedelta(days=MEASURED_SINCE_DAYS)
    actors = [c for c in year.costs if "角色扮演" in c.note]
    assert actors and all(c.program_code == "SIM-SS" and c.incurred_on >= since and 4000 <= c.amount <= 6000 for c in actors)


def test_error_rates_fall_after_training(year):
    before, after = [], []
    for by_kind in year.truth.scores.values():
        rates = by_kind.get("error_rate", ())
        if len(rates) >= 2:
            before.append(rates[0])
            after.append(rates[-1])
    assert before and sum(after) < sum(before)


def test_onboarding_for_every_new_teacher(school, year):
    onboarded = {e.employee_no for e in year.enrolments if year.program_of(e.session_code) == "SIM-ONB"}
    new = {e.employee_no for e in school.employees if "new-teacher" in e.tags}
    assert new and new <= onboarded
    for e in year.enrolments:
        if year.program_of(e.session_code) == "SIM-ONB":
            assert e.source == "mandatory" and e.status == "approved" and e.due_date is not None


def test_some_rejected_and_some_pending(year):
    statuses = Counter(e.status for e in year.enrolments)
    assert statuses["approved"] > statuses["rejected"] > 0 and statuses["requested"] > 0 and statuses["cancelled"] > 0
    assert 0.04 < statuses["rejected"] / len(year.enrolments) < 0.14
    starts = {s.code: s.starts_at for s in year.sessions}
    for e in year.enrolments:
        assert [ev.to_status for ev in e.events][-1] == e.status
        assert all(a.to_status == b.from_status for a, b in zip(e.events, e.events[1:], strict=False))
        if e.status == "rejected":
            assert e.reason and [ev.to_status for ev in e.events] == ["requested", "rejected"]
        if e.status == "requested":
            assert starts[e.session_code].date() > year.today


@pytest.mark.parametrize("seed", [2026, 7, 11])
def test_the_demo_logins_have_a_year_of_history_never_in_two_sessions_at_once(seed):
    """Issue 13: the demo employee (黄清) had 2 past sessions and no assessments, so every employee page
    looked empty. The demo's employee and manager logins join every run they may attend."""
    school = generate(seed, today=TODAY)
    year = generate_training(school, seed)
    sessions = {s.code: s for s in year.sessions}
    cutoff = max(s.ends_at for s in year.sessions if s.status == "completed")
    for user in (u for u in school.demo_users if u.role in ("employee", "manager")):
        mine = [e for e in year.enrolments if e.employee_no == user.employee_no]
        held = [sessions[e.session_code] for e in mine if e.status == "approved" and sessions[e.session_code].ends_at <= cutoff]
        assert len(held) >= 8, (user.username, len(held))
        assert len({s.program_code for s in held}) >= 2
        assert max(s.starts_at for s in held) - min(s.starts_at for s in held) >= timedelta(days=150)  # over the year, not a month
        assert sum(1 for a in year.assessments if a.employee_no == user.employee_no) >= 2
        slots = sorted((sessions[e.session_code].starts_at, sessions[e.session_code].ends_at) for e in mine)
        assert all(b[0] >= a[1] for a, b in pairwise(slots)), user.username
