"""Clashes of a session's trainer or venue with another session's. Pure: standard library only; the time is a parameter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from trainquant.training.rules.base import name_key


@dataclass(frozen=True)
class Booking:
    session_id: int | None
    code: str
    starts_at: datetime
    ends_at: datetime
    trainer: str | None = None
    trainer_employee_id: int | None = None
    venue_id: int | None = None  # a room: two sessions cannot hold it at once


def same_trainer(a: Booking, b: Booking) -> bool:
    if a.trainer_employee_id is not None and b.trainer_employee_id is not None:
        return a.trainer_employee_id == b.trainer_employee_id
    return bool(name_key(a.trainer)) and name_key(a.trainer) == name_key(b.trainer)


def trainer_clash(new: Booking, others: Iterable[Booking]) -> Booking | None:
    """The first other session the same trainer teaches at an overlapping time (touching ends are fine)."""
    for other in sorted(others, key=lambda b: b.starts_at):
        if new.session_id is not None and other.session_id == new.session_id:
            continue
        if same_trainer(new, other) and new.starts_at < other.ends_at and other.starts_at < new.ends_at:
            return other
    return None


def venue_clash(new: Booking, others: Iterable[Booking]) -> Booking | None:
    """The first other session holding the same room at an overlapping time (touching ends are fine)."""
    if new.venue_id is None:
        return None
    for other in sorted(others, key=lambda b: b.starts_at):
        if new.session_id is not None and other.session_id == new.session_id:
            continue
        if other.venue_id == new.venue_id and new.starts_at < other.ends_at and other.starts_at < new.ends_at:
            return other
    return None
