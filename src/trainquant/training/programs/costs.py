"""Training costs: items per program or session, in Decimal with their currency, and totals per program."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from trainquant.auth.permissions import Principal
from trainquant.errors import NotFound
from trainquant.pagination import PageParams, paginate
from trainquant.training.lookups import get_program, invalid, program_ref, session_ref
from trainquant.training.models import CostItem, Program, TrainingSession
from trainquant.training.programs import schemas as cost_schemas


def create_cost(db: Session, principal: Principal, body: cost_schemas.CostCreate, *, now: datetime) -> CostItem:
    session = session_ref(db, body.session_code) if body.session_code else None
    program = program_ref(db, body.program_code) if body.program_code else None
    if session is not None and program is not None and session.program_id != program.id:
        raise invalid("session_code", f"session {session.code!r} is not part of program {program.code!r}", "session-not-in-program")
    # A session's cost also counts for its program: both ids are kept so totals need no join.
    if program is not None:
        program_id = program.id
    else:
        assert session is not None  # CostCreate requires program_code or session_code
        program_id = session.program_id
    row = CostItem(
        program_id=program_id, session_id=session.id if session else None,
        category=body.category, amount=body.amount, share=body.share, currency=body.currency, incurred_on=body.incurred_on, note=body.note,
        created_by=principal.name[:64], created_at=now,
    )
    db.add(row)
    db.flush()
    return get_cost(db, row.id)


def get_cost(db: Session, cost_id: int) -> CostItem:
    row = db.scalar(select(CostItem).where(CostItem.id == cost_id).options(joinedload(CostItem.program), joinedload(CostItem.session)))
    if row is None:
        raise NotFound(f"no cost item {cost_id}")
    return row


def delete_cost(db: Session, cost_id: int) -> None:
    db.delete(get_cost(db, cost_id))
    db.flush()


def to_read(row: CostItem) -> cost_schemas.CostRead:
    assert row.program is not None, row.id  # every cost is written with its program, a session's cost too
    return cost_schemas.CostRead(
        id=row.id, program_code=row.program.code, session_code=row.session.code if row.session else None,
        category=row.category, amount=row.amount, share=row.share, currency=row.currency, incurred_on=row.incurred_on, note=row.note,
        created_by=row.created_by, created_at=row.created_at,
    )


@dataclass(frozen=True)
class CostFilter:
    program: str | None = None
    session: str | None = None
    category: str | None = None


def cost_query(f: CostFilter) -> Select:
    stmt = select(CostItem).options(joinedload(CostItem.program), joinedload(CostItem.session))
    if f.program:
        stmt = stmt.where(CostItem.program_id == select(Program.id).where(Program.code == f.program).scalar_subquery())
    if f.session:
        stmt = stmt.where(CostItem.session_id == select(TrainingSession.id).where(TrainingSession.code == f.session).scalar_subquery())
    if f.category:
        stmt = stmt.where(CostItem.category == f.category)
    return stmt.order_by(CostItem.incurred_on.desc(), CostItem.id.desc())


def list_costs(db: Session, f: CostFilter, page: PageParams) -> tuple[list[cost_schemas.CostRead], int]:
    rows, total = paginate(db, cost_query(f), page)
    return [to_read(r) for r in rows], total


def _totals(program: Program, items: list[CostItem]) -> cost_schemas.CostTotals:
    # Never add yuan to dollars: one total per currency.
    by_currency: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for item in items:
        by_currency[item.currency][item.category] += item.amount
    return cost_schemas.CostTotals(
        program_code=program.code,
        program_title=program.title,
        totals=[
            cost_schemas.CurrencyTotal(currency=cur, amount=sum(cats.values(), Decimal("0.00")), by_category=dict(sorted(cats.items())))
            for cur, cats in sorted(by_currency.items())
        ],
    )


def program_totals(db: Session, code: str) -> cost_schemas.CostTotals:
    program = get_program(db, code)
    return _totals(program, list(db.scalars(select(CostItem).where(CostItem.program_id == program.id))))


def all_totals(db: Session) -> list[cost_schemas.CostTotals]:
    items: dict[int, list[CostItem]] = defaultdict(list)
    for item in db.scalars(select(CostItem)):
        if item.program_id is not None:  # written for every cost; a row without one belongs to no program's totals
            items[item.program_id].append(item)
    programs = db.scalars(select(Program).where(Program.id.in_(list(items))).order_by(Program.code))
    return [_totals(p, items[p.id]) for p in programs]
