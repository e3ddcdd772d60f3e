"""A rejection's message in the reader's language: its stored template (the English msgid) translated
and filled with its values; a rejection stored before templates were kept shows its English message."""

from __future__ import annotations

from collections.abc import Mapping

from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _


def detail(error: Mapping) -> str:
    kept = error.get("params") or {}
    template = kept.get("t")
    if not template:
        return str(error.get("message") or "")
    try:
        return _(template) % (kept.get("p") or {}) if kept.get("p") else _(template)
    except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit its values: the English
        return str(error.get("message") or "")


# The names of a run's kind, mode and status, for its page and its error report alike.
LABELS: dict[str, dict[str, str]] = {
    "status": {"applied": N_("Applied"), "partial": N_("Partly applied"), "rejected": N_("Rejected")},
    "kind": {"employees": N_("Employees"), "timetables": N_("Timetables")},
    "mode": {"all-or-nothing": N_("All or nothing"), "valid-only": N_("Valid rows only")},
}


def label(what: str, value: str) -> str:
    names = LABELS.get(what, {})
    return _(names[value]) if value in names else value
