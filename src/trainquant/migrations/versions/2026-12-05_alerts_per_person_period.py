"""low-participation alerts become one per person per month, listing its sessions

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:30:00.000000

The alerts already raised (one per person and session, fingerprint lp:<session>:<employee>) are merged
into their person's month in the school's zone (TQ_DEFAULT_TIMEZONE): nothing HR did is lost. The
merged alert is open if any of its parts was, else acknowledged if any was, else resolved; it keeps the
latest handler. A part's minutes are its person's stored attendance figures for the session.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import trainquant.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

RANK = {"open": 0, "acknowledged": 1, "resolved": 2}
# alerts/rules.py's CAUSE_PRIORITY as of this revision (a migration does not follow later changes).
PRIORITY = ("timetable-conflict", "absent", "late", "left-early", "no-checkout", "away")


def _cause(items: list[dict]) -> str:
    """The cause that lost the most time over the sessions, each session's own cause weighted by its loss."""
    lost: dict[str, int] = defaultdict(int)
    for i in items:
        cause, seconds = i['lost'][0]
        lost[cause] += seconds
    return min(lost.items(), key=lambda kv: (-kv[1], PRIORITY.index(kv[0]) if kv[0] in PRIORITY else len(PRIORITY)))[0]


def _moment(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def upgrade() -> None:
    op.add_column('alerts', sa.Column('sessions', sa.JSON(), server_default='[]', nullable=False))
    zone = ZoneInfo(os.environ.get("TQ_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    conn = op.get_bind()
    alerts = sa.table('alerts', sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('fingerprint', sa.String),
                      sa.column('employee_id', sa.Integer), sa.column('session_id', sa.Integer), sa.column('value', sa.Float),
                      sa.column('threshold', sa.Float), sa.column('cause', sa.String), sa.column('suggestion', sa.JSON),
                      sa.column('status', sa.String), sa.column('handled_by', sa.String), sa.column('handled_at', trainquant.db.UTCDateTime(timezone=True)),
                      sa.column('period_start', sa.Date), sa.column('period_end', sa.Date), sa.column('sessions', sa.JSON),
                      sa.column('created_at', trainquant.db.UTCDateTime(timezone=True)))
    sessions = sa.table('training_sessions', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('starts_at', trainquant.db.UTCDateTime(timezone=True)))
    rows = conn.execute(sa.select(alerts, sessions.c.code, sessions.c.starts_at.label('starts'))
                        .join(sessions, sessions.c.id == alerts.c.session_id)
                        .where(alerts.c.kind == 'low-participation').order_by(sessions.c.starts_at, alerts.c.id)).mappings().all()
    records = sa.table('attendance_records', sa.column('session_id', sa.Integer), sa.column('employee_id', sa.Integer),
                       sa.column('attended_seconds', sa.Integer), sa.column('scheduled_seconds', sa.Integer))
    seconds = {(sid, eid): (a, b) for sid, eid, a, b in conn.execute(sa.select(records).where(
        sa.tuple_(records.c.session_id, records.c.employee_id).in_(sa.select(alerts.c.session_id, alerts.c.employee_id)
                                                                   .where(alerts.c.kind == 'low-participation'))))}
    groups: dict[tuple[int, date], list] = defaultdict(list)
    for r in rows:
        groups[(r['employee_id'], _moment(r['starts']).astimezone(zone).date().replace(day=1))].append(r)
    for (employee_id, month), parts in groups.items():
        first, last = _month(month)
        keep, *merged = parts
        status = min((p['status'] for p in parts), key=RANK.__getitem__)
        handled = max((p for p in parts if p['handled_at'] is not None), key=lambda p: _moment(p['handled_at']), default=None)
        items = []
        for p in parts:
            attended, scheduled = seconds.get((p['session_id'], employee_id), (0, 0))
            lost = sorted(((cause, round(m * 60)) for cause, m in ((p['suggestion'] or {}).get('lost_minutes') or {}).items()), key=lambda kv: -kv[1])
            items.append({"session_id": p['session_id'], "code": p['code'], "starts_at": _moment(p['starts']).isoformat(),
                          "attended_s": attended, "scheduled_s": scheduled, "participation": p['value'], "threshold": p['threshold'],
                          "cause": p['cause'], "lost": [list(kv) for kv in lost] or [[p['cause'], max(0, scheduled - attended)]],
                          **(p['suggestion'] or {})})
        thresholds = {p['threshold'] for p in parts}
        latest = parts[-1]
        conn.execute(alerts.update().where(alerts.c.id == keep['id']).values(
            fingerprint=f"lp:{employee_id}:{first:%Y-%m}", session_id=latest['session_id'], sessions=items,
            value=round(sum(i['attended_s'] for i in items) / sum(i['scheduled_s'] for i in items), 4)
            if sum(i['scheduled_s'] for i in items) else min((p['value'] or 0.0) for p in parts),
            threshold=thresholds.pop() if len(thresholds) == 1 else None, cause=_cause(items), status=status,
            suggestion=latest['suggestion'] or {}, period_start=first, period_end=last,
            handled_by=None if status == "open" or handled is None else handled['handled_by'],
            handled_at=None if status == "open" or handled is None else handled['handled_at'],
            created_at=min(_moment(p['created_at']) for p in parts)))
        if merged:
            conn.execute(alerts.delete().where(alerts.c.id.in_([p['id'] for p in merged])))


def downgrade() -> None:
    # Back to one alert per person and session: each listed session again has its own row.
    conn = op.get_bind()
    alerts = sa.table('alerts', sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('fingerprint', sa.String),
                      sa.column('employee_id', sa.Integer), sa.column('department_id', sa.Integer), sa.column('session_id', sa.Integer),
                      sa.column('value', sa.Float), sa.column('threshold', sa.Float), sa.column('cause', sa.String),
                      sa.column('detail', sa.Text), sa.column('suggestion', sa.JSON), sa.column('status', sa.String),
                      sa.column('handled_by', sa.String), sa.column('handled_at', trainquant.db.UTCDateTime(timezone=True)), sa.column('period_start', sa.Date),
                      sa.column('period_end', sa.Date), sa.column('sessions', sa.JSON), sa.column('created_at', trainquant.db.UTCDateTime(timezone=True)))
    for r in conn.execute(sa.select(alerts).where(alerts.c.kind == 'low-participation')).mappings().all():
        items = r['sessions'] or []
        if isinstance(items, str):
            import json
            items = json.loads(items)
        for i, item in enumerate(items):
            values = {"fingerprint": f"lp:{item['session_id']}:{r['employee_id']}", "session_id": item['session_id'],
                      "value": item.get('participation'), "threshold": item.get('threshold'), "cause": item.get('cause') or r['cause'],
                      "period_start": None, "period_end": None,
                      "suggestion": {k: item[k] for k in ("lost_minutes", "next_clashing_sessions", "move_to") if k in item}}
            if i == 0:
                conn.execute(alerts.update().where(alerts.c.id == r['id']).values(**values))
            else:
                conn.execute(alerts.insert().values(kind='low-participation', employee_id=r['employee_id'], department_id=r['department_id'],
                                                    detail=r['detail'], status=r['status'], handled_by=r['handled_by'],
                                                    handled_at=r['handled_at'], created_at=r['created_at'], **values))
    op.execute("ALTER TABLE alerts DROP COLUMN sessions")
