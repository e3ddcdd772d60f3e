"""What the training pages read from forms and show in words: local times, eligibility, translated errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.training.models import TrainingSession
from trainquant.web import codes


def filled(values: Mapping[str, object]) -> dict[str, str]:
    """An empty form field means "not given" (and only text fields are kept)."""
    return {k: v.strip() for k, v in values.items() if isinstance(v, str) and v.strip()}


def split_list(text: str | None) -> list[str]:
    """'a, b；c d' -> ['a', 'b', 'c', 'd'], first occurrence kept."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,，;；、\s]+", text or ""):
        if part:
            seen.setdefault(part, None)
    return list(seen)


# ---------------------------------------------------------------- time


def zone_of(session: TrainingSession, default_tz: str) -> ZoneInfo:
    return ZoneInfo(session.site.timezone if session.site else default_tz)


def weekday(day: datetime) -> str:
    return (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))[day.weekday()]


def span(starts_at: datetime, ends_at: datetime, zone: ZoneInfo | str) -> str:
    """'2026-09-08 Tue 14:00–16:00' in ``zone``."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d} {weekday(start)} {start:%H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def session_when(session: TrainingSession, default_tz: str) -> str:
    """The session's time in its own campus's time zone."""
    return span(session.starts_at, session.ends_at, zone_of(session, default_tz))


def parse_local(value: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local field ('2026-09-08T14:00') in ``zone``; None when it is not a date and time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


# ---------------------------------------------------------------- eligibility in words


def kind_label(kind: str) -> str:
    return {"teaching": _("Teaching"), "marketing": _("Marketing"), "admin": _("Administration"), "other": _("Other")}.get(kind, kind)


def eligibility_lines(spec: Mapping | None) -> list[str]:
    spec = spec or {}
    lines = []
    if spec.get("department_kinds"):
        lines.append(_("Departments: %(kinds)s") % {"kinds": "、".join(kind_label(k) for k in spec["department_kinds"])})
    if spec.get("tags_any"):
        lines.append(_("Tagged: %(tags)s") % {"tags": "、".join(spec["tags_any"])})
    if spec.get("hired_within_days") is not None:
        lines.append(_("Hired within %(n)s days") % {"n": spec["hired_within_days"]})
    if spec.get("hired_at_least_days") is not None:
        lines.append(_("Hired at least %(n)s days ago") % {"n": spec["hired_at_least_days"]})
    if spec.get("prerequisites"):
        lines.append(_("Completed first: %(codes)s") % {"codes": "、".join(spec["prerequisites"])})
    return lines


CONDITIONS = {
    "status": lambda: _("has left"),
    "department_kinds": lambda: _("department kind"),
    "tags_any": lambda: _("tags"),
    "hired_within_days": lambda: _("hire date"),
    "hired_at_least_days": lambda: _("hire date"),
    "prerequisites": lambda: _("prerequisites"),
}


# ---------------------------------------------------------------- errors
#
# Services and rules name every refusal with a stable code (``DomainError.code``, ``errors[].code``,
# custom pydantic error types); the pages say it in words from the catalogue below. Message text is
# English for the API and logs, and is never matched here.


def _eligibility(params: Mapping) -> str:
    return _("Not eligible: %(what)s") % {"what": params.get("what", "")}


CODE_TEXTS: dict[str, Callable[[Mapping], str]] = {
    # pydantic validators of the training schemas
    "ends-before-start": lambda p: _("The end must be after the start."),
    "skip-needs-reason": lambda p: _("Give a reason for skipping the eligibility rules."),
    "unknown_metric": lambda p: _("No business metric %(key)s.") % {"key": p.get("key", "")},
    # a connector's pull (integrations/pull): its configuration's problems
    "pull-who": lambda p: _("Whose a record is: external_id or employee_no."),
    "pull-no-records": lambda p: _("Map at least one metric."),
    "pull-metric-twice": lambda p: _("Map each metric once."),
    "pull-when": lambda p: _("Map at, or period_start and period_end."),
    "pull-path": lambda p: _("%(name)s is not a JSON path (e.g. $.data or $.week.start).") % {"name": p.get("name", "")},
    "pull-paging-style": lambda p: _("Choose one of the options."),
    "pull-page-size": lambda p: _("The page size is 1 to 10,000."),
    "pull-unknown-metric": lambda p: _("No business metric %(key)s.") % {"key": p.get("metric", "")},
    "pull-derived-metric": lambda p: _("%(metric)s is derived (%(numerator)s / %(denominator)s): map those two instead.") % {
        "metric": p.get("metric", ""), "numerator": p.get("numerator", ""), "denominator": p.get("denominator", "")},
    "pull-token-url": lambda p: _("OAuth2 needs the token URL."),
    "pull-credentials-missing": lambda p: _("Sign-in %(style)s needs: %(fields)s.") % {"style": p.get("style", ""), "fields": p.get("fields", "")},
    "pull-credentials-extra": lambda p: _("Sign-in %(style)s takes no %(fields)s.") % {"style": p.get("style", ""), "fields": p.get("fields", "")},
    "repeated": lambda p: _("Choose each method once.") if p.get("what") == "checkin_methods" else _("Each value may appear only once."),
    "nobody-qualifies": lambda p: _("Nobody could qualify: the two hire-date conditions exclude each other."),
    "program-or-session": lambda p: _("Choose a program or a session."),
    # programs and sessions
    "program-code-taken": lambda p: _("This code is already taken."),
    "session-code-taken": lambda p: _("This code is already taken."),
    "venue-not-in-site": lambda p: _("This venue is not in the chosen campus."),
    "venue-needs-site": lambda p: _("Choose the campus of this venue."),
    "offline-needs-site": lambda p: _("An offline session needs a campus."),
    "unknown-site": lambda p: _("Unknown campus."),
    "geo-needs-venue": lambda p: _("Geofenced check-in needs a venue."),
    "trainer-busy": lambda p: _("The trainer already teaches session %(code)s at this time.") % {"code": p.get("clashing_session", "")},
    "venue-busy": lambda p: _("The room is already booked by session %(code)s at this time.") % {"code": p.get("clashing_session", "")},
    "person-busy": lambda p: _("%(who)s is already enrolled in %(codes)s at an overlapping time.") % {
        "who": p.get("employee_no", ""), "codes": ", ".join(p.get("clashing_sessions") or [])},
    "unknown-employee": lambda p: _("Unknown employee no."),
    "required": lambda p: _("This field is required."),
    # enrolment
    "session-started": lambda p: _("The session has already started."),
    "no-seat-for-late-entry": lambda p: _("The session has no free seat: raise its capacity to record this entry."),
    "moves-into-past": lambda p: _("The session has %(n)s enrolments and would start in the past: confirm to move it there.") % {"n": p.get("enrolments", "")},
    "already-enrolled": lambda p: _("Already enrolled in this session."),
    "session-cancelled": lambda p: _("The session is cancelled."),
    "program-retired": lambda p: _("The program is retired."),
    "mandatory-hr-only": lambda p: _("A mandatory training can only be cancelled by HR."),
    "not-your-department": lambda p: _("This employee is not in a department you manage."),
    "own-request": lambda p: _("Nobody decides on their own request."),
    "reason-required": lambda p: _("A reason is required."),
    "already-decided": lambda p: _("This request has already been decided."),
    # assessments
    "score-out-of-range": lambda p: _("Must be between %(low)s and %(high)s.") % {"low": p.get("low"), "high": p.get("high")},
    "score-below-minimum": lambda p: _("Must be at least %(low)s.") % {"low": p.get("low")},
    "score-off-step": lambda p: _("Must be in steps of %(step)s.") % {"step": p.get("step")},
    "needs-passed": lambda p: _("Choose passed or failed."),
    "pass-fail-no-score": lambda p: _("This assessment is pass/fail: no score."),
    "needs-errors-operations": lambda p: _("Enter the errors and the operations."),
    "errors-exceed-operations": lambda p: _("Errors cannot exceed operations."),
    "operations-min": lambda p: _("Enter at least one operation."),
    "needs-score": lambda p: _("Enter a score, or the raters' scores."),
    "score-or-ratings": lambda p: _("Enter either one score or the raters' scores."),
    "one-rater": lambda p: _("This assessment has one rater: enter the score."),
    "rater-once": lambda p: _("Each rater may rate once."),
    "assessed-in-future": lambda p: _("The date cannot be in the future."),
    "unknown-assessment-kind": lambda p: _("Choose one of the options."),
    # reached through the API more than the pages, but a page may meet them too
    "enrol-self-only": lambda p: _("You can request enrolment only for yourself; HR enrols others."),
    "hr-only": lambda p: _("Only HR may enrol others or override a decision."),
    "approve-permission": lambda p: _("You may not decide on enrolment requests."),
    "cancel-own-only": lambda p: _("You can cancel only your own enrolment."),
    "request-rejected": lambda p: _("The request was rejected; HR may override the decision."),
    "no-enrolment": lambda p: _("There is no enrolment to change."),
    "capacity-below-approved": lambda p: _("%(approved)s people are already approved; the capacity cannot be lower.") % {"approved": p.get("approved")},
    "employee-left": lambda p: _("The employee has left."),
    "no-employee-record": lambda p: _("Your account is not linked to an employee."),
    "own-assessment": lambda p: _("Managers record assessments for their team, not for themselves."),
    "unknown-program": lambda p: _("Unknown program code."),
    "unknown-session": lambda p: _("Unknown session code."),
    "self-prerequisite": lambda p: _("A program cannot be its own prerequisite."),
    "unknown-prerequisite": lambda p: _("Unknown prerequisite program(s): %(programs)s") % {"programs": p.get("programs", "")},
    "session-not-in-program": lambda p: _("This session is not part of the program."),
    "ratio-no-score": lambda p: _("This assessment is computed from errors and operations: enter those, not a score."),
    "counts-not-taken": lambda p: _("Only an error rate takes errors and operations."),
    "score-not-a-number": lambda p: _("Enter a number."),
    "bulk-too-many": lambda p: _("At most %(n)s people at once.") % {"n": 1000},
    "program-already-retired": lambda p: _("The program is already retired."),
    "program-in-use": lambda p: _("The program has sessions, costs or assessments; retire it instead of deleting it."),
    "session-in-use": lambda p: _("The session has enrolments or records; cancel it instead of deleting it."),
    "session-already-cancelled": lambda p: _("The session is already cancelled."),
    "session-ended": lambda p: _("The session has already ended."),
    "rule-code-taken": lambda p: _("This code is already taken."),
    "rule-inactive": lambda p: _("The mandatory rule is not active."),
}


codes.register(CODE_TEXTS)


def code_text(code: str | None, params: Mapping | None = None) -> str | None:
    """The page's words for a stable error code, or None when the catalogue has none."""
    return codes.text_for(code, params)


def error_text(error: Mapping) -> str:
    """One pydantic error in the page's language: by its code when the catalogue has it, else by its kind."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if (known := code_text(kind, ctx)) is not None:
        return known
    if kind in ("missing", "string_too_short"):
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_pattern_mismatch":
        return _("Use only letters, digits and . _ - (no spaces).")
    if kind in ("literal_error", "enum"):
        return _("Choose one of the options.")
    if kind.startswith("date"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind.startswith(("int", "float", "decimal")):
        return _("Enter a number.")
    if kind.startswith(("greater", "less")):
        return _("The number is out of range.")
    return _("This value is not valid.")


def field_errors(exc: ValidationError, nested: Mapping[str, str] | None = None) -> dict[str, str]:
    """Pydantic errors as one translated message per form field; ``nested`` maps e.g. eligibility -> elig_."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
        field = loc[0] if loc else "_form"
        if nested and field in nested and len(loc) > 1:
            field = nested[field] + loc[1]
        out.setdefault(field, error_text(error))
    return out


def _eligibility_text(err: DomainError) -> str:
    codes = [e.get("code") or "" for e in err.errors]
    what = "、".join(dict.fromkeys(CONDITIONS[code]() if code in CONDITIONS else code for code in codes))
    return _eligibility({"what": what})


def refusal_errors(err: DomainError) -> dict[str, str]:
    """A service's refusal as form errors: translated by code; the message only for a code the catalogue lacks."""
    out: dict[str, str] = {}
    for e in err.errors or [{"field": "_form", "code": err.code, "message": err.message}]:
        field, code = e.get("field") or "_form", e.get("code")
        if field.startswith("eligibility."):
            text, field = _eligibility_text(err), "employee_no"
        else:
            text = code_text(code, {**err.extra, **(e.get("params") or {})}) or code_text(err.code, err.extra) or e.get("message") or err.message
        out[field] = f"{out[field]}; {text}" if field in out and text not in out[field] else text
    return out


def enrolment_refusal(err: DomainError) -> str:
    """Why an enrolment action was refused, in the page's language."""
    if err.code == "not-eligible" or any(str(e.get("field", "")).startswith("eligibility.") for e in err.errors):
        return _eligibility_text(err)
    return code_text(err.code, err.extra) or err.message


def assessment_errors(err: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in err.errors or [{"field": "_form", "code": err.code, "message": err.message}]:
        field = str(e.get("field") or "_form").split(".")[0]
        text = code_text(e.get("code"), e.get("params")) or refusal_errors(err).get(field, str(e.get("message") or err.message))
        out.setdefault(field, text)
    return out
