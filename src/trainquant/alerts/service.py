"""Participation alerts for HR: after a session, and over a period per department. Idempotent by fingerprint."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.alerts import rules
from trainquant.alerts.models import Alert
from trainquant.attendance.models import AttendanceRecord
from trainquant.attendance.service import TeachingCalendar, recompute
from trainquant.auth.permissions import DataScope
from trainquant.db import chunks
from trainquant.errors import Conflict, Forbidden, Invalid, NotFound
from trainquant.org.models import Department, Employee
from trainquant.org.tree import department_subtree
from trainquant.pagination import PageParams
from trainquant.training.models import Enrolment, TrainingSession

SYSTEM = "system"
ENROLLED = ("approved", "requested", "waitlisted")
MAX_PERIOD_DAYS = 366  # one check run covers at most a year of sessions (API and page alike)


def _upsert(db: Session, fingerprint: str, values: dict, now: datetime) -> tuple[Alert, bool]:
    alert = db.scalar(select(Alert).where(Alert.fingerprint == fingerprint))
    if alert is None:
        alert = Alert(fingerprint=fingerprint, status="open", created_at=now, **values)
        db.add(alert)
        db.flush()
        return alert, True
    if alert.status == "open":
        for k, v in values.items():
            setattr(alert, k, v)
    return alert, False


def _seconds(intervals: list) -> int:
    total = 0
    for a, b in intervals or []:
        total += int((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds())
    return total


def check_session(db: Session, session_id: int, now: datetime, *, default_tz: str = "Asia/Shanghai") -> list[Alert]:
    """The alerts of the approved participants under the session's minimum, with the likely cause.

    Figures missing for an approved participant (nobody punched) are computed first. A person who has
    since reached the minimum (late punches arrived, a case was cleared) leaves their alert; an alert
    left with no session is resolved.
    """
    if db.get(TrainingSession, session_id) is None:
        raise NotFound(f"no session {session_id}")
    return check_sessions(db, [session_id], now, default_tz=default_tz)


def period_fingerprint(employee_id: int, month_start: date) -> str:
    return f"lp:{employee_id}:{month_start:%Y-%m}"


def check_sessions(db: Session, session_ids: Iterable[int], now: datetime, *, default_tz: str = "Asia/Shanghai") -> list[Alert]:
    """``check_session`` for many sessions at once (the drain checks every session a burst touched):
    one look-up per table for all of them rather than per session; unknown, cancelled and not yet
    ended sessions are skipped. Answers the alerts it opened: new ones, and ones a new session reopened.

    One alert per person per month of the school's calendar (``rules.month_of``), listing the month's
    sessions the person was under the minimum in: 12 low sessions of one person are one follow-up.
    """
    ids = sorted(set(session_ids))
    sessions = {s.id: s for chunk in chunks(ids, 900) for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))}
    over = [sid for sid in ids if sid in sessions and sessions[sid].status != "cancelled" and sessions[sid].ends_at <= now]
    if not over:
        return []
    approved: dict[int, set[int]] = defaultdict(set)
    have: dict[int, set[int]] = defaultdict(set)
    for chunk in chunks(over, 900):
        for sid, eid in db.execute(select(Enrolment.session_id, Enrolment.employee_id).where(Enrolment.session_id.in_(chunk), Enrolment.status == "approved")):
            approved[sid].add(eid)
        for sid, eid in db.execute(select(AttendanceRecord.session_id, AttendanceRecord.employee_id).where(AttendanceRecord.session_id.in_(chunk))):
            have[sid].add(eid)
    missing = {(sid, eid) for sid in over for eid in approved[sid] - have[sid]}
    if missing:
        recompute(db, missing, now=now, default_tz=default_tz)
    records: dict[int, dict[int, AttendanceRecord]] = defaultdict(dict)
    for chunk in chunks([sid for sid in over if approved[sid]], 900):
        for rec in db.scalars(select(AttendanceRecord).where(AttendanceRecord.session_id.in_(chunk))):
            if rec.employee_id in approved[rec.session_id]:
                records[rec.session_id][rec.employee_id] = rec
    everyone = sorted({eid for recs in records.values() for eid in recs})
    if not everyone:
        return []
    zone = ZoneInfo(default_tz)
    month = {sid: rules.month_of(sessions[sid].starts_at.astimezone(zone).date()) for sid in over}
    calendar = TeachingCalendar(db, everyone, default_tz)
    people = {e.id: e for chunk in chunks(everyone, 900) for e in db.scalars(select(Employee).where(Employee.id.in_(chunk)))}
    fingerprints = sorted({period_fingerprint(eid, month[sid][0]) for sid in over for eid in records.get(sid, ())})
    alerts = {a.fingerprint: a for chunk in chunks(fingerprints, 900) for a in db.scalars(select(Alert).where(Alert.fingerprint.in_(chunk)))}
    listed: dict[str, dict[int, dict]] = {fp: {item["session_id"]: item for item in a.sessions or []} for fp, a in alerts.items()}
    opened: dict[str, Alert] = {}
    touched: set[str] = set()
    for sid in over:
        s, recs = sessions[sid], records.get(sid)
        if not recs:
            continue
        threshold = s.min_participation or rules.PERSON_THRESHOLD
        first, last = month[sid]
        for eid in sorted(recs):
            rec = recs[eid]
            fingerprint = period_fingerprint(eid, first)
            classes = calendar.classes(eid, s.starts_at, s.ends_at)
            teaching = sum(int((min(c.end, s.ends_at) - max(c.start, s.starts_at)).total_seconds()) for c in classes)
            fig = rules.Figures(rec.attended_seconds, rec.scheduled_seconds, rec.late_seconds, rec.early_leave_seconds, _seconds(rec.away), teaching, frozenset(rec.flags))
            if not rules.is_low(fig, threshold):
                if sid in listed.get(fingerprint, {}):
                    del listed[fingerprint][sid]
                    touched.add(fingerprint)
                continue
            cause = rules.likely_cause(fig)
            item: dict = {"session_id": s.id, "code": s.code, "starts_at": s.starts_at.isoformat(), "attended_s": rec.attended_seconds,
                          "scheduled_s": rec.scheduled_seconds, "participation": round(fig.participation, 4), "threshold": threshold,
                          "cause": cause.cause, "lost": [list(kv) for kv in cause.breakdown] or [[cause.cause, cause.lost_seconds]],
                          "lost_minutes": {k: round(v / 60, 1) for k, v in cause.breakdown}}
            if cause.cause == rules.TIMETABLE_CONFLICT:
                item.update(_next_clashes(db, s, eid, calendar))
            emp = people.get(eid)
            known = alerts.get(fingerprint)
            if known is None:
                alerts[fingerprint] = known = Alert(
                    fingerprint=fingerprint, kind="low-participation", employee_id=eid, department_id=emp.department_id if emp else None,
                    period_start=first, period_end=last, status="open", created_at=now, cause=cause.cause, detail="", suggestion={}, sessions=[])
                db.add(known)
                listed[fingerprint] = {}
                opened[fingerprint] = known
            elif sid not in listed[fingerprint] and known.status != "open":
                # A new session under the minimum is a new fact: what HR acknowledged did not include it.
                known.status, known.handled_by, known.handled_at = "open", None, None
                opened[fingerprint] = known
            listed[fingerprint][sid] = item
            touched.add(fingerprint)
    for fingerprint in touched:
        _summarise(alerts[fingerprint], listed[fingerprint], people, now)
    db.flush()
    return list(opened.values())


def _summarise(alert: Alert, items: dict[int, dict], people: dict[int, Employee], now: datetime) -> None:
    """An alert's figures, cause, suggestion and (English, for API readers) detail from its sessions."""
    ordered = sorted(items.values(), key=lambda i: (i["starts_at"], i["session_id"]))
    alert.sessions = ordered  # a new list: the JSON column sees the change
    if not ordered:
        if alert.status != "resolved":
            alert.status, alert.handled_by, alert.handled_at = "resolved", SYSTEM, now
        return
    missed = [rules.Missed(i["session_id"], i["attended_s"], i["scheduled_s"], i["threshold"], tuple((c, sec) for c, sec in i["lost"]))
              for i in ordered]
    summary = rules.summarise(missed)
    latest = ordered[-1]
    conflict = next((i for i in reversed(ordered) if "next_clashing_sessions" in i), None)
    alert.session_id = latest["session_id"]
    alert.value, alert.threshold, alert.cause = round(summary.participation, 4), summary.threshold, summary.cause
    alert.suggestion = {k: conflict[k] for k in ("next_clashing_sessions", "move_to")} if conflict else {}
    emp = people.get(alert.employee_id) if alert.employee_id else None
    who = f"{emp.name} ({emp.employee_no})" if emp else str(alert.employee_id)
    alert.detail = f"{who}: under the minimum in {len(ordered)} session(s): " + "; ".join(
        f"{i['code']} {i['attended_s'] / 60:.0f} of {i['scheduled_s'] / 60:.0f} min ({i['participation']:.0%}), {i['cause']}" for i in ordered)


def _next_clashes(db: Session, s: TrainingSession, employee_id: int, calendar: TeachingCalendar) -> dict:
    ahead = db.execute(
        select(TrainingSession.code, TrainingSession.starts_at, TrainingSession.ends_at, Enrolment.status)
        .outerjoin(Enrolment, (Enrolment.session_id == TrainingSession.id) & (Enrolment.employee_id == employee_id))
        .where(TrainingSession.program_id == s.program_id, TrainingSession.id != s.id, TrainingSession.starts_at > s.ends_at,
               TrainingSession.status == "scheduled")
        .order_by(TrainingSession.starts_at).limit(50)
    ).all()
    if not ahead:
        return {"next_clashing_sessions": [], "move_to": None}
    lo, hi = min(a[1] for a in ahead), max(a[2] for a in ahead)
    classes = [rules.Span(c.start, c.end) for c in calendar.classes(employee_id, lo, hi)]
    mine = [rules.Upcoming(code, a, b) for code, a, b, status in ahead if status in ENROLLED]
    others = [rules.Upcoming(code, a, b) for code, a, b, status in ahead if status not in ENROLLED]
    clash = rules.clashing(mine, classes)
    free = rules.free_alternatives(others, classes)
    return {
        "next_clashing_sessions": [{"code": u.code, "starts_at": u.start.isoformat()} for u in clash],
        "move_to": {"code": free[0].code, "starts_at": free[0].start.isoformat()} if clash and free else None,
    }


def _local_range(first: date, last: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)


def check_departments(db: Session, period_start: date, period_end: date, now: datetime, *, default_tz: str = "Asia/Shanghai",
                      threshold: float = rules.DEPARTMENT_THRESHOLD, suggest: bool = True) -> list[Alert]:
    """A department averaging under ``threshold`` over sessions ended in the period: one alert with its pattern."""
    if period_end < period_start:
        raise Invalid("the period ends before it starts")
    lo, hi = _local_range(period_start, period_end, default_tz)
    hi = min(hi, now)
    zone = ZoneInfo(default_tz)
    rows = db.execute(
        select(Employee.department_id, AttendanceRecord.participation, TrainingSession.starts_at, TrainingSession.ends_at, TrainingSession.id)
        .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
        .join(Employee, Employee.id == AttendanceRecord.employee_id)
        .join(Enrolment, (Enrolment.session_id == AttendanceRecord.session_id) & (Enrolment.employee_id == AttendanceRecord.employee_id))
        .where(Enrolment.status == "approved", TrainingSession.status != "cancelled", TrainingSession.ends_at >= lo, TrainingSession.ends_at <= hi)
    ).all()
    facts = [rules.Attendance(dep, p, st.astimezone(zone).weekday(), st.astimezone(zone).hour, sid) for dep, p, st, _, sid in rows]
    lengths: dict[int, list[int]] = {dep: [] for dep, *_ in rows}
    for dep_id, _, st, en, _sid in rows:
        lengths[dep_id].append(int((en - st).total_seconds() // 60))
    departments = {d.id: d for d in db.scalars(select(Department))}
    raised = []
    for pat in rules.department_patterns(facts, threshold=threshold):
        dep = departments[pat.department_id]
        suggestion: dict = {"slices": [{"name": s.name, "mean": s.mean, "count": s.count} for s in pat.slices]}
        if suggest:
            suggestion["slot"] = _better_slot(db, dep, pat, period_end, int(median(lengths[pat.department_id])), default_tz)
        worst = f"; {pat.worst.name} sessions average {pat.worst.mean:.0%} ({pat.worst.count})" if pat.worst else ""
        detail = f"{dep.name} ({dep.code}) averaged {pat.mean:.0%} over {pat.count} participations, under {threshold:.0%}{worst}"
        alert, new = _upsert(db, f"dp:{dep.id}:{period_start.isoformat()}:{period_end.isoformat()}", {
            "kind": "department-pattern", "department_id": dep.id, "period_start": period_start, "period_end": period_end,
            "value": pat.mean, "threshold": threshold, "cause": pat.cause, "detail": detail, "suggestion": suggestion,
        }, now)
        if new:
            raised.append(alert)
    return raised


def _better_slot(db: Session, dep: Department, pat: rules.Pattern, period_end: date, length: int, tz: str) -> dict | None:
    from trainquant.training.scheduling import service as scheduling

    weekdays = (0, 1, 2, 3, 4) if pat.cause == "weekend-sessions" else None
    try:
        found = scheduling.find_slots(db, scheduling.Group(departments=(dep.code,)), first=period_end + timedelta(days=1), last=period_end + timedelta(days=14),
                                      length_minutes=max(15, min(length, 720)), default_tz=tz, limit=1, weekdays=weekdays)
    except (Invalid, NotFound):
        return None
    return scheduling.best_slot(found)


def check_period(db: Session, period_start: date, period_end: date, now: datetime, *, default_tz: str) -> dict:
    """Every session that ended in the period, then the departments: what ``alerts check`` runs."""
    if period_end < period_start:
        raise Invalid("the period ends before it starts")
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise Invalid("at most a year at once")
    lo, hi = _local_range(period_start, period_end, default_tz)
    ids = list(db.scalars(select(TrainingSession.id).where(TrainingSession.ends_at >= lo, TrainingSession.ends_at <= min(hi, now), TrainingSession.status != "cancelled").order_by(TrainingSession.id)))
    people = [a for sid in ids for a in check_session(db, sid, now, default_tz=default_tz)]
    deps = check_departments(db, period_start, period_end, now, default_tz=default_tz)
    return {"sessions": len(ids), "low_participation": len(people), "department_pattern": len(deps)}


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = None
    kind: str | None = None
    cause: str | None = None
    department_id: int | None = None  # this department and its sub-departments


def visible(scope: DataScope):
    if scope.all:
        return None
    if not scope.department_ids:
        raise Forbidden("alerts are for HR and department managers")
    return Alert.department_id.in_(sorted(scope.department_ids))


def _filtered(db: Session, flt: AlertFilter, scope: DataScope):
    stmt = select(Alert)
    cond = visible(scope)
    if cond is not None:
        stmt = stmt.where(cond)
    for column, value in ((Alert.status, flt.status), (Alert.kind, flt.kind), (Alert.cause, flt.cause)):
        if value:
            stmt = stmt.where(column == value)
    if flt.department_id:
        stmt = stmt.where(Alert.department_id.in_(sorted(department_subtree(db, flt.department_id))))
    return stmt


def list_alerts(db: Session, flt: AlertFilter, scope: DataScope, paging: PageParams) -> tuple[list[Alert], int]:
    stmt = _filtered(db, flt, scope)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = (Alert.status != "open", Alert.status != "acknowledged", Alert.created_at.desc(), Alert.id.desc())
    return list(db.scalars(stmt.order_by(*order).offset(paging.offset).limit(paging.page_size))), total


def all_alerts(db: Session, flt: AlertFilter, scope: DataScope, *, limit: int = 50_000) -> list[Alert]:
    """Every alert the filter selects (an export), in the inbox's order."""
    order = (Alert.status != "open", Alert.status != "acknowledged", Alert.created_at.desc(), Alert.id.desc())
    return list(db.scalars(_filtered(db, flt, scope).order_by(*order).limit(limit)))


ACTIONS = {"acknowledge": "acknowledged", "resolve": "resolved"}
BULK_MAX = 1000  # alerts handled in one request


def in_scope(alert: Alert, scope: DataScope) -> bool:
    return scope.all or (alert.department_id is not None and alert.department_id in scope.department_ids)


def _target(action: str) -> str:
    target = ACTIONS.get(action)
    if target is None:
        raise Invalid("action must be acknowledge or resolve", code="alert-action")
    return target


def handle(db: Session, alert_id: int, action: str, *, by: str, now: datetime, scope: DataScope) -> Alert:
    """Acknowledge or resolve one alert in the reader's scope (another department's is not found)."""
    target = _target(action)
    alert = db.get(Alert, alert_id)
    if alert is None or not in_scope(alert, scope):
        raise NotFound(f"no alert {alert_id}")
    if alert.status == "resolved" or alert.status == target:
        raise Conflict(f"alert {alert_id} is already {alert.status}", code="alert-already-" + alert.status)
    alert.status, alert.handled_by, alert.handled_at = target, by, now
    return alert


@dataclass(frozen=True)
class BulkResult:
    done: list[int]
    skipped: list[dict]  # {"id", "reason": not-found | already-acknowledged | already-resolved}


def handle_many(db: Session, action: str, *, ids: Iterable[int] | None = None, flt: AlertFilter | None = None, by: str, now: datetime,
                scope: DataScope) -> BulkResult:
    """Acknowledge or resolve the alerts named by ``ids``, or every one the filter selects, each in the
    reader's scope; one that cannot be (another department's, already handled) is skipped with its
    reason and never stops the others. At most BULK_MAX at once."""
    target = _target(action)
    if (ids is None) == (flt is None):
        raise Invalid("name the alerts by id or by a filter", code="alert-bulk-target")
    if ids is not None:
        wanted = sorted(set(ids))
        if len(wanted) > BULK_MAX:
            raise Invalid(f"at most {BULK_MAX} alerts at once", code="alert-bulk-too-many")
        found = {a.id: a for chunk in chunks(wanted, 900) for a in db.scalars(select(Alert).where(Alert.id.in_(chunk)))}
    else:
        assert flt is not None
        rows = list(db.scalars(_filtered(db, flt, scope).order_by(Alert.id).limit(BULK_MAX + 1)))
        if len(rows) > BULK_MAX:
            raise Invalid(f"the filter selects more than {BULK_MAX} alerts: narrow it (a department, a kind)", code="alert-bulk-too-many")
        wanted, found = [a.id for a in rows], {a.id: a for a in rows}
    done, skipped = [], []
    for alert_id in wanted:
        alert = found.get(alert_id)
        if alert is None or not in_scope(alert, scope):
            skipped.append({"id": alert_id, "reason": "not-found"})
        elif alert.status == "resolved" or alert.status == target:
            skipped.append({"id": alert_id, "reason": "already-" + alert.status})
        else:
            alert.status, alert.handled_by, alert.handled_at = target, by, now
            done.append(alert_id)
    return BulkResult(done, skipped)


def labels(db: Session, alerts: Iterable[Alert]) -> tuple[dict[int, Employee], dict[int, Department], dict[int, str]]:
    alerts = list(alerts)
    eids = sorted({a.employee_id for a in alerts if a.employee_id})
    dids = sorted({a.department_id for a in alerts if a.department_id})
    sids = sorted({a.session_id for a in alerts if a.session_id})
    emps = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(eids)))} if eids else {}
    deps = {d.id: d for d in db.scalars(select(Department).where(Department.id.in_(dids)))} if dids else {}
    codes = dict(db.execute(select(TrainingSession.id, TrainingSession.code).where(TrainingSession.id.in_(sids))).all()) if sids else {}
    return emps, deps, codes

