"""What the training pages read from forms and show in words: local times, eligibility, translated errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.training.models import TrainingSession


def filled(values: Mapping[str, str]) -> dict[str, str]:
    """An empty form field means "not given"."""
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


def _text(error: Mapping) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
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
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return KNOWN.get(message, lambda: message or _("This value is not valid."))()


KNOWN = {
    "ends_at must be after starts_at": lambda: _("The end must be after the start."),
    "skipping the eligibility rules needs a reason": lambda: _("Give a reason for skipping the eligibility rules."),
    "checkin_methods must not repeat": lambda: _("Choose each method once."),
}


def field_errors(exc: ValidationError, nested: Mapping[str, str] | None = None) -> dict[str, str]:
    """Pydantic errors as one translated message per form field; ``nested`` maps e.g. eligibility -> elig_."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
        field = loc[0] if loc else "_form"
        if nested and field in nested and len(loc) > 1:
            field = nested[field] + loc[1]
        out.setdefault(field, _text(error))
    return out


def refusal_errors(err: DomainError) -> dict[str, str]:
    """A service's refusal as form errors: translated where the field is known, the message otherwise."""
    out: dict[str, str] = {}
    for e in err.errors or [{"field": "_form", "code": None, "message": err.message}]:
        field, code = e.get("field") or "_form", e.get("code")
        if field == "venue":
            text = _("This venue is not in the chosen campus.") if "not in site" in err.message else _("Choose the campus of this venue.")
        elif code == "trainer-busy":
            text = _("The trainer already teaches session %(code)s at this time.") % {"code": err.extra.get("clashing_session", "")}
        elif field == "site_code":
            text = _("An offline session needs a campus.") if "needs a site" in err.message else _("Unknown campus.")
        elif field == "checkin_methods":
            text = _("Geofenced check-in needs a venue.")
        elif field in ("employee_no", "trainer_employee_no") and "no employee" in err.message:
            text = _("Unknown employee no.")
        elif field.startswith("eligibility."):
            text = _("Not eligible: %(what)s") % {"what": CONDITIONS.get(code or "", lambda: code or "")()}
            field = "employee_no"
        else:
            text = e.get("message") or err.message
        out[field] = f"{out[field]}; {text}" if field in out and text not in out[field] else text
    return out


def enrolment_refusal(err: DomainError) -> str:
    """Why an enrolment action was refused, in the page's language."""
    message = err.message
    if err.errors and str(err.errors[0].get("field", "")).startswith("eligibility."):
        what = "、".join(dict.fromkeys(CONDITIONS.get(e.get("code") or "", lambda: "")() for e in err.errors))
        return _("Not eligible: %(what)s") % {"what": what}
    if "already started" in message:
        return _("The session has already started.")
    if "already enrolled" in message:
        return _("Already enrolled in this session.")
    if "session is cancelled" in message:
        return _("The session is cancelled.")
    if "retired" in message:
        return _("The program is retired.")
    if "mandatory training" in message:
        return _("A mandatory training can only be cancelled by HR.")
    if "not in a department you manage" in message:
        return _("This employee is not in a department you manage.")
    if "own enrolment request" in message:
        return _("Nobody decides on their own request.")
    if "a reason is required" in message:
        return _("A reason is required.")
    if message.startswith("cannot "):
        return _("This request has already been decided.")
    return message


_SCALE_MESSAGES = (
    (re.compile(r"must be between (\S+) and (\S+)"), lambda m: _("Must be between %(low)s and %(high)s.") % {"low": m[1], "high": m[2]}),
    (re.compile(r"must be in steps of (\S+)"), lambda m: _("Must be in steps of %(step)s.") % {"step": m[1]}),
    (re.compile(r"needs passed"), lambda m: _("Choose passed or failed.")),
    (re.compile(r"is pass/fail"), lambda m: _("This assessment is pass/fail: no score.")),
    (re.compile(r"needs errors and operations"), lambda m: _("Enter the errors and the operations.")),
    (re.compile(r"number of operations"), lambda m: _("Errors cannot exceed operations.")),
    (re.compile(r"operations must be at least 1"), lambda m: _("Enter at least one operation.")),
    (re.compile(r"needs a score"), lambda m: _("Enter a score, or the raters' scores.")),
    (re.compile(r"either score or ratings"), lambda m: _("Enter either one score or the raters' scores.")),
    (re.compile(r"has one rater"), lambda m: _("This assessment has one rater: enter the score.")),
    (re.compile(r"each rater may rate once"), lambda m: _("Each rater may rate once.")),
    (re.compile(r"cannot be in the future"), lambda m: _("The date cannot be in the future.")),
    (re.compile(r"unknown assessment kind"), lambda m: _("Choose one of the options.")),
)


def assessment_errors(err: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in err.errors or [{"field": "_form", "message": err.message}]:
        field = str(e.get("field") or "_form").split(".")[0]
        message = str(e.get("message") or err.message)
        text = next((fn(m) for pattern, fn in _SCALE_MESSAGES if (m := pattern.search(message))), None)
        if text is None:
            text = refusal_errors(err).get(field, message)
        out.setdefault(field, text)
    return out
