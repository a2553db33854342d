"""Read paths over cases: SQL over the query rows, never the workflow state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, select

from app.access import case_clause, household_clause
from app.extensions import db
from app.models import Case, Household, Member, User


def _case_filter(user: User, args: Mapping[str, Any]) -> Select[Any]:
    stmt = select(Case).join(Household, Case.household_id == Household.id).where(case_clause(user))
    if args.get("status"):
        stmt = stmt.where(Case.status == args["status"])
    if args.get("town"):
        stmt = stmt.where(Case.town_code == args["town"])
    if args.get("village"):
        stmt = stmt.where(Case.village_code == args["village"])
    if args.get("q"):
        q = str(args["q"]).strip().upper()
        # The head's name or ID number, or any member's ID number given whole (a member who calls in).
        members = select(Member.household_id).where(Member.id_number == q)
        stmt = stmt.where(Household.head_name.contains(q) | Household.head_id_number.contains(q)
                          | Household.id.in_(members))
    return stmt


def list_cases(user: User, args: Mapping[str, Any], page: int = 1, per_page: int = 50) -> tuple[int, list[Case]]:
    stmt = _case_filter(user, args)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    cases = db.session.scalars(stmt.order_by(Case.updated_at.desc(), Case.id.desc())
                               .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return total, list(cases)


def search_households(user: User, query: str, village: str | None = None, limit: int = 50) -> list[Household]:
    stmt = select(Household).where(household_clause(user))
    if village:
        stmt = stmt.where(Household.village_code == village)
    q = (query or "").strip().upper()
    if q:
        # The head's name or ID number, or any member's ID number given whole (a member who calls in).
        members = select(Member.household_id).where(Member.id_number == q)
        stmt = stmt.where(Household.head_name.contains(q) | Household.head_id_number.contains(q)
                          | Household.id.in_(members))
    return list(db.session.scalars(stmt.order_by(Household.household_no).limit(limit)))
