"""How many households each village has on the registry, kept on the village's area row.

The city's and the province's overviews show each county's registered households; counting them from the
household table read every household of the deployment for each such page (six million in a province). The count
is kept instead, in the transaction that writes the households: the registry import and the demo loader refresh
the villages they wrote, and households added, moved or removed through the ORM are counted again after the
flush by the listener installed here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from app.extensions import db, table_of
from app.models import Area, Household

CHUNK = 500


def refresh_registered_households(village_codes: Iterable[str | None] | None = None, *, session: Any = None) -> None:
    """Count again the households of these villages (every village when None) from the household table."""
    area, household = table_of(Area), table_of(Household)
    counted = (select(func.count()).select_from(household)
               .where(household.c.village_code == area.c.code).scalar_subquery())
    # Core statements on the connection: this also runs inside a flush, where ORM statements may not.
    connection = (session or db.session).connection()
    stmt = update(area).where(area.c.level == "village").values(registered_households=counted)
    if village_codes is None:
        connection.execute(stmt)
        return
    codes = sorted({code for code in village_codes if code})
    for start in range(0, len(codes), CHUNK):
        connection.execute(stmt.where(area.c.code.in_(codes[start:start + CHUNK])))


def _villages_written(session: Session) -> set[str]:
    codes: set[str] = set()
    for household in session.new | session.deleted:
        if isinstance(household, Household):
            codes.add(household.village_code)
    for household in session.dirty:
        if isinstance(household, Household):
            moved = inspect(household).attrs.village_code.history
            codes.update(moved.added or ())
            codes.update(moved.deleted or ())
    return codes


def _count_after_flush(session: Session, _context: Any) -> None:
    codes = _villages_written(session)
    if codes:
        refresh_registered_households(codes, session=session)


def keep_registered_counts() -> None:
    """Install the flush listener once per process (session listeners are global to SQLAlchemy)."""
    if not event.contains(Session, "after_flush", _count_after_flush):
        event.listen(Session, "after_flush", _count_after_flush)
