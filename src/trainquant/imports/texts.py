"""A rejection's message in the reader's language: its stored template (the English msgid) translated
and filled with its values; a rejection stored before templates were kept shows its English message."""

from __future__ import annotations

from collections.abc import Mapping

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
