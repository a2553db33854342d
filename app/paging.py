"""Pages of long lists whose total is counted only up to a cap, so that a page costs the same whatever the
length of history ("1000+" beyond it). Shared by the inbox and the case list."""

from __future__ import annotations

from typing import ClassVar


class CappedTotal:
    """Mixin for a page dataclass with `total` (counted up to COUNT_CAP + 1), `page` and `per_page`."""

    COUNT_CAP: ClassVar[int]
    total: int
    page: int
    per_page: int

    @property
    def capped(self) -> bool:
        return self.total > self.COUNT_CAP

    @property
    def total_label(self) -> str:
        return f"{self.COUNT_CAP}+" if self.capped else str(self.total)

    @property
    def pages(self) -> int | None:
        """How many pages, or None when the count stopped at the cap."""
        return None if self.capped else (self.total + self.per_page - 1) // self.per_page

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total
