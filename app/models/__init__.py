"""Persistence only: typed SQLAlchemy 2 models. Domain logic lives in the domain packages."""

from app.models.accounts import ApiToken, User
from app.models.areas import Area
from app.models.cases import Case, Measure
from app.models.collab import Attachment, Comment
from app.models.departments import (
    DepartmentMapping,
    DepartmentRecord,
    DepartmentUpload,
    MeasureProgress,
    WarningRule,
)
from app.models.households import Household, Member
from app.models.imports import ImportJob
from app.models.leads import IncomeAssessment, LeadDocument, LeadVerification, PublicSubmission, RiskLead
from app.models.monitoring import EliminationCheck, EliminationReversal, ReviewMeeting
from app.models.screenings import RiskRegistration, Screening, ScreeningCheck
from app.models.security import LoginAttempt
from app.models.settings import CountySetting, MonitoringLine
from app.models.snapshots import OverviewSnapshot
from app.models.workflow import (
    ElementVisit,
    Event,
    ProcessDraft,
    ProcessVersion,
    ReadyTask,
    StandIn,
    TaskDraft,
    WorkflowInstance,
)

__all__ = [
    "ApiToken",
    "Area",
    "Attachment",
    "Case",
    "Comment",
    "CountySetting",
    "DepartmentMapping",
    "DepartmentRecord",
    "DepartmentUpload",
    "ElementVisit",
    "EliminationCheck",
    "EliminationReversal",
    "Event",
    "Household",
    "ImportJob",
    "IncomeAssessment",
    "LeadDocument",
    "LeadVerification",
    "LoginAttempt",
    "Measure",
    "MeasureProgress",
    "Member",
    "MonitoringLine",
    "OverviewSnapshot",
    "ProcessDraft",
    "ProcessVersion",
    "PublicSubmission",
    "ReadyTask",
    "ReviewMeeting",
    "RiskLead",
    "RiskRegistration",
    "Screening",
    "ScreeningCheck",
    "StandIn",
    "TaskDraft",
    "User",
    "WarningRule",
    "WorkflowInstance",
]
