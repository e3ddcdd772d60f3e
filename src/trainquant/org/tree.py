"""The department tree as the scope checks and filters read it: one query for the whole tree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import subtree
from trainquant.org.models import Department


def department_parents(db: Session) -> dict[int, int | None]:
    """Every department's parent (None for a top-level one)."""
    return dict(db.execute(select(Department.id, Department.parent_id)).all())


def department_subtree(db: Session, department_id: int) -> frozenset[int]:
    """The department and every department below it."""
    return subtree(department_id, department_parents(db))
