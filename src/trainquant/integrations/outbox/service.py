"""Training data going out: subscriptions, the transactional outbox, and delivery on the job queue.

``publish`` is called inside the transaction that makes the change (an assessment recorded, an
evaluation run stored), so an event exists if and only if its change was committed. Training
completions are collected by the sweep from the stored attendance figures (they settle after a
session's end, when nothing else may write). Each event fans out to a delivery per subscription at
publication; the sweep posts what is due, signed as the webhooks TrainQuant takes are signed
(HMAC-SHA256 over ``<timestamp>.<body>``), with a delivery id that never changes, so a receiver that
saw it already answers 2xx and drops it. A failed post is tried again after an exponential backoff
until ``outbox_max_attempts``; then the delivery is ``dead``, kept in the log and replayable.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.models import AttendanceRecord
from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.errors import Invalid, NotFound
from trainquant.integrations.connectors.rules import sign
from trainquant.integrations.connectors.service import fernet, get_connector
from trainquant.integrations.outbox.models import EVENT_TYPES, Delivery, OutboxEvent, Subscription
from trainquant.integrations.pull.rules import backoff
from trainquant.org.models import Employee
from trainquant.pagination import PageParams
from trainquant.training.models import Program, TrainingSession

LEASE = timedelta(seconds=60)


def subscribe(db: Session, connector: str, *, url: str, events: list[str], settings: Settings, now: datetime) -> tuple[Subscription, str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise Invalid(f"events are some of {', '.join(EVENT_TYPES)}", code="unknown-event-type")
    row = get_connector(db, connector)
    secret = "whsec_" + secrets.token_urlsafe(32)
    sub = Subscription(connector_id=row.id, url=url, events=sorted(set(events)), active=True, created_at=now,
                       secret_encrypted=fernet(settings).encrypt(secret.encode()).decode())
    db.add(sub)
    db.flush()
    return sub, secret


def get_subscription(db: Session, sub_id: int) -> Subscription:
    sub = db.get(Subscription, sub_id)
    if sub is None:
        raise NotFound(f"no subscription {sub_id}")
    return sub


def listeners(db: Session, event_type: str) -> list[Subscription]:
    return [s for s in db.scalars(select(Subscription).where(Subscription.active.is_(True)).order_by(Subscription.id)) if event_type in s.events]


def publish(db: Session, event_type: str, key: str, payload: dict[str, Any], *, occurred_at: datetime, now: datetime,
            subscribers: list[Subscription] | None = None) -> OutboxEvent | None:
    """Keep the event and one delivery per subscriber, in the caller's transaction. Nothing is kept
    when nobody listens, and an event published before (same ``key``) is not published again."""
    subs = listeners(db, event_type) if subscribers is None else subscribers
    if not subs or db.scalar(select(OutboxEvent.id).where(OutboxEvent.key == key)) is not None:
        return None
    try:
        with db.begin_nested():  # a concurrent publisher of the same key wins; this one steps back
            event = OutboxEvent(event_type=event_type, key=key, payload=payload, occurred_at=occurred_at, created_at=now)
            db.add(event)
            db.flush()
            db.add_all([Delivery(delivery_id=uuid.uuid4().hex, event_id=event.id, subscription_id=s.id, status="pending", attempts=0,
                                 next_attempt_at=now, created_at=now) for s in subs])
            db.flush()
    except IntegrityError:
        return None
    return event


def collect_completions(db: Session, *, now: datetime, lookback: timedelta = timedelta(days=30)) -> int:
    """``training.completed`` for every attended place (participation at the session's minimum) in a
    session that ended within ``lookback``; each published once."""
    subs = listeners(db, "training.completed")
    if not subs:
        return 0
    q = (select(AttendanceRecord.session_id, AttendanceRecord.employee_id, AttendanceRecord.participation, AttendanceRecord.attended_seconds,
                TrainingSession.code, TrainingSession.ends_at, Program.code, Program.title, Employee.employee_no)
         .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
         .join(Program, Program.id == TrainingSession.program_id)
         .join(Employee, Employee.id == AttendanceRecord.employee_id)
         .where(TrainingSession.ends_at <= now, TrainingSession.ends_at > now - lookback, TrainingSession.status != "cancelled",
                AttendanceRecord.participation >= TrainingSession.min_participation))
    found = {f"training.completed:{sid}:{eid}": row for row in db.execute(q) for sid, eid in [row[:2]]}
    known: set[str] = set()
    keys = sorted(found)
    for i in range(0, len(keys), 500):
        known.update(db.scalars(select(OutboxEvent.key).where(OutboxEvent.key.in_(keys[i:i + 500]))))
    made = 0
    for key in keys:
        if key in known:
            continue
        _, _, participation, seconds, session_code, ends_at, program_code, title, employee_no = found[key]
        payload = {"employee_no": employee_no, "program_code": program_code, "program_title": title, "session_code": session_code,
                   "participation": round(participation, 4), "attended_minutes": seconds // 60, "completed_at": ends_at.isoformat()}
        made += publish(db, "training.completed", key, payload, occurred_at=ends_at, now=now, subscribers=subs) is not None
    return made


# ---------------------------------------------------------------- delivering


def body_of(d: Delivery) -> bytes:
    return orjson.dumps({"delivery_id": d.delivery_id, "event": d.event.event_type, "occurred_at": d.event.occurred_at.isoformat(),
                         "data": d.event.payload})


def _claim(db: Session, now: datetime, limit: int) -> list[int]:
    due = list(db.scalars(select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now,
                                                    or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
                          .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    if not due:
        return []
    # Taken only where still free: a sender on another process that claimed them first keeps them.
    taken = db.scalars(update(Delivery).where(Delivery.id.in_(due), Delivery.status == "pending",
                                              or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
                       .values(lease_until=now + LEASE).returning(Delivery.id))
    return sorted(taken)


def deliver_due(factory: sessionmaker[Session], *, settings: Settings, clock: Callable[[], datetime], limit: int = 200,
                transport: httpx.BaseTransport | None = None) -> dict[str, int]:
    """Post every due delivery once; returns how many were delivered, failed (to be retried) and died."""
    counts = {"delivered": 0, "retry": 0, "dead": 0}
    with unit_of_work(factory) as db:
        ids = _claim(db, clock(), limit)
    if not ids:
        return counts
    keys = fernet(settings)
    with httpx.Client(timeout=settings.outbox_timeout_s, transport=transport, follow_redirects=False) as http:
        for delivery_id in ids:
            with unit_of_work(factory) as db:
                d = db.get(Delivery, delivery_id)
                if d is None or d.status != "pending":
                    continue
                body, url = body_of(d), d.subscription.url
                secret = keys.decrypt(d.subscription.secret_encrypted.encode()).decode()
                headers = {"Content-Type": "application/json", "X-TQ-Delivery": d.delivery_id, "X-TQ-Event": d.event.event_type}
            # The receiver checks the timestamp against its own clock: the wall clock's, not the app's.
            stamp = int(time.time())
            headers |= {"X-TQ-Timestamp": str(stamp), "X-TQ-Signature": sign(secret, stamp, body)}
            status, error = None, None
            try:
                r = http.post(url, content=body, headers=headers)
                status = r.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            with unit_of_work(factory) as db:
                d = db.get(Delivery, delivery_id)
                assert d is not None
                now = clock()
                d.attempts += 1
                d.last_status, d.last_error, d.lease_until = status, error, None
                if error is None:
                    d.status, d.delivered_at = "delivered", now
                    counts["delivered"] += 1
                elif d.attempts >= settings.outbox_max_attempts:
                    d.status = "dead"
                    counts["dead"] += 1
                else:
                    wait = backoff(d.attempts - 1, base=settings.outbox_backoff_s, cap=settings.outbox_backoff_max_s, jitter=random.random())
                    d.next_attempt_at = now + timedelta(seconds=wait)
                    counts["retry"] += 1
    return counts


def replay(db: Session, delivery_id: str, *, now: datetime) -> Delivery:
    """Send a delivery again (the same delivery id), whatever became of it: a dead one after the
    receiver was fixed, a delivered one the receiver lost."""
    d = db.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))
    if d is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    d.status, d.attempts, d.next_attempt_at, d.lease_until = "pending", 0, now, None
    db.flush()
    return d


def list_deliveries(db: Session, page: PageParams, *, status: str | None = None, subscription: int | None = None) -> tuple[list[Delivery], int]:
    where = [c for c in (Delivery.status == status if status else None, Delivery.subscription_id == subscription if subscription else None)
             if c is not None]
    total = db.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0
    rows = list(db.scalars(select(Delivery).where(*where).order_by(Delivery.id.desc()).offset(page.offset).limit(page.page_size)))
    return rows, total
