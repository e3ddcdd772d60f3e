"""Every table, imported in one place so Alembic and tests see the whole schema."""

from trainquant.auth.models import ApiKey, User
from trainquant.db import Base
from trainquant.imports.models import ImportRejection, ImportRun
from trainquant.org.models import (
    DatedClass,
    Department,
    Employee,
    EmployeeTag,
    ExternalId,
    GrowthNote,
    Site,
    Venue,
    WeeklySlot,
)

metadata = Base.metadata

__all__ = [
    "ApiKey", "Base", "DatedClass", "Department", "Employee", "EmployeeTag", "ExternalId", "GrowthNote",
    "ImportRejection", "ImportRun", "Site", "User", "Venue", "WeeklySlot", "metadata",
]
