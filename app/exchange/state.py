"""A household's monitoring state in the national system's terms, from the county's case rows (either procedure):
under monitoring, its risk eliminated, or being identified. The county procedure names no monitoring category; in
the national columns a lifted household it certified is 脱贫不稳定户 and any other 边缘易致贫户, and its 销号 is the
risk's elimination."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.clock import to_china
from app.extensions import db
from app.models import Case, Household
from app.vocab import OPEN_CASE_STATUSES

CHUNK = 500
# The statuses of a case whose risk is over with the household kept on the roster: eliminated (national) or
# closed (the county procedure's 销号).
ENDED_STATUSES = ("eliminated", "closed")
STATE_LABELS = {"monitored": "监测中（风险未消除）", "eliminated": "风险已消除", "identifying": "正在认定"}


@dataclass(frozen=True, slots=True)
class MonitoringState:
    status: str  # monitored | eliminated | identifying
    case_id: int
    category: str | None  # MONITORING_CATEGORIES key
    identified_on: date | None
    eliminated_on: date | None

    @property
    def label(self) -> str:
        return STATE_LABELS[self.status]


def national_category(procedure: str, category: str | None, household_kind: str) -> str | None:
    if procedure == "national":
        return category
    return "unstable_lifted" if household_kind == "lifted" else "marginal"


def eliminated_on(procedure: str, eliminated: date | None, closed_at: datetime | None) -> date | None:
    if procedure == "national":
        return eliminated
    return to_china(closed_at).date() if closed_at is not None else None


def states_of(household_ids: Iterable[int]) -> dict[int, MonitoringState]:
    """Each household's state, for those with a case that is not a rejection: the case in hand first (identified:
    monitored; not yet: identifying), else the latest identified one that ended (eliminated)."""
    ids = list(household_ids)
    states: dict[int, MonitoringState] = {}
    for start in range(0, len(ids), CHUNK):
        for household_id, rows in _grouped(_case_rows(ids[start:start + CHUNK])):
            state = _state(rows)
            if state is not None:
                states[household_id] = state
    return states


def _case_rows(ids: Sequence[int]) -> list[Any]:
    return list(db.session.execute(
        select(Case.household_id, Case.id, Case.status, Case.procedure, Case.category, Case.identified_on,
               Case.eliminated_on, Case.closed_at, Household.kind)
        .join(Household, Household.id == Case.household_id)
        .where(Case.household_id.in_(ids), Case.status != "rejected")
        .order_by(Case.household_id, Case.id)))


def _grouped(rows: list[Any]) -> Iterator[tuple[int, list[Any]]]:
    group: list[Any] = []
    for row in rows:
        if group and group[0].household_id != row.household_id:
            yield group[0].household_id, group
            group = []
        group.append(row)
    if group:
        yield group[0].household_id, group


def _state(rows: list[Any]) -> MonitoringState | None:
    in_hand = [r for r in rows if r.status in OPEN_CASE_STATUSES]
    if in_hand:
        row = in_hand[-1]
        return MonitoringState("monitored" if row.identified_on else "identifying", row.id,
                               national_category(row.procedure, row.category, row.kind), row.identified_on, None)
    ended = [r for r in rows if r.status in ENDED_STATUSES]
    if not ended:
        return None
    row = max(ended, key=lambda r: (r.identified_on or date.min, r.id))
    return MonitoringState("eliminated", row.id, national_category(row.procedure, row.category, row.kind),
                           row.identified_on, eliminated_on(row.procedure, row.eliminated_on, row.closed_at))
