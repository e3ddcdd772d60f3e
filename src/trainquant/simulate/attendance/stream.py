"""What the simulated check-ins are made of (``attendance.generate_checkins`` makes them): the terminals,
the make-up lessons added to timetables, the batches as each platform sends them, and the figures the
attendance core must compute, kept as ground truth."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class DeviceSpec:
    device_id: str
    site: str
    venue: str
    name: str


@dataclass(frozen=True)
class ClassSpec:
    """A make-up lesson the simulation adds to a teacher's timetable (a dated class, UTC)."""

    employee_no: str
    starts_at: datetime
    ends_at: datetime
    course: str
    site: str | None


@dataclass(frozen=True)
class Batch:
    source: str  # zkteco | api | wecom
    events: tuple[dict, ...]
    manual: bool = False  # sent by HR (the meeting log import): needs an attendance:manage principal
    resent: bool = False  # a repeat of events already sent: every one must come back duplicate


@dataclass(frozen=True)
class Truth:
    """One approved participant of one ended session."""

    session_code: str
    employee_no: str
    kind: str  # the person's department kind
    behaviour: str  # full | late | early-leave | forgot-checkout | leaves-for-class | teaches-while-checked-in | teaching | absent | elsewhere | proxied
    scheduled_seconds: int
    attended_seconds: int  # what the attendance core must compute from the events, before any proxy confirmation
    late_seconds: int | None  # None where the person has no attended time (the core reports 0 then)
    early_leave_seconds: int | None
    real_seconds: int  # time really in the room and not teaching: 0 for the proxied, the true stay when checkout was forgotten

    @property
    def participation(self) -> float:
        return self.attended_seconds / self.scheduled_seconds if self.scheduled_seconds else 0.0


@dataclass(frozen=True)
class ProxyGroup:
    session_code: str
    phone: str
    signer: str  # the consultant whose phone it is (really there)
    absent: tuple[str, ...]  # signed in and out by the signer's phone


@dataclass(frozen=True)
class CheckinStream:
    seed: int
    devices: tuple[DeviceSpec, ...]
    classes: tuple[ClassSpec, ...]
    batches: tuple[Batch, ...]
    truth: dict[tuple[str, str], Truth]
    proxy_groups: tuple[ProxyGroup, ...]
    policy: dict[str, str] = field(default_factory=dict)  # session code -> missing-checkout policy used

    @property
    def events(self) -> list[dict]:
        """Every event sent, resends included."""
        return [e for b in self.batches for e in b.events]

    @property
    def unique_events(self) -> int:
        return sum(len(b.events) for b in self.batches if not b.resent)

    @property
    def resent_events(self) -> int:
        return sum(len(b.events) for b in self.batches if b.resent)

    def behaviours(self) -> Counter:
        return Counter(t.behaviour for t in self.truth.values())

    def participation(self, kind: str) -> float:
        rows = [t.participation for t in self.truth.values() if t.kind == kind]
        return sum(rows) / len(rows) if rows else 0.0
