"""The city's and the province's overviews, kept as snapshots that the timer workers refresh.

Above the county a scoreboard or a heatmap adds up every county's rows: at a hundred counties (six million
households, a million closed cases with their history) that is seconds a request, whatever the indexes
(bench/results). These are a month's statistics read by supervisors, not work in hand, so the timer workers
compute the scoreboard of the current month and the heatmap of the last 90 days for the province and each city
every OVERVIEW_REFRESH_MINUTES and keep them here; those pages read the snapshot and say when it was computed.
Anything no snapshot holds (another month or period, a filter, a county or anything below) is computed live, as is
an overview whose snapshot has not been refreshed for two intervals (timer workers stopped)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.areas import is_above_county
from app.clock import china_moment, to_china, utcnow
from app.extensions import db
from app.models import Area, OverviewSnapshot, ProcessVersion, User
from app.reports.scope import ReportMonth
from app.supervision.paths import HeatCell, HeatFilter, Heatmap, TownHeat, TownHeatRow, heatmap, heatmap_versions
from app.supervision.scoreboard import MonthCount, Scoreboard, ScoreRow, SupervisionScope, build_scoreboard

log = logging.getLogger(__name__)

HEATMAP_DAYS = 90  # the heatmap page's default period (app/web/supervision.py)
CLAIM_KEY = "refresh"  # the row whose time says when a timer worker last took the refresh on


@dataclass(frozen=True)
class Snapshot:
    """When the overview shown was computed (naive UTC, as stored)."""

    computed_at: datetime
    every_minutes: int

    @property
    def label(self) -> str:
        return (f"统计于 {to_china(self.computed_at):%m-%d %H:%M}（市、省汇总每 {self.every_minutes} 分钟更新一次；"
                f"县及以下为实时数据）")


def refresh_minutes() -> int:
    return int(current_app.config.get("OVERVIEW_REFRESH_MINUTES", 10))


def _fresh(key: str, now: datetime) -> OverviewSnapshot | None:
    row = db.session.get(OverviewSnapshot, key)
    if row is None or now - row.computed_at > timedelta(minutes=2 * refresh_minutes()):
        return None
    return row


# ---- the scoreboard ----------------------------------------------------------------------------------------

def scoreboard_key(code: str, month: ReportMonth) -> str:
    return f"scoreboard:{code}:{month.key}"


def snapshot_scoreboard(scope: SupervisionScope, month: ReportMonth, today: date) -> tuple[Scoreboard, Snapshot] | None:
    """The scope's scoreboard from its snapshot, if the scope is above the county, the month is today's and the
    snapshot is fresh."""
    if not is_above_county(scope.code) or month != ReportMonth.of(today):
        return None
    row = _fresh(scoreboard_key(scope.code, month), utcnow())
    if row is None:
        return None
    payload = row.payload
    board = Scoreboard(scope, month, today, [ScoreRow(**r) for r in payload["rows"]], ScoreRow(**payload["total"]),
                       [MonthCount(ReportMonth.parse(key), opened, closed) for key, opened, closed in payload["trend"]])
    return board, Snapshot(row.computed_at, refresh_minutes())


def _scoreboard_payload(board: Scoreboard) -> dict[str, Any]:
    return {"rows": [dataclasses.asdict(r) for r in board.rows], "total": dataclasses.asdict(board.total),
            "trend": [[m.month.key, m.opened, m.closed] for m in board.trend]}


# ---- the heatmap -------------------------------------------------------------------------------------------

def heatmap_key(code: str, version_id: int, start: date, end: date) -> str:
    return f"heatmap:{code}:{version_id}:{start.isoformat()}:{end.isoformat()}"


def snapshot_heatmap(user: User, version: ProcessVersion, start: date, end: date, only: HeatFilter,
                     today: date) -> tuple[Heatmap, Snapshot] | None:
    """The user's heatmap from the snapshot of their area, if it is above the county, the period is the page's
    default (the last 90 days to today) with no filter, and the snapshot is fresh."""
    if (not is_above_county(user.area_code) or only != HeatFilter()
            or (start, end) != (today - timedelta(days=HEATMAP_DAYS), today)):
        return None
    row = _fresh(heatmap_key(user.area_code, version.id, start, end), utcnow())
    if row is None:
        return None

    def cell(d: dict[str, Any]) -> HeatCell:
        return HeatCell(**d)

    payload = row.payload
    town = payload["by_town"]
    by_town = TownHeat(town["unit"], [(bpmn_id, name) for bpmn_id, name in town["steps"]],
                       [TownHeatRow(r["code"], r["name"], {k: cell(c) for k, c in r["cells"].items()})
                        for r in town["rows"]], town["slowest"])
    return Heatmap([cell(c) for c in payload["cells"]], by_town), Snapshot(row.computed_at, refresh_minutes())


def _heatmap_payload(heat: Heatmap) -> dict[str, Any]:
    return {"cells": [dataclasses.asdict(c) for c in heat.cells],
            "by_town": {"unit": heat.by_town.unit, "steps": [list(s) for s in heat.by_town.steps],
                        "rows": [{"code": r.code, "name": r.name,
                                  "cells": {k: dataclasses.asdict(c) for k, c in r.cells.items()}}
                                 for r in heat.by_town.rows],
                        "slowest": heat.by_town.slowest}}


# ---- the refresh -------------------------------------------------------------------------------------------

def refresh_overviews(now: datetime | None = None, *, force: bool = False) -> int:
    """Compute every overview above the county, if the last refresh is older than OVERVIEW_REFRESH_MINUTES and no
    other timer worker took it on meanwhile (or `force`). Commits; returns how many snapshots were written."""
    now = now or utcnow()
    if force:
        db.session.merge(OverviewSnapshot(key=CLAIM_KEY, computed_at=now, payload={}))
        db.session.commit()
    elif not _claim(now):
        return 0
    areas = list(db.session.scalars(select(Area).where(Area.level.in_(("province", "city"))).order_by(Area.code)))
    if not areas:
        db.session.commit()
        return 0
    today = to_china(now).date()
    month = ReportMonth.of(today)
    start = today - timedelta(days=HEATMAP_DAYS)
    since, until = china_moment(start, 0), china_moment(today + timedelta(days=1), 0)  # as the page reads them
    days = int(current_app.config.get("CERTIFICATION_DAYS", 15))
    newest: dict[str, ProcessVersion] = {}
    for version in heatmap_versions():  # newest first per process
        newest.setdefault(version.process_key, version)
    written: dict[str, dict[str, Any]] = {}
    for area in areas:
        board = build_scoreboard(SupervisionScope(area, (), area.code), month, today, days)
        written[scoreboard_key(area.code, month)] = _scoreboard_payload(board)
        reader = User(username=f"overview-{area.code}", role="supervisor", area_code=area.code, full_name="")
        for version in newest.values():
            written[heatmap_key(area.code, version.id, start, today)] = _heatmap_payload(
                heatmap(reader, version, since, until))
    for key, payload in written.items():
        db.session.merge(OverviewSnapshot(key=key, computed_at=now, payload=payload))
    db.session.commit()
    log.info("refreshed %d overview snapshots", len(written))
    return len(written)


def _claim(now: datetime) -> bool:
    """Take the refresh on if it is due: one timer worker of several does it (the claim row's time moves only for
    the worker whose UPDATE found it old; the first INSERT wins when there is none)."""
    due = now - timedelta(minutes=refresh_minutes())
    taken = db.session.execute(update(OverviewSnapshot)
                               .where(OverviewSnapshot.key == CLAIM_KEY, OverviewSnapshot.computed_at <= due)
                               .values(computed_at=now)).rowcount  # type: ignore[attr-defined]
    if taken:
        db.session.commit()
        return True
    if db.session.get(OverviewSnapshot, CLAIM_KEY) is not None:
        db.session.rollback()
        return False
    try:
        db.session.add(OverviewSnapshot(key=CLAIM_KEY, computed_at=now, payload={}))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True
