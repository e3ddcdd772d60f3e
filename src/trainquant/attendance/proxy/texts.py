"""What a proxy case's evidence says, in the reader's language and the school's zone; the English
``detail`` is what a case stored before it kept its figures shows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from trainquant.attendance.models import ProxyCase
from trainquant.i18n import gettext_ as _
from trainquant.web import codes


def _clock(iso: str, zone: str, fmt: str = "%m-%d %H:%M") -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime(fmt)


def evidence(case: ProxyCase, zone: str) -> str:
    e = case.evidence or {}
    if not e:
        return case.detail
    if case.signal == "shared-device":
        return _("device %(device)s checked in %(people)s people within %(seconds)s s") % e
    if case.signal == "relayed-token":
        return _("QR step %(step)s used by %(people)s people; %(outside)s use(s) up to %(metres)s m outside the room") % e
    if case.signal == "impossible-travel":
        if "km" in e:
            speed = "∞" if e.get("kmh") is None else e["kmh"]
            return _("consecutive punches %(km)s km apart in %(minutes)s min (%(speed)s km/h)") % {**e, "speed": speed}
        return _("consecutive punches at two sites within %(minutes)s min") % e
    if case.signal == "timetable-contradiction":
        kind = {"in": _("check-in"), "out": _("check-out")}.get(e.get("kind", ""), e.get("kind", ""))
        text = _("%(kind)s at %(at)s while teaching %(start)s–%(end)s (%(zone)s)") % {
            "kind": kind, "at": _clock(e["at"], zone), "start": _clock(e["class_start"], zone), "end": _clock(e["class_end"], zone, "%H:%M"),
            "zone": zone}
        return text + (f" · {e['course']}" if e.get("course") else "")
    return case.detail


def _decided(p) -> str:
    status = {"confirmed": _("confirmed"), "cleared": _("cleared")}.get(p.get("status_was"), p.get("status_was", ""))
    return _("This case was already %(status)s by %(who)s.") % {"status": status, "who": p.get("decided_by") or "?"}


codes.register({
    "case-decision": lambda p: _("Choose confirm or clear."),
    "no-proxy-case": lambda p: _("There is no such case."),
    "case-already-decided": _decided,
    "case-note-required": lambda p: _("Confirming a case needs a note: what did you find?"),
})
