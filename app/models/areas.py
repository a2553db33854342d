from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model


class Area(Model):
    """Province → city → county (6-digit code) → town (9) → village (12)."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(10))  # county | town | village
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"), index=True)
    # A village's households on the registry, kept by their writers (app.households.registered): a province's
    # overview adds these up instead of counting millions of household rows.
    registered_households: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def town_code(self) -> str | None:
        return self.code[:9] if len(self.code) >= 9 else None
