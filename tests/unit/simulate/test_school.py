"""The generated case school: deterministic, the right shape, plausible people, truth consistent with data."""

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from trainquant.org.models import EXTERNAL_SYSTEMS
from trainquant.org.rules import Slot, weekly_hours
from trainquant.simulate.institution.growth import TOPICS
from trainquant.simulate.institution.names import (
    ENGLISH_FIRST,
    ENGLISH_LAST,
    is_plausible_chinese_name,
)
from trainquant.simulate.institution.school import generate, term_start
from trainquant.simulate.institution.structure import DEPARTMENTS, SITES

TODAY = date(2026, 9, 1)


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


def kind_of(school, e):
    return school.truth.employees[e.employee_no].kind


def test_same_seed_gives_the_same_school_and_another_seed_another(school):
    assert generate(2026, today=TODAY) == school
    other = generate(7, today=TODAY)
    assert other != school
    assert [e.name for e in other.employees] != [e.name for e in school.employees]


def test_headcounts_are_the_case_schools():
    school = generate(2026, today=TODAY)
    assert len(school.employees) == 300
    assert Counter(kind_of(school, e) for e in school.employees) == {"teaching": 180, "marketing": 60, "admin": 60}
    kinds = {d.code: d.kind for d in DEPARTMENTS}
    for e in school.employees:
        assert kinds[e.department] == kind_of(school, e)


def test_department_tree():
    by_code = {d.code: d for d in DEPARTMENTS}
    roots = [d for d in DEPARTMENTS if d.parent_code is None]
    assert [r.name for r in roots] == ["总部"] and roots[0].kind == "other"
    children = {code: sorted(d.name for d in DEPARTMENTS if d.parent_code == code) for code in by_code}
    assert children["HQ"] == sorted(["教学部", "市场部", "行政部"])
    assert children["TEACH"] == sorted(["雅思组", "托福组", "少儿英语组", "外教组"])
    assert children["MKT"] == sorted(["课程顾问组", "渠道推广组"])
    assert children["ADM"] == sorted(["前台接待", "教务", "财务人事"])
    assert all(d.name_en and d.code for d in DEPARTMENTS)
    # Parents are listed before their children, so a loader can create them in order.
    seen: set[str] = set()
    for d in DEPARTMENTS:
        assert d.parent_code is None or d.parent_code in seen
        seen.add(d.code)


def test_sites_and_venues():
    assert len(SITES) == 3
    for site in SITES:
        assert site.timezone == "Asia/Shanghai"
        assert 3 <= len(site.venues) <= 6
        assert len({v.name for v in site.venues}) == len(site.venues)
        assert {v.use for v in site.venues} >= {"classroom", "training_room", "meeting_room"}
        for v in site.venues:
            assert 30 <= v.radius_m <= 80
            assert 18 < v.latitude < 54 and 73 < v.longitude < 135  # inside China


def test_employee_numbers_unique_and_shaped(school):
    numbers = [e.employee_no for e in school.employees]
    assert len(set(numbers)) == 300
    prefix = {"teaching": "T", "marketing": "M", "admin": "A"}
    for e in school.employees:
        assert re.fullmatch(rf"{prefix[kind_of(school, e)]}\d{{4}}", e.employee_no)


def test_names_are_plausible(school):
    names = [e.name for e in school.employees]
    assert len(set(names)) == len(names)
    foreign = [e for e in school.employees if "native-speaker" in e.tags]
    assert 5 <= len(foreign) <= 20 and all(e.department == "TEACH-NATIVE" and e.position in ("外教", "外教主管") for e in foreign)
    for e in foreign:
        first, last = e.name.split(" ")
        assert first in ENGLISH_FIRST and last in ENGLISH_LAST
    for e in school.employees:
        if e not in foreign:
            assert is_plausible_chinese_name(e.name), e.name
    surnames = Counter(e.name[0] for e in school.employees if e not in foreign)
    assert surnames.most_common(1)[0][0] in "王李张刘陈"  # common surnames dominate


def test_new_teachers_are_fifteen_percent_hired_in_the_last_six_months(school):
    teachers = school.employees_of_kind("teaching")
    new = [e for e in teachers if "new-teacher" in e.tags]
    assert len(new) == 27
    half_year = TODAY - timedelta(days=182)
    assert all(e.hire_date > half_year for e in new)
    assert all(e.hire_date <= half_year for e in teachers if e not in new)
    assert min(e.hire_date for e in school.employees) >= TODAY - timedelta(days=8 * 366)


@pytest.mark.parametrize(("kind", "low", "high"), [("teaching", 60, 180), ("marketing", 45, 90), ("admin", 35, 70)])
def test_hourly_costs_by_kind(school, kind, low, high):
    costs = [e.hourly_cost for e in school.employees_of_kind(kind)]
    assert all(isinstance(c, Decimal) and c == c.quantize(Decimal("0.01")) for c in costs)
    assert low <= min(costs) and max(costs) <= high


def test_statuses_are_mostly_active(school):
    statuses = Counter(e.status for e in school.employees)
    assert statuses["active"] >= 250
    assert set(statuses) <= {"active", "probation", "on_leave"}
    for e in school.employees:
        if e.status == "probation":
            assert (TODAY - e.hire_date).days < 90


def test_managers_are_group_heads(school):
    by_no = {e.employee_no: e for e in school.employees}
    heads = [e for e in school.employees if e.manager_no is None]
    assert sorted(h.department for h in heads) == ["ADM", "MKT", "TEACH"]
    for e in school.employees:
        if e.manager_no is None:
            continue
        boss = by_no[e.manager_no]
        assert "team-lead" in boss.tags
        parent = {d.code: d.parent_code for d in DEPARTMENTS}[e.department]
        assert boss.department in (e.department, parent)
    assert by_no["T0001"].position == "教学总监"


def test_external_ids_unique_per_system_and_complete(school):
    for system in EXTERNAL_SYSTEMS:
        values = [v for e in school.employees for s, v in e.external_ids if s == system]
        assert len(values) == len(set(values)), system
    for e in school.employees:
        systems = {s for s, _ in e.external_ids}
        assert {"device_pin", "wecom", "dingtalk", "feishu", "oa"} <= systems
        assert ("teaching_platform" in systems) == (kind_of(school, e) == "teaching")
        assert ("crm" in systems) == (kind_of(school, e) == "marketing")
        assert dict(e.external_ids)["device_pin"].isdigit()


def test_growth_notes_are_dated_sourced_and_about_real_weaknesses(school):
    hired = {e.employee_no: e.hire_date for e in school.employees}
    noted_teachers = {g.employee_no for g in school.growth if school.truth.employees[g.employee_no].kind == "teaching"}
    assert len(noted_teachers) >= 50
    keys = set()
    for g in school.growth:
        assert g.kind in ("need", "weakness") and g.tag in TOPICS and g.note
        assert hired[g.employee_no] <= g.noted_on <= TODAY
        if g.kind == "weakness":
            assert g.tag in school.truth.employees[g.employee_no].weaknesses
        keys.add((g.employee_no, g.kind, g.tag, g.source, g.noted_on))
    assert len(keys) == len(school.growth)
    assert {"student-feedback", "manager", "self"} <= {g.source for g in school.growth}


def test_truth_matches_the_emitted_data(school):
    truth = school.truth
    assert set(truth.employees) == {e.employee_no for e in school.employees}
    assert truth.term_start == term_start(TODAY) == date(2026, 9, 1)
    for e in school.employees_of_kind("teaching"):
        slots = [Slot(s.weekday, s.start_time, s.end_time, s.valid_from, s.valid_to) for s in school.slots_of(e.employee_no)]
        assert weekly_hours(slots, TODAY) == pytest.approx(truth.employees[e.employee_no].weekly_class_hours)
    assert {s.employee_no for s in school.slots} == {e.employee_no for e in school.employees_of_kind("teaching")}
    assert 0.70 <= sum(t.attendance_propensity for t in truth.of_kind("teaching")) / 180 <= 0.82  # the case's 75%
    assert 4.1 <= sum(t.student_rating for t in truth.of_kind("teaching")) / 180 <= 4.5
    assert 0.08 <= sum(t.conversion_rate for t in truth.of_kind("marketing")) / 60 <= 0.12
    assert 0.03 <= sum(t.error_rate for t in truth.of_kind("admin")) / 60 <= 0.07
    assert truth.marketing_peak_weekdays == (5, 6)
    assert any(p.department == "MKT" and p.weekdays == (5, 6) for p in truth.peaks)


def test_demo_users(school):
    users = {u.username: u for u in school.demo_users}
    assert {u: users[u].role for u in users} == {"admin": "admin", "hr": "hr", "manager": "manager", "employee": "employee"}
    assert users["manager"].department == "TEACH" and users["manager"].employee_no == "T0001"
    teacher = next(e for e in school.employees if e.employee_no == users["employee"].employee_no)
    assert kind_of(school, teacher) == "teaching" and teacher.status == "active"
    assert all(len(u.password) >= 8 for u in school.demo_users)


@pytest.mark.parametrize(("today", "start"), [(date(2026, 1, 14), date(2025, 9, 1)), (date(2026, 1, 15), date(2026, 1, 15)),
                                              (date(2026, 6, 30), date(2026, 3, 1)), (date(2026, 11, 28), date(2026, 9, 1))])
def test_term_start(today, start):
    assert term_start(today) == start


def test_a_seed_without_an_active_hr_clerk_still_has_demo_users():
    # Found by hypothesis: seed 3660 on 2025-01-01 left no active 人事专员 and the generator stopped.
    from datetime import date

    from trainquant.simulate import generate

    school = generate(3660, today=date(2025, 1, 1))
    users = {u.username: u for u in school.demo_users}
    assert set(users) == {"admin", "hr", "manager", "employee"}
    by_no = {e.employee_no: e for e in school.employees}
    assert by_no[users["hr"].employee_no].department.startswith("ADM")
    assert by_no[users["employee"].employee_no].department.startswith("TEACH-")
