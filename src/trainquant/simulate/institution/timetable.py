"""Teachers' weeks shaped like a real language school's: adults learn on weekday evenings and at
weekends, children after school and at weekends, and weekday daytime is mostly free."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

MIN_WEEKLY_HOURS, MAX_WEEKLY_HOURS = 15.0, 25.0
# Weekday daytime and after-school hours together stay under this, so evenings and weekends dominate.
MAX_OFF_PEAK_HOURS = 5.0
DAY_CAP_HOURS = {0: 5.0, 1: 5.0, 2: 5.0, 3: 5.0, 4: 5.0, 5: 8.0, 6: 8.0}


@dataclass(frozen=True)
class Block:
    weekday: int
    start: time
    end: time

    @property
    def hours(self) -> float:
        return (_minutes(self.end) - _minutes(self.start)) / 60

    @property
    def period(self) -> str:
        return period_of(self.weekday, self.start)

    def overlaps(self, other: Block) -> bool:
        return self.weekday == other.weekday and self.start < other.end and other.start < self.end


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _t(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def period_of(weekday: int, start: time) -> str:
    """weekend | evening (weekday, from 18:00) | after_school (weekday 16:00-18:00) | daytime."""
    if weekday >= 5:
        return "weekend"
    if start >= time(18, 0):
        return "evening"
    if start >= time(16, 0):
        return "after_school"
    return "daytime"


PRIME_PERIODS = frozenset({"weekend", "evening"})


def _spans(*pairs: str) -> tuple[tuple[time, time], ...]:
    return tuple((_t(p.split("-")[0]), _t(p.split("-")[1])) for p in pairs)


# Class blocks (1.5-3 h) each teaching line offers, by period.
LINES: dict[str, dict[str, tuple[tuple[time, time], ...]]] = {
    "ielts": {
        "evening": _spans("18:00-20:00", "18:30-20:30", "19:00-21:00", "18:00-21:00", "18:30-21:00"),
        "weekend": _spans("08:30-11:30", "09:00-11:00", "09:00-12:00", "10:00-12:00", "13:00-15:00",
                          "13:00-16:00", "13:30-16:30", "14:00-16:00", "15:30-17:30", "16:00-18:00",
                          "16:30-18:30", "18:00-20:00", "18:30-20:30"),
        "daytime": _spans("10:00-12:00", "14:00-16:00", "14:00-17:00"),  # full-time intensive, VIP 1-to-1
    },
    "kids": {
        "after_school": _spans("16:30-18:00", "17:00-18:30"),
        "evening": _spans("18:30-20:00", "19:00-20:30"),
        "weekend": _spans("08:30-10:00", "09:00-10:30", "10:10-11:40", "10:30-12:00", "13:00-14:30",
                          "13:30-15:00", "15:00-16:30", "15:10-16:40", "16:40-18:10", "17:00-18:30",
                          "18:40-20:10", "19:00-20:30"),
    },
    "native": {
        "after_school": _spans("16:30-18:00"),
        "evening": _spans("18:30-20:00", "19:00-20:30", "19:00-21:00"),
        "weekend": _spans("09:00-10:30", "10:30-12:00", "13:00-14:30", "14:00-16:00", "15:00-16:30",
                          "16:30-18:00", "18:30-20:00"),
        "daytime": _spans("10:00-12:00", "14:00-15:30"),  # corporate spoken-English classes
    },
}
LINES["toefl"] = LINES["ielts"]

COURSES: dict[str, tuple[str, ...]] = {
    "ielts": ("雅思基础班", "雅思6.5分强化班", "雅思7分冲刺班", "雅思口语", "雅思写作", "雅思听力精讲",
              "雅思阅读", "雅思VIP一对一"),
    "toefl": ("托福基础班", "托福100分冲刺班", "托福口语", "托福写作", "托福阅读", "托福听力",
              "托福VIP一对一"),
    "kids": ("少儿英语启蒙", "自然拼读", "剑桥少儿英语一级", "剑桥少儿英语二级", "KET备考班", "PET备考班",
             "新概念英语一册"),
    "native": ("外教口语", "外教少儿口语", "商务英语口语", "外教雅思口语", "外教托福口语"),
}
PERIOD_WEIGHT = {"weekend": 3.0, "evening": 3.0, "after_school": 2.0, "daytime": 0.35}


def candidate_blocks(line: str) -> list[Block]:
    out = []
    for period, spans in LINES[line].items():
        days = (5, 6) if period == "weekend" else (0, 1, 2, 3, 4)
        out += [Block(d, s, e) for d in days for s, e in spans]
    return out


def _pick(rng: random.Random, candidates: list[Block], target: float, day_off: int) -> list[Block]:
    # A weighted random order (Efraimidis-Spirakis keys), then first fit.
    keyed = sorted(candidates, key=lambda b: rng.random() ** (1 / PERIOD_WEIGHT[b.period]), reverse=True)
    chosen: list[Block] = []
    total = off_peak = 0.0
    per_day: dict[int, float] = {}
    for b in keyed:
        if total >= target:
            break
        h = b.hours
        if b.weekday == day_off or total + h > MAX_WEEKLY_HOURS:
            continue
        if b.period not in PRIME_PERIODS and off_peak + h > MAX_OFF_PEAK_HOURS:
            continue
        if per_day.get(b.weekday, 0.0) + h > DAY_CAP_HOURS[b.weekday]:
            continue
        if any(b.overlaps(c) for c in chosen):
            continue
        chosen.append(b)
        total += h
        per_day[b.weekday] = per_day.get(b.weekday, 0.0) + h
        if b.period not in PRIME_PERIODS:
            off_peak += h
    return chosen


def weekly_blocks(rng: random.Random, line: str, target: float) -> list[Block]:
    """Non-overlapping blocks totalling between 15 h and 25 h (and at least ``target`` when it fits)."""
    target = min(max(target, MIN_WEEKLY_HOURS), MAX_WEEKLY_HOURS)
    candidates = candidate_blocks(line)
    best: list[Block] = []
    for attempt in range(60):
        day_off = rng.randrange(5) if attempt < 40 else -1  # a free weekday, as most teachers have
        chosen = _pick(rng, candidates, target, day_off)
        if sum(b.hours for b in chosen) >= target:
            return sorted(chosen, key=lambda b: (b.weekday, b.start))
        if sum(b.hours for b in chosen) > sum(b.hours for b in best):
            best = chosen
    if sum(b.hours for b in best) < MIN_WEEKLY_HOURS:
        raise RuntimeError(f"could not fill a {line} week of {target} h")  # the menus make this unreachable
    return sorted(best, key=lambda b: (b.weekday, b.start))


def course_for(rng: random.Random, line: str, block: Block) -> str:
    courses = COURSES[line]
    if line == "kids" and block.start >= time(18, 30):
        courses = courses[3:]  # older children's exam classes run later
    return rng.choice(courses)


def make_up_lessons(
    rng: random.Random, blocks: list[Block], *, today: date, not_before: date, count: int
) -> list[tuple[date, time, time]]:
    """One-off make-up lessons within three weeks of ``today``, clear of the teacher's weekly classes."""
    options = _spans("10:00-12:00", "14:00-15:30", "14:00-16:00", "19:00-20:30")
    out: list[tuple[date, time, time]] = []
    for _ in range(count * 10):
        if len(out) == count:
            break
        day = today + timedelta(days=rng.randint(-21, 21))
        if day < not_before:
            continue
        start, end = rng.choice(options)
        lesson = Block(day.weekday(), start, end)
        if any(lesson.overlaps(b) for b in blocks):
            continue
        if any(d == day and s < end and start < e for d, s, e in out):
            continue
        out.append((day, start, end))
    return sorted(out)
