"""The permissions training's routes ask for, as dependency types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from trainquant.auth.permissions import Principal
from trainquant.deps import require

TrainingRead = Annotated[Principal, require("training:read")]
TrainingManage = Annotated[Principal, require("training:manage")]
TrainingEnrol = Annotated[Principal, require("training:enrol")]
TrainingApprove = Annotated[Principal, require("training:approve")]
AssessmentsWrite = Annotated[Principal, require("assessments:write")]
Text = Annotated[str | None, Query(max_length=64)]
