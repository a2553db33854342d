from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import Model


class ProcessVersion(Model):
    """A deployed BPMN file. Cases keep the version they started on."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_key", "version", name="uq_process_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(128), default="")
    # Deferred: every step loads its instance's version (joined), and only a cache miss needs the XML.
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    # Called processes are pinned too: {process_key: process_version.id}.
    dependencies: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    is_current: Mapped[bool] = mapped_column(default=False, index=True)
    # shipped: the repository's own diagram, deployed by init-db (an upgrade may replace it with a newer one);
    # county: what an administrator deployed or chose, which no upgrade replaces (app/processes/operations.py).
    origin: Mapped[str] = mapped_column(String(16), default="county", server_default="county")
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    deployed_by = relationship("User")


class WorkflowInstance(Model):
    """The engine's serialised state of one running process. The spec is stored by reference."""

    __tablename__ = "workflow_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # the subject's kind, as registered with the runtime
    state: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    end_event: Mapped[str | None] = mapped_column(String(64))
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined")

    # Optimistic locking: a concurrent writer's UPDATE matches no row and fails.
    __mapper_args__ = {"version_id_col": revision}


class AboutSubject:
    """Rows about a workflow's subject (a case, a screening, whatever kind a domain package registers with the
    runtime) name it by kind and id: one pair of columns for every kind, so a new kind needs no migration."""

    if TYPE_CHECKING:  # each table declares its own (the audit log's may be empty)
        subject_kind: Mapped[str | None]
        subject_id: Mapped[int | None]

    @classmethod
    def about(cls, kind: str, subject_id: Any) -> ColumnElement[bool]:
        """Rows about one subject (`subject_id` an id or a column, e.g. Case.id in a join)."""
        return and_(cls.subject_kind == kind, cls.subject_id == subject_id)

    @classmethod
    def about_any(cls, kind: str, subject_ids: Any) -> ColumnElement[bool]:
        return and_(cls.subject_kind == kind, cls.subject_id.in_(subject_ids))

    def is_about(self, kind: str) -> bool:
        return self.subject_kind == kind


class ReadyTask(AboutSubject, Model):
    """A human task waiting for someone: the inbox is SQL over these rows, never the workflow state."""

    __tablename__ = "ready_task"
    __table_args__ = (
        # The inbox: each branch (a group's tasks in a village, a town or the county; one person's) reads its page
        # off one of these, already in due-date order (app/tasks/inbox.py).
        Index("ix_ready_task_inbox_village", "role", "village_code", "assignee_id", "due_on", "ready_since"),
        Index("ix_ready_task_inbox_town", "role", "town_code", "assignee_id", "due_on", "ready_since"),
        Index("ix_ready_task_inbox_county", "role", "assignee_id", "due_on", "ready_since"),
        Index("ix_ready_task_inbox_assignee", "assignee_id", "due_on", "ready_since"),
        Index("ix_ready_task_subject", "subject_kind", "subject_id"),
        # The steps tasks wait at, each step's tasks by kind and name: a walk of the distinct steps reads a few
        # entries per step (app/supervision/cases.py, waiting_steps), not every task of a province.
        Index("ix_ready_task_step", "bpmn_id", "subject_kind", "name"),
        # A county's case lists start from its towns' tasks (the step and overdue filters, the steps waited at).
        Index("ix_ready_task_town_code", "town_code"),
        # Task ids are in links and forms: SQLite must never hand a finished task's id to a new task.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    bpmn_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    context_name: Mapped[str] = mapped_column(String(128), default="")
    form_key: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    village_code: Mapped[str] = mapped_column(String(12))
    town_code: Mapped[str] = mapped_column(String(9))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int]
    subject: Mapped[str] = mapped_column(String(128))  # the subject's label, as the inbox shows it
    ready_since: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The diagram the task is drawn in: the instance's own version, or the pinned called process.
    diagram_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"), index=True)
    # Set when the task becomes ready: the diagram's time limit capped by the rulebook's deadlines.
    due_on: Mapped[date | None] = mapped_column(index=True)
    from_bpmn_id: Mapped[str | None] = mapped_column(String(64))  # the flow it arrived by, for the diagram
    # Claimed by one person of the group: colleagues see who is on it; only the holder completes it.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    claimed_at: Mapped[datetime | None]

    claimed_by = relationship("User", foreign_keys=[claimed_by_id])

    @property
    def title(self) -> str:
        return task_title(self.context_name, self.name)


def task_title(context_name: str | None, name: str) -> str:
    """How a task is named to people: its context (e.g. which notice) before the task's own name."""
    return f"{context_name} · {name}" if context_name else name


class Event(AboutSubject, Model):
    """Append-only history: who did what, when, with which opinion. An event about no subject (a log-in, an
    export, a deployment) has neither subject column."""

    __tablename__ = "event"
    # Supervision reads the events of one step over a period (e.g. county approvals in a month) off the first
    # index alone (it carries kind, decision and subject), and a subject's events of one step off the second.
    __table_args__ = (Index("ix_event_step_at", "bpmn_id", "at", "kind", "decision", "subject_kind", "subject_id"),
                      Index("ix_event_subject_step", "subject_kind", "subject_id", "bpmn_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_id: Mapped[int | None]
    bpmn_id: Mapped[str | None] = mapped_column(String(64))
    task_name: Mapped[str | None] = mapped_column(String(160))
    decision: Mapped[str | None] = mapped_column(String(32))
    opinion: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # a stand-in acted
    # The ready-task id a task_completed event completed (ids are never reused): a later submit of it is told
    # who did it and when.
    task_id: Mapped[int | None] = mapped_column(index=True)

    actor = relationship("User", lazy="joined", foreign_keys=[actor_id])
    on_behalf_of = relationship("User", foreign_keys=[on_behalf_of_id])


class ElementVisit(AboutSubject, Model):
    """A BPMN element a workflow finished, with the element it came from: the case's path on its diagram,
    and for user tasks how long they waited (the heatmap's times)."""

    __tablename__ = "element_visit"
    # The heatmap of one county reads its towns' visits of the period (app.supervision.paths.heatmap).
    __table_args__ = (Index("ix_element_visit_diagram_completed", "diagram_version_id", "completed_at"),
                      Index("ix_element_visit_diagram_town_completed", "diagram_version_id", "town_code",
                            "completed_at"),
                      Index("ix_element_visit_subject", "subject_kind", "subject_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), index=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int]
    diagram_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_key: Mapped[str] = mapped_column(String(64))
    bpmn_id: Mapped[str] = mapped_column(String(64))
    element_type: Mapped[str] = mapped_column(String(40))
    from_bpmn_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(160))
    ready_at: Mapped[datetime | None]  # user tasks: when the task reached an inbox
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The subject's area, as on its ready tasks (None only for a subject kind without one).
    village_code: Mapped[str | None] = mapped_column(String(12))
    town_code: Mapped[str | None] = mapped_column(String(9))


class ProcessDraft(Model):
    """A diagram an administrator is editing: saved, validated and deployed from the modeler."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    based_on_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deployed_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    # An upgrade's new shipped diagram, offered beside the county's own version: the hash of the shipped file.
    shipped_sha256: Mapped[str | None] = mapped_column(String(64))
    dismissed_at: Mapped[datetime | None]  # the administrator chose to keep the county's version

    @hybrid_property
    def is_open_offer(self) -> bool:
        return self.shipped_sha256 is not None and self.deployed_version_id is None and self.dismissed_at is None

    @is_open_offer.inplace.expression
    @classmethod
    def _is_open_offer_expression(cls) -> ColumnElement[bool]:
        return and_(cls.shipped_sha256.is_not(None), cls.deployed_version_id.is_(None), cls.dismissed_at.is_(None))


class StandIn(Model):
    """While a user is away, a colleague of the same role and area sees and does their tasks."""

    __tablename__ = "stand_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)  # the one away
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    stand_in = relationship("User", foreign_keys=[stand_in_id])


class TaskDraft(Model):
    """A half-filled task form, kept per person until the task is done."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("task_uuid", "user_id", name="uq_task_draft_task_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # A draft lives as long as its task waits: the database drops it with the task's row, whichever step ends it.
    task_uuid: Mapped[str] = mapped_column(String(36), ForeignKey("ready_task.task_uuid", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    fields: Mapped[list[list[str]]] = mapped_column(JSON)  # the form's (name, value) pairs
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
