"""Loading the simulated school into a migrated database, through the import write path."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, login
from trainquant.auth.models import User
from trainquant.org.models import (
    DatedClass,
    Department,
    Employee,
    EmployeeTag,
    ExternalId,
    GrowthNote,
    Site,
    Venue,
    WeeklySlot,
)
from trainquant.org.rules import Slot, weekly_hours
from trainquant.simulate.institution.school import generate
from trainquant.simulate.load import is_loaded, load_school

TODAY = NOW.date()


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


@pytest.fixture
def loaded(db, school):
    summary = load_school(db, school, now=NOW)
    db.commit()
    return summary


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_everything_is_loaded(db, school, loaded):
    assert loaded.employees.created == 300 and not loaded.employees.errors
    assert count(db, Employee) == 300
    kinds = Counter(db.scalars(select(Department.kind).join(Employee, Employee.department_id == Department.id)))
    assert kinds == {"teaching": 180, "marketing": 60, "admin": 60}
    assert count(db, Department) == loaded.departments == 13
    assert count(db, Site) == 3 and count(db, Venue) == loaded.venues == sum(len(s.venues) for s in school.sites)
    assert count(db, WeeklySlot) == len(school.slots)
    assert count(db, DatedClass) == len(school.classes)
    assert loaded.timetable.created == len(school.slots) + len(school.classes)
    assert count(db, GrowthNote) == loaded.growth_notes == len(school.growth)
    assert count(db, ExternalId) == sum(len(e.external_ids) for e in school.employees)
    assert db.scalar(select(func.count()).select_from(EmployeeTag).where(EmployeeTag.tag == "new-teacher")) == 27
    assert count(db, User) == loaded.users == 4
    assert is_loaded(db, school)


def test_a_second_load_creates_nothing(db, school, loaded):
    again = load_school(db, school, now=NOW)
    assert again.created == 0 and again.updated == 0
    assert again.employees.unchanged == 300
    assert again.timetable.unchanged == len(school.slots) + len(school.classes)
    assert count(db, Employee) == 300 and count(db, WeeklySlot) == len(school.slots)


def test_the_database_agrees_with_the_ground_truth(db, school, loaded):
    by_no = {e.employee_no: e for e in db.scalars(select(Employee))}
    slots: dict[int, list[Slot]] = {}
    for s in db.scalars(select(WeeklySlot)):
        slots.setdefault(s.employee_id, []).append(Slot(s.weekday, s.start_time, s.end_time, s.valid_from, s.valid_to))
    for no, truth in school.truth.employees.items():
        emp = by_no[no]
        assert weekly_hours(slots.get(emp.id, []), TODAY) == pytest.approx(truth.weekly_class_hours)
    for rec in school.employees:
        emp = by_no[rec.employee_no]
        assert (emp.name, emp.hourly_cost, emp.hire_date, emp.status) == (rec.name, rec.hourly_cost, rec.hire_date, rec.status)
        assert (emp.manager.employee_no if emp.manager else None) == rec.manager_no
        assert emp.department.code == rec.department and emp.site.code == rec.site


def test_dated_classes_are_stored_in_utc_from_campus_time(db, school, loaded):
    first = school.classes[0]
    emp_id = db.scalar(select(Employee.id).where(Employee.employee_no == first.employee_no))
    stored = db.scalars(select(DatedClass).where(DatedClass.employee_id == emp_id).order_by(DatedClass.starts_at)).first()
    assert stored.starts_at.utcoffset().total_seconds() == 0
    assert (stored.starts_at.hour + 8) % 24 == first.start_time.hour


@pytest.mark.parametrize("username", ["admin", "hr", "manager", "employee"])
def test_demo_users_log_in_with_the_printed_passwords(client, db, school, loaded, username):
    user = next(u for u in school.demo_users if u.username == username)
    login(client, user.username, user.password)
    me = client.get("/api/v1/me").json()
    assert me["role"] == user.role


def test_the_manager_sees_the_teaching_department_only(client, db, school, loaded):
    user = next(u for u in school.demo_users if u.role == "manager")
    login(client, user.username, user.password)
    page = client.get("/api/v1/employees", params={"page_size": 500}).json()
    assert page["total"] == 180
    assert client.get("/api/v1/employees/M0001").status_code == 404


def test_the_employee_sees_their_own_timetable(client, db, school, loaded):
    user = next(u for u in school.demo_users if u.role == "employee")
    login(client, user.username, user.password)
    monday = TODAY - timedelta(days=TODAY.weekday()) + timedelta(weeks=2)  # a week wholly inside the term
    week = client.get(f"/api/v1/employees/{user.employee_no}/timetable", params={"week_of": monday.isoformat()}).json()
    make_ups = sum(
        (datetime.combine(c.day, c.end_time) - datetime.combine(c.day, c.start_time)).total_seconds() / 3600
        for c in school.classes
        if c.employee_no == user.employee_no and monday <= c.day < monday + timedelta(days=7)
    )
    expected = school.truth.employees[user.employee_no].weekly_class_hours + make_ups
    assert week["weekly_hours"] == pytest.approx(expected, abs=0.01)
    assert client.get("/api/v1/employees/T0001").status_code == 404
