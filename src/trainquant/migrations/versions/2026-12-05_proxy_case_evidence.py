"""proxy review cases keep their signal's figures, for the page to say in the reader's language

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 14:45:00.000000

The cases already stored have only their English sentence: its figures are read back out of it (the
four sentences proxy/rules.py writes). A sentence that matches none keeps an empty evidence, and the
page shows the sentence itself.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

SENTENCES = {
    "shared-device": (re.compile(r"^device (?P<device>.+) checked in (?P<people>\d+) people within (?P<seconds>\d+) s$"),
                      {"people": int, "seconds": int}),
    "relayed-token": (re.compile(r"^QR step (?P<step>\d+) used by (?P<people>\d+) people; (?P<outside>\d+) use\(s\) up to (?P<metres>\d+) m outside the room$"),
                      {"step": int, "people": int, "outside": int, "metres": int}),
    "timetable-contradiction": (re.compile(r"^punch '(?P<kind>[^']+)' at (?P<at>\S+) while teaching (?P<class_start>\S+)–(?P<class_end>\S+?)(?: \((?P<course>.*)\))?$"), {}),
}
TRAVEL = re.compile(r"^consecutive punches (?P<km>[\d.]+) km in (?P<minutes>\d+) min \((?P<kmh>∞|\d+) km/h\)$")
SITES = re.compile(r"^consecutive punches two sites within (?P<minutes>\d+) min$")


def evidence(signal: str, detail: str) -> dict:
    if signal == "impossible-travel":
        if m := TRAVEL.match(detail):
            return {"km": float(m["km"]), "minutes": int(m["minutes"]), "kmh": None if m["kmh"] == "∞" else int(m["kmh"])}
        if m := SITES.match(detail):
            return {"sites": 2, "minutes": int(m["minutes"])}
        return {}
    if signal in SENTENCES:
        pattern, types = SENTENCES[signal]
        if m := pattern.match(detail):
            return {k: types.get(k, str)(v) if v is not None else None for k, v in m.groupdict().items()}
    return {}


def upgrade() -> None:
    op.add_column('proxy_cases', sa.Column('evidence', sa.JSON(), server_default='{}', nullable=False))
    cases = sa.table('proxy_cases', sa.column('id', sa.Integer), sa.column('signal', sa.String), sa.column('detail', sa.Text),
                     sa.column('evidence', sa.JSON))
    conn = op.get_bind()
    for case_id, signal, detail in conn.execute(sa.select(cases.c.id, cases.c.signal, cases.c.detail)).all():
        found = evidence(signal, detail or "")
        if found:
            conn.execute(cases.update().where(cases.c.id == case_id).values(evidence=found))


def downgrade() -> None:
    op.execute("ALTER TABLE proxy_cases DROP COLUMN evidence")
