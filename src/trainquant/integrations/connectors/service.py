"""Connectors: made and rotated by HR/IT, their secrets encrypted at rest; signed webhook deliveries
taken into the metric store (``integrations.metrics.service.ingest_records``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.config import Settings
from trainquant.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from trainquant.integrations.connectors import rules
from trainquant.integrations.connectors.models import Connector, WebhookDelivery
from trainquant.integrations.metrics.service import ingest_records
from trainquant.jsonbody import parse_json


def fernet(settings: Settings) -> Fernet:
    return Fernet(settings.encryption_key.encode())


def _secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def get_connector(db: Session, name: str) -> Connector:
    found = db.scalar(select(Connector).where(Connector.name == name))
    if found is None:
        raise NotFound(f"no connector {name!r}")
    return found


def create_connector(db: Session, *, name: str, system: str, title: str | None, settings: Settings, now: datetime) -> tuple[Connector, str]:
    """A new connector and its webhook secret (shown this once: only its encryption is kept)."""
    if db.scalar(select(Connector.id).where(Connector.name == name)) is not None:
        raise Conflict(f"a connector {name!r} exists", code="connector-exists")
    secret = _secret()
    row = Connector(name=name, system=system, title=title, active=True, secret_encrypted=fernet(settings).encrypt(secret.encode()).decode(),
                    created_at=now)
    db.add(row)
    db.flush()
    return row, secret


def rotate_secret(db: Session, name: str, *, settings: Settings, now: datetime) -> tuple[Connector, str]:
    """A new secret; the one it replaces still verifies for ``webhook_rotation_grace_h`` hours."""
    row = get_connector(db, name)
    secret = _secret()
    row.previous_secret_encrypted, row.previous_valid_until = row.secret_encrypted, now + timedelta(hours=settings.webhook_rotation_grace_h)
    row.secret_encrypted, row.rotated_at = fernet(settings).encrypt(secret.encode()).decode(), now
    db.flush()
    return row, secret


def set_active(db: Session, name: str, active: bool) -> Connector:
    row = get_connector(db, name)
    row.active = active
    db.flush()
    return row


def _secrets(row: Connector, settings: Settings, now: datetime) -> list[str]:
    key = fernet(settings)
    encrypted = [row.secret_encrypted]
    if row.previous_secret_encrypted and row.previous_valid_until is not None and now <= row.previous_valid_until:
        encrypted.append(row.previous_secret_encrypted)
    try:
        return [key.decrypt(e.encode()).decode() for e in encrypted]
    except InvalidToken:
        # Encrypted with another instance key (restored from elsewhere): no delivery can be verified.
        raise Conflict(f"connector {row.name}'s secret cannot be read with this instance's encryption key; rotate it",
                       code="connector-secret-unreadable") from None


def receive_webhook(db: Session, name: str, body: bytes, *, timestamp: str | None, signature: str | None, delivery_id: str | None,
                    settings: Settings, now: datetime) -> dict[str, Any]:
    """A signed delivery of metric records: verified, then stored; the same delivery again is a repeat."""
    row = db.scalar(select(Connector).where(Connector.name == name))
    # Unknown and unsigned look the same from outside: nothing tells a prober which names exist.
    if row is None:
        raise Unauthorized("the delivery is not signed by a known connector", code="signature-invalid")
    problem = rules.check(_secrets(row, settings, now), timestamp, signature, body, now=now.timestamp())
    if problem is not None:
        raise Unauthorized(f"the delivery was refused: {problem}", code=problem)
    if not row.active:
        raise Forbidden(f"connector {name} is switched off", code="connector-inactive")
    assert signature is not None  # checked above
    signature = signature.strip()[:80]
    seen = db.scalar(select(WebhookDelivery).where(WebhookDelivery.connector_id == row.id, WebhookDelivery.signature == signature))
    if seen is not None:
        return {**seen.answer, "repeat": True, "delivery": seen.id}
    payload = parse_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list) or set(payload) - {"records"}:
        raise Invalid('send {"records": [...]}')
    result = ingest_records(db, row.name, payload["records"], now=now, system=row.system)
    answer = {k: getattr(result, k) for k in ("accepted", "unmapped", "duplicate", "rejected")}
    delivery = WebhookDelivery(connector_id=row.id, signature=signature, delivery_id=(delivery_id or "")[:120] or None, received_at=now,
                               records=len(payload["records"]), answer=answer)
    db.add(delivery)
    db.flush()
    return {**answer, "repeat": False, "delivery": delivery.id, "results": [v.model_dump() for v in result.results]}
