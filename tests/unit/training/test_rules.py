"""The pure training rules, table by table: transitions, who may act, eligibility, trainers, mandatory, scales."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.training import rules
from trainquant.training.rules import (
    ACTIONS,
    APPROVED,
    CANCELLED,
    REJECTED,
    REQUESTED,
    WAITLISTED,
    Actor,
    Booking,
    Candidate,
    Eligibility,
    Opening,
    Place,
    ProgramEnrolment,
    Rating,
    Refused,
    Result,
    Scale,
    SessionState,
)

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 9, 1)
LATER = NOW + timedelta(days=7)
EMP, DEPT, OTHER_DEPT = 7, 10, 20

HR = Actor(name="hr", can_enrol=True, can_approve=True, can_manage=True, department_ids=None)
MANAGER = Actor(name="boss", employee_id=99, can_enrol=True, can_approve=True, department_ids=frozenset({DEPT}))
STRANGER = Actor(name="other-boss", employee_id=98, can_enrol=True, can_approve=True, department_ids=frozenset({OTHER_DEPT}))
SELF = Actor(name="t1", employee_id=EMP, can_enrol=True, department_ids=frozenset())
COLLEAGUE = Actor(name="t2", employee_id=8, can_enrol=True, department_ids=frozenset())


def session(**kw) -> SessionState:
    return SessionState(**{"starts_at": LATER, "capacity": 10, **kw})


def roster(status: str | None, *others: Place, source: str = "self") -> list[Place]:
    mine = [] if status is None else [Place(EMP, status, source, 1 if status == WAITLISTED else None)]
    return mine + list(others)


def act(action: str, actor: Actor = HR, *, status: str | None = None, places=None, reason: str | None = "because", now=NOW, **session_kw):
    return rules.act(
        action, actor=actor, employee_id=EMP, department_id=DEPT, session=session(**session_kw),
        places=roster(status) if places is None else places, now=now, reason=reason,
    )


def refusal(fn, *args, **kw) -> Refused:
    with pytest.raises(Refused) as info:
        fn(*args, **kw)
    return info.value


# ---------------------------------------------------------------- every (action, state) pair

STATES = (None, REQUESTED, APPROVED, REJECTED, WAITLISTED, CANCELLED)
# (action, from) -> to with a free seat; every pair not listed must be refused as a conflict.
ALLOWED = {
    ("request", None): REQUESTED,
    ("request", CANCELLED): REQUESTED,
    ("enrol", None): APPROVED,
    ("enrol", CANCELLED): APPROVED,
    ("approve", REQUESTED): APPROVED,
    ("reject", REQUESTED): REJECTED,
    ("override_approve", REQUESTED): APPROVED,
    ("override_approve", REJECTED): APPROVED,
    ("override_reject", REQUESTED): REJECTED,
    ("override_reject", APPROVED): REJECTED,
    ("override_reject", WAITLISTED): REJECTED,
    ("cancel", REQUESTED): CANCELLED,
    ("cancel", APPROVED): CANCELLED,
    ("cancel", WAITLISTED): CANCELLED,
}


def actor_for(action: str) -> Actor:
    # Each action by someone entitled to it: the employee requests, the manager decides, HR the rest.
    return {"request": SELF, "approve": MANAGER, "reject": MANAGER}.get(action, HR)


@pytest.mark.parametrize("action,state", [(a, s) for a in ACTIONS for s in STATES], ids=lambda v: str(v))
def test_every_transition(action, state):
    expected = ALLOWED.get((action, state))
    if expected is None:
        err = refusal(act, action, actor_for(action), status=state)
        assert err.kind == "conflict", err.message
        return
    (change,) = act(action, actor_for(action), status=state)
    assert (change.from_status, change.to_status) == (state, expected)
    assert change.actor == actor_for(action).name and change.reason == "because"


def test_the_table_is_the_documented_one():
    documented = {(a, s) for a in ACTIONS for s in STATES if s in rules.TRANSITIONS[a][0]}
    assert documented == set(ALLOWED)


@pytest.mark.parametrize("action", ["enrol", "approve", "override_approve"])
def test_a_full_session_puts_people_on_the_waiting_list(action):
    full = [Place(1, APPROVED), Place(2, APPROVED)]
    state = REJECTED if action == "override_approve" else (REQUESTED if action == "approve" else None)
    (change,) = act(action, actor_for(action), places=roster(state, *full), capacity=2)
    assert change.to_status == WAITLISTED and change.waitlist_position == 1


def test_a_program_without_approval_seats_the_requester_at_once():
    (change,) = act("request", SELF, requires_approval=False)
    assert change.to_status == APPROVED
    (change,) = act("request", SELF, places=[Place(1, APPROVED), Place(2, WAITLISTED, waitlist_position=4)], requires_approval=False, capacity=1)
    assert (change.to_status, change.waitlist_position) == (WAITLISTED, 5)


def test_a_newcomer_queues_behind_those_already_waiting():
    # Not reachable through the rules (a free seat is always given away), but never jump a queue.
    places = [Place(1, APPROVED), Place(2, WAITLISTED, waitlist_position=1)]
    (change,) = act("enrol", places=places, capacity=5)
    assert (change.to_status, change.waitlist_position) == (WAITLISTED, 2)


@pytest.mark.parametrize("action,state", [("cancel", APPROVED), ("override_reject", APPROVED)])
def test_a_freed_seat_goes_to_the_longest_waiting(action, state):
    places = roster(state, Place(1, APPROVED), Place(2, WAITLISTED, waitlist_position=3), Place(3, WAITLISTED, waitlist_position=2))
    changes = act(action, places=places, capacity=2)
    assert [(c.employee_id, c.to_status) for c in changes] == [(EMP, changes[0].to_status), (3, APPROVED)]
    assert changes[1].actor == "system" and changes[1].waitlist_position is None


def test_cancelling_a_waiting_place_promotes_nobody():
    places = roster(WAITLISTED, Place(1, APPROVED), Place(2, WAITLISTED, waitlist_position=2))
    assert len(act("cancel", places=places, capacity=1)) == 1


# ---------------------------------------------------------------- who may act


@pytest.mark.parametrize(
    "action,actor,state,source",
    [
        ("approve", STRANGER, REQUESTED, "self"),  # a manager of another department
        ("reject", STRANGER, REQUESTED, "self"),
        ("approve", SELF, REQUESTED, "self"),  # nobody approves themselves
        ("approve", Actor(name="hr-self", employee_id=EMP, can_manage=True, can_approve=True, department_ids=None), REQUESTED, "self"),
        ("approve", COLLEAGUE, REQUESTED, "self"),  # no approve permission
        ("request", COLLEAGUE, None, "self"),  # requests are for oneself
        ("request", HR, None, "self"),  # HR without an employee record of this person
        ("enrol", MANAGER, None, "self"),
        ("override_approve", MANAGER, REJECTED, "self"),
        ("override_reject", MANAGER, APPROVED, "self"),
        ("cancel", COLLEAGUE, APPROVED, "self"),
        ("cancel", MANAGER, APPROVED, "self"),
        ("cancel", SELF, APPROVED, "mandatory"),  # only HR takes a mandatory training back
    ],
)
def test_who_may_act(action, actor, state, source):
    err = refusal(act, action, actor, places=roster(state, source=source))
    assert err.kind == "forbidden", err.message


def test_the_forbidden_answer_comes_before_the_state():
    # A manager of another department learns nothing about the enrolment's state.
    assert refusal(act, "approve", STRANGER, status=APPROVED).kind == "forbidden"


def test_hr_cancels_a_mandatory_place_and_the_employee_their_own():
    assert act("cancel", HR, places=roster(APPROVED, source="mandatory"))[0].to_status == CANCELLED
    assert act("cancel", SELF, status=REQUESTED)[0].to_status == CANCELLED


# ---------------------------------------------------------------- time, cancelled sessions, reasons


@pytest.mark.parametrize("action,state", [("request", None), ("enrol", None), ("approve", REQUESTED), ("override_approve", REJECTED)])
def test_no_new_places_once_the_session_started(action, state):
    err = refusal(act, action, actor_for(action), status=state, now=LATER, reason=None)
    assert err.kind == "invalid" and "started" in err.message


def test_hr_records_a_late_or_past_entry_with_a_reason_and_a_free_seat():
    assert act("enrol", HR, now=LATER, reason="现场加入")[0].to_status == APPROVED  # seated: nobody waits once it started
    for reason in (None, "  "):
        assert "late or past entry" in refusal(act, "enrol", HR, now=LATER, reason=reason).message
    full = refusal(act, "enrol", HR, now=LATER, reason="补录", places=roster(None, Place(EMP + 1, APPROVED, "self", None)), capacity=1)
    assert full.kind == "conflict" and full.code == "no-seat-for-late-entry"
    # Only HR: a request after the start stays refused whatever its reason.
    assert refusal(act, "request", actor_for("request"), now=LATER, reason="想参加").code == "session-started"


def test_after_the_start_only_hr_cancels_and_nobody_is_promoted():
    assert refusal(act, "cancel", SELF, status=APPROVED, now=LATER).kind == "invalid"
    places = roster(APPROVED, Place(2, WAITLISTED, waitlist_position=1))
    assert [c.employee_id for c in act("cancel", HR, places=places, now=LATER, capacity=1)] == [EMP]
    assert act("reject", MANAGER, status=REQUESTED, now=LATER)[0].to_status == REJECTED  # clearing the inbox


@pytest.mark.parametrize("action,state", [("request", None), ("approve", REQUESTED), ("cancel", APPROVED)])
def test_a_cancelled_session_is_a_conflict(action, state):
    assert refusal(act, action, actor_for(action), status=state, cancelled=True).kind == "conflict"


def test_a_retired_program_takes_no_enrolments():
    assert refusal(act, "request", SELF, program_active=False).kind == "conflict"
    assert act("cancel", SELF, status=REQUESTED, program_active=False)[0].to_status == CANCELLED


@pytest.mark.parametrize("action,state", [("reject", REQUESTED), ("override_approve", REJECTED), ("override_reject", APPROVED)])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_decisions_against_someone_need_a_reason(action, state, reason):
    err = refusal(act, action, actor_for(action), status=state, reason=reason)
    assert (err.kind, err.field) == ("invalid", "reason")


def test_messages_say_what_is_wrong():
    assert "already enrolled" in refusal(act, "request", SELF, status=APPROVED).message
    assert "HR may override" in refusal(act, "request", SELF, status=REJECTED).message
    assert refusal(act, "approve", MANAGER, status=APPROVED).message == "cannot approve an enrolment that is approved"


# ---------------------------------------------------------------- capacity and session cancellation


def test_resize():
    places = [Place(1, APPROVED), Place(2, APPROVED), Place(3, WAITLISTED, waitlist_position=1), Place(4, WAITLISTED, waitlist_position=2)]
    assert refusal(rules.resize, places, capacity=1, started=False).kind == "conflict"
    assert [c.employee_id for c in rules.resize(places, capacity=3, started=False)] == [3]
    assert [c.employee_id for c in rules.resize(places, capacity=None, started=False)] == [3, 4]
    assert rules.resize(places, capacity=9, started=True) == ()


def test_cancelling_a_session_cancels_every_live_enrolment():
    places = [Place(1, APPROVED), Place(2, REJECTED), Place(3, WAITLISTED, waitlist_position=1), Place(4, CANCELLED), Place(5, REQUESTED)]
    changes = rules.cancel_session(places, actor=HR, reason="trainer ill")
    assert [(c.employee_id, c.to_status) for c in changes] == [(1, CANCELLED), (3, CANCELLED), (5, CANCELLED)]
    assert changes[0].reason == "session cancelled: trainer ill"


# ---------------------------------------------------------------- eligibility


def candidate(**kw) -> Candidate:
    return Candidate(**{"department_kind": "teaching", "hire_date": date(2026, 8, 1), **kw})


@pytest.mark.parametrize(
    "spec,who,failed",
    [
        ({}, candidate(), []),
        ({}, candidate(status="left"), ["status"]),
        ({"department_kinds": ["teaching"]}, candidate(), []),
        ({"department_kinds": ["marketing", "admin"]}, candidate(), ["department_kinds"]),
        ({"tags_any": ["new-teacher", "kids"]}, candidate(tags=frozenset({"kids"})), []),
        ({"tags_any": ["new-teacher"]}, candidate(tags=frozenset({"senior"})), ["tags_any"]),
        ({"hired_within_days": 31}, candidate(), []),  # hired 31 days ago: exactly on the edge
        ({"hired_within_days": 30}, candidate(), ["hired_within_days"]),
        ({"hired_within_days": 30}, candidate(hire_date=date(2026, 10, 1)), []),  # hired in the future
        ({"hired_at_least_days": 31}, candidate(), []),
        ({"hired_at_least_days": 32}, candidate(), ["hired_at_least_days"]),
        ({"hired_within_days": 30, "hired_at_least_days": 1}, candidate(hire_date=None), ["hired_within_days", "hired_at_least_days"]),
        ({"prerequisites": ["ONB"]}, candidate(completed=frozenset({"ONB"})), []),
        ({"prerequisites": ["ONB", "CI"]}, candidate(completed=frozenset({"ONB"})), ["prerequisites"]),
        ({"department_kinds": ["admin"], "tags_any": ["x"], "prerequisites": ["P"]}, candidate(status="left"), ["status", "department_kinds", "tags_any", "prerequisites"]),
    ],
)
def test_eligibility(spec, who, failed):
    failures = rules.eligibility_failures(Eligibility.from_json(spec), who, today=TODAY)
    assert [f.condition for f in failures] == failed
    assert all(f.message for f in failures)


def test_eligibility_messages_name_the_condition():
    (f,) = rules.eligibility_failures(Eligibility.from_json({"hired_within_days": 30}), candidate(), today=TODAY)
    assert f.message == "only for staff hired within 30 days (hired 31 days ago)"
    (f,) = rules.eligibility_failures(Eligibility.from_json({"prerequisites": ["ONB", "CI"]}), candidate(), today=TODAY)
    assert f.message == "complete ONB, CI first"


# ---------------------------------------------------------------- trainers


def booking(start_h: int, end_h: int, trainer: str | None = "王老师", employee: int | None = None, sid: int | None = 1) -> Booking:
    at = datetime(2026, 9, 8, tzinfo=UTC)
    return Booking(sid, f"S{sid}", at + timedelta(hours=start_h), at + timedelta(hours=end_h), trainer, employee)


@pytest.mark.parametrize(
    "new,other,clash",
    [
        (booking(6, 8, sid=None), booking(7, 9), True),
        (booking(6, 8, sid=None), booking(8, 9), False),  # back to back
        (booking(6, 8, sid=None), booking(1, 6), False),
        (booking(6, 8, sid=None), booking(5, 9), True),  # inside
        (booking(6, 8, " 王老师 ", sid=None), booking(7, 9, "王老师"), True),  # names compared loosely
        (booking(6, 8, "Anna Lee", sid=None), booking(7, 9, "anna  lee"), True),
        (booking(6, 8, "李老师", sid=None), booking(7, 9, "王老师"), False),
        (booking(6, 8, None, employee=5, sid=None), booking(7, 9, "王老师", employee=5), True),
        (booking(6, 8, "王老师", employee=5, sid=None), booking(7, 9, "王老师", employee=6), False),  # namesakes
        (booking(6, 8, "王老师", employee=5, sid=None), booking(7, 9, "王老师"), True),
        (booking(6, 8, None, sid=None), booking(7, 9, None), False),  # no trainer named
        (booking(6, 8, sid=1), booking(7, 9, sid=1), False),  # the session itself, being edited
    ],
)
def test_trainer_clash(new, other, clash):
    assert (rules.trainer_clash(new, [other]) is other) is clash


def room(start_h: int, end_h: int, venue: int | None, sid: int | None = 1) -> Booking:
    at = datetime(2026, 9, 8, tzinfo=UTC)
    return Booking(sid, f"S{sid}", at + timedelta(hours=start_h), at + timedelta(hours=end_h), None, None, venue)


@given(st.integers(0, 20), st.integers(1, 6), st.integers(0, 20), st.integers(1, 6), st.sampled_from([None, 1, 2]), st.sampled_from([None, 1, 2]))
def test_a_room_clashes_exactly_when_the_same_room_overlaps(a, da, b, db_, va, vb):
    new, other = room(a, a + da, va, sid=None), room(b, b + db_, vb, sid=2)
    overlap = a < b + db_ and b < a + da  # touching ends are not an overlap
    assert (rules.venue_clash(new, [other]) is other) == (va is not None and va == vb and overlap)
    assert rules.venue_clash(room(a, a + da, va, sid=2), [other]) is None  # the session itself, being edited


# ---------------------------------------------------------------- mandatory enrolment


def prior(status: str, *, ended: bool = False, cancelled: bool = False, rule: int | None = None) -> ProgramEnrolment:
    return ProgramEnrolment(status, NOW + timedelta(days=-1 if ended else 5), cancelled, rule)


@pytest.mark.parametrize(
    "existing,need",
    [
        ([], "enrol"),
        ([prior(APPROVED, ended=True)], "completed"),
        ([prior(APPROVED)], "enrolled"),
        ([prior(REQUESTED)], "enrolled"),
        ([prior(WAITLISTED)], "enrolled"),
        ([prior(REQUESTED, ended=True)], "enrol"),  # a request nobody decided before the session ended
        ([prior(APPROVED, cancelled=True)], "enrol"),  # the session was cancelled: enrol in another
        ([prior(CANCELLED, rule=1)], "exempted"),  # HR took this rule's enrolment back
        ([prior(REJECTED, rule=1)], "exempted"),
        ([prior(CANCELLED, rule=2)], "enrol"),
        ([prior(CANCELLED)], "enrol"),  # the employee's own cancelled request
    ],
)
def test_mandatory_need(existing, need):
    assert rules.mandatory_need(existing, rule_id=1, now=NOW) == need


def test_pick_session():
    full = Opening(1, NOW + timedelta(days=1), 2, 2)
    queued = Opening(2, NOW + timedelta(days=2), 5, 1, waiting=1)
    free = Opening(3, NOW + timedelta(days=3), None, 40)
    past = Opening(4, NOW - timedelta(hours=1), 50, 0)
    assert rules.pick_session([free, full, queued, past], now=NOW) is free
    assert rules.pick_session([full, queued, past], now=NOW) is full  # its waiting list
    assert rules.pick_session([past], now=NOW) is None


@pytest.mark.parametrize(
    "hire,start,due",
    [
        (date(2026, 9, 10), date(2026, 9, 1), date(2026, 10, 10)),  # hired after the rule: 30 days from hiring
        (date(2020, 1, 1), date(2026, 9, 1), date(2026, 10, 1)),  # hired long before: 30 days from the rule
        (None, date(2026, 9, 1), date(2026, 10, 1)),
    ],
)
def test_mandatory_due_date(hire, start, due):
    assert rules.mandatory_due_date(hire_date=hire, rule_start=start, due_days=30) == due


# ---------------------------------------------------------------- assessment scales

D = Decimal
TRIAL = Scale("trial_lecture", "score", D(0), D(100), D("0.1"), D(85), True, True)
IELTS = Scale("ielts", "score", D(0), D(9), D("0.5"))
TOEFL = Scale("toefl", "score", D(0), D(120), D(1))
TEST = Scale("online_test", "score", D(0), D(100), None, D(60))
CASE = Scale("case_analysis", "pass_fail")
ERRORS = Scale("error_rate", "ratio", D(0), D(1), None, D(0), False)


@pytest.mark.parametrize(
    "kind,result,score,passed",
    [
        (TRIAL, Result(score=D("85")), D(85), True),
        (TRIAL, Result(score=D("84.9")), D("84.9"), False),
        (TRIAL, Result(score=D("84.9"), passed=True), D("84.9"), True),  # a given verdict stands
        (TRIAL, Result(ratings=(Rating("a", D(86)), Rating("b", D("85.5")), Rating("c", D(83)))), D("84.83"), False),
        (TRIAL, Result(ratings=(Rating("a", D(88)), Rating("b", D(90)))), D(89), True),
        (IELTS, Result(score=D("7.5")), D("7.5"), None),
        (IELTS, Result(score=D(9)), D(9), None),
        (TOEFL, Result(score=D(120)), D(120), None),
        (TEST, Result(score=D("59.99")), D("59.99"), False),
        (CASE, Result(passed=True), None, True),
        (CASE, Result(passed=False), None, False),
        (ERRORS, Result(errors=0, operations=40), D(0), True),
        (ERRORS, Result(errors=2, operations=40), D("0.05"), False),
        (ERRORS, Result(errors=1, operations=3), D("0.333333"), False),
    ],
)
def test_scored(kind, result, score, passed):
    got = rules.score_assessment(kind, result)
    assert (got.score, got.passed) == (score, passed)


@pytest.mark.parametrize(
    "kind,result,field,message",
    [
        (TRIAL, Result(score=D(130)), "score", "trial_lecture score must be between 0 and 100"),
        (TRIAL, Result(score=D(-1)), "score", "between 0 and 100"),
        (TRIAL, Result(score=D("85.05")), "score", "must be in steps of 0.1"),
        (IELTS, Result(score=D("7.3")), "score", "ielts score must be in steps of 0.5"),
        (IELTS, Result(score=D("9.5")), "score", "between 0 and 9"),
        (TOEFL, Result(score=D(121)), "score", "toefl score must be between 0 and 120"),
        (TOEFL, Result(score=D("100.5")), "score", "steps of 1"),
        (TRIAL, Result(), "score", "needs a score"),
        (TRIAL, Result(score=D("nan")), "score", "must be a number"),
        (TRIAL, Result(score=D(90), ratings=(Rating("a", D(90)),)), "score", "either score or ratings"),
        (TRIAL, Result(ratings=(Rating("a", D(90)), Rating("b", D(101)))), "ratings.1.score", "between 0 and 100"),
        (TRIAL, Result(ratings=(Rating("王老师", D(90)), Rating(" 王老师", D(91)))), "ratings", "each rater may rate once"),
        (IELTS, Result(ratings=(Rating("a", D(7)),)), "ratings", "one rater"),
        (IELTS, Result(score=D(7), errors=1), "errors", "only an error rate"),
        (CASE, Result(), "passed", "case_analysis needs passed: true or false"),
        (CASE, Result(score=D(80), passed=True), "score", "pass/fail"),
        (ERRORS, Result(errors=1), "operations", "needs errors and operations"),
        (ERRORS, Result(operations=10), "errors", "needs errors and operations"),
        (ERRORS, Result(errors=11, operations=10), "errors", "between 0 and the number of operations"),
        (ERRORS, Result(errors=0, operations=0), "operations", "at least 1"),
        (ERRORS, Result(score=D(0), errors=0, operations=5), "score", "not a score"),
    ],
)
def test_scale_refusals(kind, result, field, message):
    err = refusal(rules.score_assessment, kind, result)
    assert err.kind == "invalid" and err.field == field and message in err.message, err.message


# ---------------------------------------------------------------- a free session for a rule run

_T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return _T0 + timedelta(minutes=minutes)


@given(openings=st.lists(st.tuples(st.integers(0, 600), st.integers(1, 180)), max_size=6),
       busy=st.lists(st.tuples(st.integers(0, 600), st.integers(1, 180)), max_size=6))
def test_free_openings_share_no_minute_with_the_persons_other_sessions(openings, busy):
    offered = [Opening(i, _at(start), None, 0, ends_at=_at(start + length)) for i, (start, length) in enumerate(openings)]
    spans = [(_at(start), _at(start + length)) for start, length in busy]
    taken = {m for start, length in busy for m in range(start, start + length)}  # reference: the busy minutes
    expected = [i for i, (start, length) in enumerate(openings) if not taken & set(range(start, start + length))]
    assert [o.session_id for o in rules.free_of(offered, spans)] == expected


def test_an_opening_of_unknown_end_is_never_judged_to_clash():
    assert [o.session_id for o in rules.free_of([Opening(1, _at(0), None, 0)], [(_at(0), _at(60))])] == [1]
