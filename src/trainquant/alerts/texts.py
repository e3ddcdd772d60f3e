"""What an alert says, in the reader's language: the names of its kinds, causes, slices and statuses,
and the sentence of each of its sessions or of its department's pattern, built from the figures the
alert stores (never from its English ``detail``, which is for API readers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from trainquant.alerts.models import Alert
from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.web import codes

CAUSES = {
    "timetable-conflict": N_("Timetable conflict"), "late": N_("Late"), "left-early": N_("Left early"), "no-checkout": N_("No check-out"),
    "absent": N_("Absent"), "away": N_("Left mid-session"), "weekend-sessions": N_("Weekend sessions"),
    "weekday-sessions": N_("Weekday sessions"), "morning-sessions": N_("Morning sessions"), "afternoon-sessions": N_("Afternoon sessions"),
    "evening-sessions": N_("Evening sessions"), "low-overall": N_("Low overall"),
}
KINDS = {"low-participation": N_("Low participation"), "department-pattern": N_("Department pattern")}
SLICES = {"weekday": N_("Weekdays"), "weekend": N_("Weekends"), "morning": N_("Mornings"), "afternoon": N_("Afternoons"), "evening": N_("Evenings")}
STATUSES = {"open": N_("To follow up"), "acknowledged": N_("Acknowledged"), "resolved": N_("Resolved")}


def _named(table: Mapping[str, str], code: str | None) -> str:
    if code is None:
        return ""
    return _(table[code]) if code in table else code


def cause(code: str | None) -> str:
    return _named(CAUSES, code)


def kind(code: str | None) -> str:
    return _named(KINDS, code)


def slice_name(code: str | None) -> str:
    return _named(SLICES, code)


def status(code: str | None) -> str:
    return _named(STATUSES, code)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def session_figures(item: Mapping, zone: str) -> str:
    """One session of a person's alert without its code: when, how long of how long, and what lost the most time."""
    when = datetime.fromisoformat(item["starts_at"]).astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M")
    lost = item.get("lost") or [[item.get("cause"), 0]]
    return _("%(when)s: attended %(attended)s of %(scheduled)s min, %(share)s (minimum %(minimum)s); "
             "most time lost: %(cause)s, %(lost)s min") % {
        "when": when, "attended": round(item.get("attended_s", 0) / 60), "scheduled": round(item.get("scheduled_s", 0) / 60),
        "share": _pct(item.get("participation")), "minimum": _pct(item.get("threshold")), "cause": cause(lost[0][0]), "lost": round(lost[0][1] / 60)}


def session_line(item: Mapping, zone: str) -> str:
    return f"{item['code']} {session_figures(item, zone)}"


def pattern_line(alert: Alert) -> str:
    """A department's pattern: its mean against the threshold, and the slice that drags it down."""
    slices = {s["name"]: s for s in (alert.suggestion or {}).get("slices", [])}
    worst = slices.get((alert.cause or "").removesuffix("-sessions"))
    total = sum(s["count"] for s in slices.values() if s["name"] in ("weekday", "weekend"))
    text = _("averaged %(mean)s over %(count)s participations, under %(threshold)s") % {
        "mean": _pct(alert.value), "count": total, "threshold": _pct(alert.threshold)}
    if worst is not None:
        text += _("; %(slice)s average %(mean)s (%(count)s)") % {"slice": slice_name(worst["name"]), "mean": _pct(worst["mean"]), "count": worst["count"]}
    return text


def lines(alert: Alert, zone: str) -> list[str]:
    """The alert's sentences: a session each for a person, one for a department."""
    if alert.kind == "department-pattern":
        return [pattern_line(alert)]
    return [session_line(item, zone) for item in alert.sessions or []]


codes.register({
    "alert-action": lambda p: _("Choose acknowledge or resolve."),
    "alert-already-acknowledged": lambda p: _("This alert is already acknowledged."),
    "alert-already-resolved": lambda p: _("This alert is already resolved."),
    "alert-bulk-target": lambda p: _("Tick the alerts, or choose every alert the filter shows."),
    "alert-bulk-too-many": lambda p: _("Too many alerts at once: narrow the filter (a department, a kind)."),
    "alert-bulk-none": lambda p: _("Tick the alerts to handle first."),
})
