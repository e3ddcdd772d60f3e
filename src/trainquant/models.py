"""Every table, imported in one place so Alembic and tests see the whole schema."""

from trainquant.alerts.models import Alert
from trainquant.analytics.models import DepartmentTemplate
from trainquant.attendance.models import AttendanceRecord, CheckinEvent, Device, DeviceCommand, ProxyCase
from trainquant.auth.models import ApiKey, LoginFailure, RateLimitCounter, User
from trainquant.db import Base
from trainquant.imports.models import ImportRejection, ImportRun
from trainquant.indicators.models import (
    Evaluation,
    EvaluationRun,
    Indicator,
    IndicatorModule,
    IndicatorVersion,
)
from trainquant.integrations.connectors.models import Connector, WebhookDelivery
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.integrations.outbox.models import Delivery, OutboxEvent, Subscription
from trainquant.integrations.pull.models import PullSource, SyncRun
from trainquant.learning.models import (
    CourseVideo,
    OnlineCompletion,
    OnlineCourse,
    XapiActivity,
    XapiAttachment,
    XapiDelivery,
    XapiDocument,
    XapiStatement,
    XapiStatementLink,
)
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
from trainquant.training.models import (
    Assessment,
    AssessmentKind,
    CostItem,
    Enrolment,
    EnrolmentEvent,
    MandatoryRule,
    Program,
    TrainingSession,
)

metadata = Base.metadata

__all__ = [
    "Alert",
    "ApiKey",
    "Assessment",
    "AssessmentKind",
    "AttendanceRecord",
    "Base",
    "CheckinEvent",
    "Connector",
    "CostItem",
    "CourseVideo",
    "DatedClass",
    "Delivery",
    "Department",
    "DepartmentTemplate",
    "Device",
    "DeviceCommand",
    "Employee",
    "EmployeeTag",
    "Enrolment",
    "EnrolmentEvent",
    "Evaluation",
    "EvaluationRun",
    "ExternalId",
    "GrowthNote",
    "ImportRejection",
    "ImportRun",
    "Indicator",
    "IndicatorModule",
    "IndicatorVersion",
    "LoginFailure",
    "MandatoryRule",
    "MetricRecord",
    "OnlineCompletion",
    "OnlineCourse",
    "OutboxEvent",
    "Program",
    "ProxyCase",
    "PullSource",
    "RateLimitCounter",
    "Site",
    "Subscription",
    "SyncRun",
    "TrainingSession",
    "User",
    "Venue",
    "WebhookDelivery",
    "WeeklySlot",
    "XapiActivity",
    "XapiAttachment",
    "XapiDelivery",
    "XapiDocument",
    "XapiStatement",
    "XapiStatementLink",
    "metadata",
]
