"""One definition of each rate the reports show (msgids: the pages show them on hover and under the
table, the workbooks on a sheet of their own). A change here is a change of what the figures mean. A percent sign is written %%, as in every msgid
the pages format."""

from __future__ import annotations

from trainquant.analytics.terms import Term
from trainquant.i18n import gettext_ as _

ATTENDANCE_RATE = (
    "Attendance rate = places attended / approved places in sessions that have ended. A place is "
    "attended when its participation reaches the session's minimum; a place whose attendance was not taken counts as attended."
)
PARTICIPATION_RATE = (
    "Participation rate = the mean, over the ended places whose attendance was taken, of the time "
    "attended / the time scheduled (2 h scheduled, 1.5 h attended = 75%%)."
)
SHARE_MET = (
    "Indicators met = of the participants' latest indicator results with a verdict, the share met; "
    "results without data are left out and counted apart."
)
ALLOCATED_COST = (
    "Training cost, allocated: each held session's cost (its own and an even part of its program's "
    "program-wide costs) spread over its approved places; the places shown carry their share."
)



def text(msgid: str) -> str:
    """A definition in the reader's language, as the pages' ``_()`` formats it (``%%`` is one %)."""
    return _(msgid) % {}


# The seasons TQ_SCHOOL_TERMS may name that the catalogue translates; another key shows as written.
SEASONS = {"winter": "Winter holiday classes %(year)s", "spring": "Spring term %(year)s",
           "summer": "Summer holiday classes %(year)s", "autumn": "Autumn term %(year)s"}


def term_name(term: Term) -> str:
    if term.season in SEASONS:
        return _(SEASONS[term.season]) % {"year": term.year}
    return f"{term.year} {term.season}"
