"""Values as county offices type them into a spreadsheet: header texts and dates. Shared by every reader of an
uploaded file (the registry import, departments' lists, the national system's export)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_EPOCH = date(1899, 12, 30)


def normalize_header(value: Any) -> str:
    """A column's header compared after NFKC, without spaces, a leading * (required) or a trailing colon."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(text.split()).lstrip("*").rstrip(":")


def parse_date(value: Any) -> date | None:
    """A date as offices type it: a date cell, 2026-11-03, 2026/11/3, 2026.11.3, 2026年11月3日, 20261103, or the
    day number Excel stores when the cell is not formatted as a date. None when it is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value <= 80000 and float(value).is_integer():
            return EXCEL_EPOCH + timedelta(days=int(value))
        text = str(int(value)) if float(value).is_integer() else str(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    match = DATE_RE.match(text) or COMPACT_DATE_RE.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
