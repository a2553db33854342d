"""A filled 附件1 roster (返贫风险对象花名册), uploaded into a village's screening task by teams that fill the
annex offline. Every row becomes a registered risk household through `register_household`, all or nothing.

Layout read: an optional "附件1" line, the title "…返贫风险对象花名册（YYYY年M月）", "单位：…" and date lines,
then the header row (序号 · 镇 · 村 · 户主姓名 · 户主证件号码 · 家庭人口 · 脱贫年度 · 返贫风险类型 · 详细原因 ·
包抓干部), data rows, and the 备注 lines, where reading stops. Rows with no name, ID, risk type or reason are
skipped. Only 户主证件号码 (finds the household), 户主姓名 (must match), 返贫风险类型 and 详细原因 are used;
the registry is the source of 家庭人口 and 脱贫年度, and the cadre is assigned later, on the case.

A household already registered this month is skipped when the row says the same (type and reason), so
uploading the same file twice is harmless; a different type or reason is an error (withdraw it first).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from app.clock import china_today
from app.errors import InvalidInput
from app.excel.bounded import Budget, open_upload
from app.excel.reading import (
    Limits,
    describe_range,
    formula_message,
    is_formula,
    save_upload,
)
from app.excel.typed import normalize_header
from app.extensions import db
from app.households.idnumber import id_number_problem, normalize_id_number
from app.households.importer import NUMERIC_ID, RowError, compact
from app.models import Household, RiskRegistration, Screening, User
from app.screenings.operations import _open_screening_task, register_household
from app.vocab import RISK_TYPES

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
HEADER_SEARCH_ROWS = 10
COLUMNS: dict[str, tuple[str, ...]] = {
    "head_name": ("户主姓名",),
    "head_id": ("户主证件号码", "户主身份证号码", "户主身份证号", "证件号码"),
    "risk_type": ("返贫风险类型", "风险类型", "返贫(致贫)风险类型"),
    "reason": ("详细原因", "风险原因"),
}
_ALIASES = {normalize_header(alias): key for key, aliases in COLUMNS.items() for alias in aliases}
TITLE_RE = re.compile(r"花名册[(（]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*[)）]")


def _risk_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for code, label in RISK_TYPES.items():
        for variant in (label, label.removeprefix("因"), code):
            codes[compact(variant)] = code
    codes[compact("其他原因")] = codes[compact("其它原因")]
    return codes


RISK_CODES = _risk_codes()


class RosterRejected(InvalidInput):
    """The roster has bad rows: nothing was registered."""

    def __init__(self, row_errors: list[RowError]) -> None:
        super().__init__(f"花名册有 {len(row_errors)} 处错误，未登记任何农户；请修改后重新上传")
        self.row_errors = row_errors


@dataclass
class RosterOutcome:
    registered: list[RiskRegistration] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # head names already registered with the same content


@dataclass
class _Row:
    number: int
    household: Household
    risk_type: str
    reason: str


def import_roster_upload(screening: Screening, stream: IO[bytes], actor: User) -> RosterOutcome:
    """Keep the upload in a private temporary file, import it, remove the file."""
    _open_screening_task(screening, actor)  # who may upload, before reading a byte
    from app.households.operations import uploads_folder

    target = uploads_folder() / f"roster-{secrets.token_hex(8)}.xlsx"
    try:
        save_upload(stream, target, int(current_app.config.get("ROSTER_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD)))
        return import_roster(screening, target, actor)
    finally:
        target.unlink(missing_ok=True)


def import_roster(screening: Screening, path: Path, actor: User) -> RosterOutcome:
    """Check every row, then register them all; raises RosterRejected (nothing registered) on any bad row."""
    _open_screening_task(screening, actor)
    errors: list[RowError] = []
    rows: list[_Row] = []
    with open_upload(path, Limits.from_config(current_app.config), Budget.from_config(current_app.config)) as sheet:
        reader = sheet.rows()
        header: tuple[int, dict[str, int], dict[str, str]] | None = None
        for number, cells in reader:
            values = [c.value for c in cells]
            for value in values:
                match = TITLE_RE.search(compact(value)) if isinstance(value, str) else None
                if match:
                    month = f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
                    if month != screening.month:
                        label = f"{match.group(1)}年{int(match.group(2))}月"
                        errors.append(RowError(number, "标题",
                                               f"花名册的月份（{label}）与本次排查（{screening.month}）不一致"))
            header = _header(number, cells)
            if header is not None or number >= HEADER_SEARCH_ROWS:
                break
        if header is None:
            raise InvalidInput("找不到花名册的表头：前 10 行中应有“户主姓名”“户主证件号码”“返贫风险类型”“详细原因”列")
        header_row, columns, labels = header
        last_data_row = header_row
        seen: dict[int, int] = {}
        for number, cells in reader:
            first = next((c.value for c in cells if c.value is not None and str(c.value).strip()), None)
            if isinstance(first, str) and compact(first).startswith("备注"):
                break
            row = _read_row(number, cells, columns, labels, screening, errors)
            if row is None:
                continue
            last_data_row = number
            if row.household.id in seen:
                errors.append(RowError(number, labels["head_id"], f"与第{seen[row.household.id]}行是同一户",
                                       columns["head_id"]))
                continue
            seen[row.household.id] = number
            rows.append(row)
        merged = sheet.merged_in_rows(header_row + 1, last_data_row)
        if merged is not None:
            errors.append(RowError(merged[1], "", f"数据行有合并单元格（{describe_range(merged)}），"
                                                  "请取消合并后重新上传"))
    if not rows and not errors:
        raise InvalidInput("花名册中没有农户：请在表头下方逐行填写风险户")

    existing = {r.household_id: r for r in db.session.scalars(
        select(RiskRegistration).where(RiskRegistration.screening_id == screening.id))}
    outcome = RosterOutcome()
    todo: list[_Row] = []
    for row in rows:
        registered = existing.get(row.household.id)
        if registered is None:
            todo.append(row)
        elif registered.risk_type == row.risk_type and registered.reason.strip() == row.reason:
            outcome.skipped.append(row.household.head_name)
        else:
            errors.append(RowError(row.number, labels["head_id"], "本月已登记该户，风险类型或详细原因与已登记的不同；"
                                                                  "如需修改，请先撤销原登记", columns["head_id"]))
    if errors:
        errors.sort(key=lambda e: (e.row or 0, e.column_index or 0))
        raise RosterRejected(errors)
    for row in todo:
        outcome.registered.append(register_household(screening, row.household.id, row.risk_type, row.reason, actor))
    return outcome


def _header(number: int, cells: Sequence[Any]) -> tuple[int, dict[str, int], dict[str, str]] | None:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    for index, cell in enumerate(cells, start=1):
        key = _ALIASES.get(normalize_header(cell.value))
        if key and key not in columns:
            columns[key] = index
            labels[key] = str(cell.value).strip()
    return (number, columns, labels) if len(columns) == len(COLUMNS) else None


def _read_row(number: int, cells: Sequence[Any], columns: dict[str, int], labels: dict[str, str],
              screening: Screening, errors: list[RowError]) -> _Row | None:
    values: dict[str, Any] = {}
    found: list[RowError] = []
    for key, index in columns.items():
        cell = cells[index - 1] if index <= len(cells) else None
        if cell is not None and is_formula(cell):
            found.append(RowError(number, labels[key], formula_message(number, index), index))
            values[key] = None
        else:
            values[key] = cell.value if cell is not None else None
    if not found and all(v is None or not str(v).strip() for v in values.values()):
        return None

    def problem(key: str, message: str) -> None:
        found.append(RowError(number, labels[key], message, columns[key]))

    household: Household | None = None
    raw_id = values["head_id"]
    if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
        problem("head_id", NUMERIC_ID)
    elif raw_id is not None or not found:
        id_number = normalize_id_number(str(raw_id or ""))
        id_problem = id_number_problem(id_number, china_today())
        if id_problem:
            problem("head_id", "请填写户主证件号码" if not id_number else id_problem)
        else:
            household = db.session.scalar(select(Household).where(Household.head_id_number == id_number))
            if household is None:
                problem("head_id", "系统中没有以该证件号码为户主的农户")
            elif household.village_code != screening.village_code:
                problem("head_id", f"该户不在本村（{screening.village.name}）的监测范围内")
                household = None
    name = compact(values["head_name"])
    if household is not None and name and name != compact(household.head_name):
        problem("head_name", f"户主姓名与系统登记的不一致（系统中为 {household.head_name}）")
    risk_text = compact(values["risk_type"])
    risk_type = RISK_CODES.get(risk_text)
    if not risk_text:
        problem("risk_type", "请填写返贫风险类型")
    elif risk_type is None:
        problem("risk_type", "返贫风险类型应为：" + "、".join(RISK_TYPES.values()))
    reason = str(values["reason"] or "").strip()
    if not reason:
        problem("reason", "请填写详细原因")
    elif len(reason) > 1000:
        problem("reason", "详细原因不超过 1000 字")
    errors.extend(found)
    if found or household is None or risk_type is None:
        return None
    return _Row(number=number, household=household, risk_type=risk_type, reason=reason)
