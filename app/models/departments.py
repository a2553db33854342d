"""部门筛查预警: the departments' monthly lists as uploaded, each matched row kept with what it said, the column
mapping each department saved, the warning rules the county set (rows only added: the history), and what a
department recorded of the measures it is responsible for."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import Model


class DepartmentMapping(Model):
    """Which header of a department's own list holds each field (证件号码, 个人自付 …), saved once by the department
    and changed when its list changes: the last row of a department is in force, the earlier ones are history."""

    __tablename__ = "department_mapping"
    __table_args__ = (Index("ix_department_mapping_county_department", "county_code", "department", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))  # each county's departments have their own lists
    department: Mapped[str] = mapped_column(String(16))
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # field key → header text
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)


class WarningRule(Model):
    """One recorded version of a warning rule: a department's field, how it is tested (an amount at least, a share of
    the household's income, one of some values, months since a date, a date within the list's month) against a
    threshold, and the risk type a row that meets it names. The version in force on a day is the one recorded last
    among those effective by then; a rule is switched off by a version that is not active."""

    __tablename__ = "warning_rule"
    __table_args__ = (Index("ix_warning_rule_county_key_effective", "county_code", "key", "effective_from", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))  # each county office sets its own
    key: Mapped[str] = mapped_column(String(48))
    department: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str] = mapped_column(String(24))
    threshold: Mapped[str] = mapped_column(String(255), default="")
    risk_type: Mapped[str] = mapped_column(String(24))  # the county's six (app.vocab.RISK_TYPES)
    national_risk_type: Mapped[str] = mapped_column(String(24))  # the national codes (app.leads.vocab)
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())  # a disaster: the fast path
    active: Mapped[bool] = mapped_column(default=True)
    effective_from: Mapped[date]
    source_document: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DepartmentUpload(Model):
    """One file a department uploaded for a month: accepted whole (a file with a malformed row stores nothing),
    with what came of it. The same file again is the same upload."""

    __tablename__ = "department_upload"
    __table_args__ = (UniqueConstraint("department", "sha256", name="uq_department_upload_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department: Mapped[str] = mapped_column(String(16), index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_matched: Mapped[int] = mapped_column(default=0)
    rows_already: Mapped[int] = mapped_column(default=0)  # rows an earlier upload of the month already held
    rows_warned: Mapped[int] = mapped_column(default=0)  # matched rows that met a rule
    leads_created: Mapped[int] = mapped_column(default=0)
    leads_merged: Mapped[int] = mapped_column(default=0)
    cases_noted: Mapped[int] = mapped_column(default=0)
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # row, masked ID, name, why
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DepartmentRecord(Model):
    """A matched row of a department's list: the member's ID number and household, what the row said (by field),
    the rules it met and the lead or case note it led to."""

    __tablename__ = "department_record"
    __table_args__ = (
        Index("ix_department_record_person", "department", "id_number", "month"),
        UniqueConstraint("department", "month", "fingerprint", name="uq_department_record_row"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("department_upload.id"), index=True)
    department: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))
    row_number: Mapped[int]
    id_number: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # the list's amount (医保: 个人自付)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field key → value as text
    fingerprint: Mapped[str] = mapped_column(String(64))  # the row's content: the same row again is not new
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)  # keys of the rules it met
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("risk_lead.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("household_case.id"))


class MeasureProgress(Model):
    """What the responsible department recorded of a measure: progress, or its completion, with the evidence."""

    __tablename__ = "measure_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    department: Mapped[str] = mapped_column(String(16))
    recorded_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
