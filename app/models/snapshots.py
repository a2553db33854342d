from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model


class OverviewSnapshot(Model):
    """A city's or the province's overview (scoreboard, heatmap) as the timer workers last computed it
    (app.supervision.snapshots): the pages above the county read it instead of adding up every county's rows."""

    __tablename__ = "overview_snapshot"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # e.g. scoreboard:61:2026-12
    computed_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
