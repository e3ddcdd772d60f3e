"""Video statements as packed columns: what watch coverage reads of a statement, taken out once when
the LRS stores it, so that coverage never parses the JSON again. Pure (NumPy only).

A ``Packed`` holds the statements of one stored block: a NumPy record per statement whose object is an
Activity and whose context names a player session (``video.event_of`` reads no other), with the
activity and the session as indexes into the block's own lists of ids. Numbers are read as
``video._number`` reads them; a missing one is NaN. Blocks are concatenated and merged freely
(``concat``): a record's ``pk`` (the statement's storage order) travels with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from trainquant.learning.video import (
    COMPLETED,
    IDLE_FOR,
    INITIALIZED,
    PAUSED,
    SEEKED,
    SESSION_ID,
    SPEED,
    TERMINATED,
    TIME,
    TIME_FROM,
    TIME_TO,
    VISIBILITY,
)
from trainquant.learning.video import (
    PLAYED as PLAYED_VERB,
)

PLAYED, STOP, SEEK, OTHER = 0, 1, 2, 3
_VERBS = {PLAYED_VERB: PLAYED, PAUSED: STOP, COMPLETED: STOP, TERMINATED: STOP, INITIALIZED: STOP, SEEKED: SEEK}

# Little-endian, unaligned: the bytes are stored and read back on any machine.
DTYPE = np.dtype([
    ("pk", "<i8"),  # storage order (the statement's row id)
    ("learner", "<i8"),  # the employee the statement counts for
    ("activity", "<i4"),  # index into Packed.activities
    ("session", "<i4"),  # index into Packed.sessions
    ("verb", "i1"),  # PLAYED, STOP, SEEK or OTHER
    ("hidden", "i1"),  # -1 unchanged, 0 visible, 1 hidden
    ("stored", "<f8"),  # seconds since the epoch: when the LRS stored it
    ("wall", "<f8"),  # seconds since the epoch: its moment (learning.service._wall)
    ("time", "<f8"),
    ("time_from", "<f8"),
    ("time_to", "<f8"),
    ("speed", "<f8"),  # NaN: unchanged
    ("idle_for", "<f8"),  # NaN: none
])


def _num(value: Any) -> float:
    if isinstance(value, bool):
        return math.nan
    if isinstance(value, str):
        try:
            value = float(value.strip().removesuffix("x"))
        except ValueError:
            return math.nan
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return math.nan


def _speed(value: Any) -> float:
    speed = _num(value)
    return speed if speed > 0 else math.nan  # NaN > 0 is False: NaN stays NaN


def wall_time(stored: datetime, stored_by: str, document: Mapping[str, Any]) -> datetime:
    """A statement's moment (``learning.service``): ``stored`` when our player sent it (a user's
    session, which sends each statement as it happens), else its ``timestamp`` when that reads as a
    moment with a zone (a third-party tool may sync later), else ``stored``."""
    if stored_by.startswith("user:"):
        return stored
    raw = document.get("timestamp")
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    return moment if moment is not None and moment.tzinfo is not None else stored


@dataclass(frozen=True)
class Packed:
    activities: list[str]
    sessions: list[str]
    records: np.ndarray  # DTYPE

    def __len__(self) -> int:
        return len(self.records)

    def to_bytes(self) -> bytes:
        return self.records.tobytes()

    @classmethod
    def from_bytes(cls, activities: list[str], sessions: list[str], data: bytes) -> Packed:
        return cls(activities, sessions, np.frombuffer(data, dtype=DTYPE))


def extract(statements: Iterable[tuple[int, int, Mapping[str, Any], float, float]]) -> Packed:
    """(pk, learner, statement, stored seconds, wall seconds) to a block; statements whose object is
    not an Activity or that name no session are left out, as ``video.event_of`` leaves them."""
    activities: dict[str, int] = {}
    sessions: dict[str, int] = {}
    # One list per column, never a tuple per row: floats and ints are not tracked by the garbage
    # collector, a million tuples are (and its passes over them cost more than the reading).
    cols: list[list[float]] = [[] for _ in range(13)]
    nan, inf, verbs, number = math.nan, math.inf, _VERBS, _num
    empty: dict[str, Any] = {}
    (a_pk, a_learner, a_activity, a_session, a_verb, a_hidden, a_stored, a_wall, a_time, a_from, a_to, a_speed, a_idle) = (c.append for c in cols)
    # The usual statement is read by the fast branches below (a float position, no speed, ...);
    # anything else goes through _num, which reads it as video._number does.
    for pk, learner, doc, stored, wall in statements:
        obj = doc.get("object") or empty
        activity = obj.get("id")
        if type(activity) is not str or obj.get("objectType", "Activity") != "Activity":
            continue
        context = doc.get("context")
        if type(context) is not dict:
            context = empty
        cext = context.get("extensions") or empty
        session = cext.get(SESSION_ID) or context.get("registration")
        if type(session) is not str or not session:
            continue
        result = doc.get("result")
        rext = (result.get("extensions") if type(result) is dict else None) or empty
        x0, x1, x2, x3 = rext.get(TIME), rext.get(TIME_FROM), rext.get(TIME_TO), rext.get(IDLE_FOR)
        speed = cext.get(SPEED)
        visibility = cext.get(VISIBILITY)
        a_pk(pk)
        a_learner(learner)
        a_activity(activities.setdefault(activity, len(activities)))
        a_session(sessions.setdefault(session, len(sessions)))
        a_verb(verbs.get(doc["verb"]["id"], OTHER))
        a_hidden(-1 if visibility not in ("hidden", "visible") else int(visibility == "hidden"))
        a_stored(stored)
        a_wall(wall)
        a_time(nan if x0 is None else x0 if type(x0) is float and 0 <= x0 < inf else number(x0))
        a_from(nan if x1 is None else x1 if type(x1) is float and 0 <= x1 < inf else number(x1))
        a_to(nan if x2 is None else x2 if type(x2) is float and 0 <= x2 < inf else number(x2))
        a_speed(nan if speed is None else _speed(speed))
        a_idle(nan if x3 is None or type(x3) is str else x3 if type(x3) is float and 0 <= x3 < inf else number(x3))
    records = np.empty(len(cols[0]), dtype=DTYPE)
    for name, values in zip(DTYPE.names or (), cols, strict=True):
        records[name] = values
    return Packed(list(activities), list(sessions), records)


def concat(blocks: Sequence[Packed]) -> Packed:
    """One block of all of them (their id lists merged, records in the blocks' order)."""
    activities: dict[str, int] = {}
    sessions: dict[str, int] = {}
    parts = []
    for block in blocks:
        if not len(block):
            continue
        a_map = np.array([activities.setdefault(a, len(activities)) for a in block.activities], dtype=np.int32)
        s_map = np.array([sessions.setdefault(s, len(sessions)) for s in block.sessions], dtype=np.int32)
        records = block.records.copy()
        records["activity"] = a_map[records["activity"]]
        records["session"] = s_map[records["session"]]
        parts.append(records)
    records = np.concatenate(parts) if parts else np.empty(0, dtype=DTYPE)
    return Packed(list(activities), list(sessions), records)
