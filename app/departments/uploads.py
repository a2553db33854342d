"""A department's monthly list, uploaded as Excel or CSV in the department's own columns (mapped once and saved):
every row checked (the ID number with its check character, amounts, dates, no formulas), matched to the registry's
members by ID number, tested against the warning rules in force; a household whose row meets a rule becomes a
department lead for its village team, or, when it already has a case in hand, a note on that case.

All or nothing per file: a file with a malformed row stores nothing and lists every problem. Unmatched rows (an ID
number the registry does not hold) are listed, never stored as matches. The same file again is the same upload;
a row an earlier upload of the month already held is not new, so re-uploading creates no second lead."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import func, select

from app.access import can_see_department_list, can_upload_department_list, covers_every_county, department_of
from app.areas import COUNTY_LENGTH, below
from app.audit.log import record
from app.bulk import chunks, insert_rows, one_of
from app.clock import china_today
from app.departments.catalogue import AMOUNT, DAY, DEPARTMENTS, NUMBER, Department, ListField
from app.departments.rules import RowFacts, Rule, kinds_needed, met, rules_in_force
from app.errors import InvalidInput, PermissionDenied
from app.excel.bounded import Budget, open_upload
from app.excel.reading import OLE2_SIGNATURE, ZIP_SIGNATURE, Limits, SpreadsheetRefused, save_upload
from app.excel.typed import normalize_header, parse_date
from app.extensions import db, table_of
from app.households.idnumber import id_number_problem, masked_id, normalize_id_number
from app.models import (
    Case,
    DepartmentMapping,
    DepartmentRecord,
    DepartmentUpload,
    Household,
    IncomeAssessment,
    Member,
    User,
)
from app.reports.scope import ReportMonth
from app.vocab import OPEN_CASE_STATUSES

HEADER_SEARCH_ROWS = 10
PROBLEMS_LISTED = 500
UNMATCHED_KEPT = 2000
MATCH_BATCH = 2000  # rows matched at a time while the file is read
MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
AMOUNT_TEXT_RE = re.compile(r"^[¥￥]?\s*(-?[\d,]+(?:\.\d+)?)\s*元?$")


# ---- the column mapping ------------------------------------------------------------------------------------

def saved_mapping(department: str, county_code: str) -> dict[str, str]:
    """The header of each field in the county department's own list, as it saved them (empty: the usual names)."""
    row = db.session.scalar(select(DepartmentMapping).where(DepartmentMapping.county_code == county_code,
                                                            DepartmentMapping.department == department)
                            .order_by(DepartmentMapping.id.desc()).limit(1))
    return dict(row.mapping) if row else {}


def save_mapping(actor: User, form: dict[str, str]) -> DepartmentMapping:
    """The department's own header text for each field; a new row, so the earlier mapping stays as history."""
    code = department_of(actor)
    if code is None or not can_upload_department_list(actor):
        raise PermissionDenied("只有县级行业部门可以设置本部门名单的列")
    department = DEPARTMENTS[code]
    mapping: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for list_field in department.all_fields:
        header = " ".join((form.get(list_field.key) or "").split())
        if not header:
            if list_field.required:
                errors[list_field.key] = [f"请填写“{list_field.label}”在本部门表格中的列名"]
            continue
        if len(header) > 64:
            errors[list_field.key] = ["列名不超过 64 个字"]
            continue
        normal = normalize_header(header)
        if normal in seen:
            errors[list_field.key] = [f"与“{seen[normal]}”的列名相同"]
            continue
        seen[normal] = list_field.label
        mapping[list_field.key] = header
    if errors:
        raise InvalidInput("列对应未保存，请按提示修改", errors)
    row = DepartmentMapping(county_code=actor.area_code[:COUNTY_LENGTH], department=code, mapping=mapping,
                            saved_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    record("department_mapping_saved", actor, f"{department.name}名单的列对应",
           {"department": code, "mapping": mapping})
    return row


def headers_of(department: Department, county_code: str) -> dict[str, tuple[str, ...]]:
    """The header texts accepted for each field of a county department's list: the saved one first, then the usual
    names."""
    saved = saved_mapping(department.code, county_code)
    return {f.key: tuple(dict.fromkeys(([saved[f.key]] if f.key in saved else []) + list(f.headers)))
            for f in department.all_fields}


# ---- reading the file ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListProblem:
    row: int | None  # None: the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        return f"{where}{' ' + self.column if self.column else ''}：{self.message}"


class ListRefused(InvalidInput):
    """The file stores nothing: its problems, every one of them (the page lists the first PROBLEMS_LISTED)."""

    def __init__(self, message: str, problems: list[ListProblem] | None = None, total: int | None = None) -> None:
        problems = problems or []
        super().__init__(message, {"file": [str(p) for p in problems[:PROBLEMS_LISTED]] or [message]})
        self.problems = problems
        self.total = total if total is not None else len(problems)


def list_limits() -> Limits:
    return Limits(max_rows=int(current_app.config.get("DEPARTMENT_LIST_MAX_ROWS", 100_000)), max_columns=100)


def _max_bytes() -> int:
    return int(current_app.config.get("DEPARTMENT_LIST_MAX_BYTES", 50 * 1024 * 1024))


Row = tuple[int, tuple[Any, ...], frozenset[int]]  # row number, values, indexes of formula cells


def _decode(data: bytes) -> str:
    """A CSV as offices save it: UTF-8 (with or without its mark) or GBK (what Chinese Windows writes by default),
    read as GB 18030, which contains it."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ListRefused("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码的 CSV，或另存为 Excel（.xlsx）")


def _csv_rows(path: Path, limits: Limits) -> Iterator[Row]:
    text = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if number > limits.max_rows:
            raise ListRefused(f"名单超过 {limits.max_rows:,} 行，已拒绝：请按乡镇拆分后分批上传")
        if len(values) > limits.max_columns:
            raise ListRefused(f"名单超过 {limits.max_columns} 列，已拒绝：请只保留名单需要的列")
        yield number, tuple(v if v.strip() else None for v in values), frozenset()


def _sheet_rows(path: Path, limits: Limits) -> Iterator[Row]:
    budget = Budget.from_config(current_app.config)
    with open_upload(path, limits, budget) as sheet:
        for number, values, formulas in _values(sheet):
            yield number, values, frozenset(formulas)


def _values(sheet: Any) -> Iterator[tuple[int, tuple[Any, ...], tuple[int, ...]]]:
    for number, row in sheet.rows():
        yield number, row.values, row.formulas


def read_rows(path: Path, limits: Limits) -> Iterator[Row]:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_SIGNATURE) or head.startswith(OLE2_SIGNATURE):
        return _sheet_rows(path, limits)
    if b"\x00" in head:
        raise ListRefused("上传的文件既不是 Excel（.xlsx）也不是 CSV 文本，请另存后再上传")
    return _csv_rows(path, limits)


def _find_header(rows: Iterator[Row], department: Department,
                 county_code: str) -> tuple[int, dict[str, int], dict[str, str]]:
    accepted: dict[str, set[str]] = {key: {normalize_header(h) for h in headers}
                                     for key, headers in headers_of(department, county_code).items()}
    required = [f for f in department.all_fields if f.required]
    best: tuple[int, list[ListField]] | None = None
    for number, values, _formulas in rows:
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, value in enumerate(values):
            header = normalize_header(value)
            for key, accepted_names in accepted.items():
                if header in accepted_names and key not in columns:
                    columns[key], labels[key] = index, str(value).strip()
        missing = [f for f in required if f.key not in columns]
        if not missing:
            return number, columns, labels
        if columns and (best is None or len(missing) < len(best[1])):
            best = (number, missing)
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is not None:
        names = "、".join(f"“{f.label}”" for f in best[1])
        raise ListRefused(f"第{best[0]}行的表头中找不到{names}列：请核对列名，或在“列对应设置”中填写本部门表格的列名")
    raise ListRefused(f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头：应有"
                      + "、".join(f"“{f.label}”" for f in required) + "等列（可下载本部门的名单模板对照）")


def parse_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
    else:
        match = AMOUNT_TEXT_RE.match(unicodedata.normalize("NFKC", str(value)).strip())
        if not match:
            return None
        amount = Decimal(match.group(1).replace(",", ""))
    if not amount.is_finite() or amount < 0 or amount > Decimal("100000000"):
        return None
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


@dataclass
class _Row:
    number: int
    id_number: str
    name: str
    values: dict[str, Any]  # field key → parsed value
    household_id: int | None = None
    fingerprint: str = ""
    reasons: list[tuple[Rule, str]] = field(default_factory=list)
    record: dict[str, Any] | None = None  # the row as it will be stored, made while the file is read

    def data(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
                for k, v in self.values.items() if v is not None}


def _parse(rows: Iterator[Row], department: Department, columns: dict[str, int], labels: dict[str, str],
           today: date, matcher: _Matcher) -> tuple[list[ListProblem], int]:
    """Every data row parsed, every problem found (a whole list, not the first); the good rows go to the matcher a
    batch at a time, which looks them up while the reader reads on."""
    fields = [f for f in department.all_fields if f.key in columns]
    parsed: list[_Row] = []
    problems: list[ListProblem] = []
    count = 0
    for number, values, formulas in rows:
        cells = {f.key: values[columns[f.key]] if columns[f.key] < len(values) else None for f in fields}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue
        count += 1
        row_problems: list[ListProblem] = []
        parsed_values: dict[str, Any] = {}
        for list_field in fields:
            label = labels.get(list_field.key, list_field.label)
            if columns[list_field.key] in formulas:
                row_problems.append(ListProblem(number, label, "是公式，请粘贴为数值后再上传"))
                continue
            raw = cells[list_field.key]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if list_field.required:
                    row_problems.append(ListProblem(number, label, "不能为空"))
                parsed_values[list_field.key] = None
                continue
            if list_field.kind == AMOUNT:
                amount = parse_amount(raw)
                if amount is None:
                    row_problems.append(ListProblem(number, label, f"“{_text(raw)}”不是有效的金额（元）"))
                parsed_values[list_field.key] = amount
            elif list_field.kind == DAY:
                day = parse_date(raw)
                if day is None:
                    row_problems.append(ListProblem(number, label, f"“{_text(raw)}”不是有效的日期（如 2026-11-03）"))
                elif day > today:
                    row_problems.append(ListProblem(number, label, f"日期 {day.isoformat()} 晚于今天"))
                parsed_values[list_field.key] = day
            elif list_field.kind == NUMBER:
                try:
                    parsed_values[list_field.key] = int(Decimal(_text(raw)))
                except (InvalidOperation, ValueError):
                    row_problems.append(ListProblem(number, label, f"“{_text(raw)}”不是整数"))
            else:
                text = _text(raw)
                if len(text) > 200:
                    row_problems.append(ListProblem(number, label, "内容不超过 200 个字"))
                parsed_values[list_field.key] = text[:200]
        id_number = ""
        raw_id = cells.get("id_number")
        if columns["id_number"] not in formulas and raw_id is not None:
            if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
                row_problems.append(ListProblem(number, labels.get("id_number", "证件号码"),
                                                "证件号码被存成了数字，精度已丢失：请将该列设为文本后重新导出"))
            else:
                id_number = normalize_id_number(str(raw_id))
                problem = id_number_problem(id_number, today)
                if problem:
                    row_problems.append(ListProblem(number, labels.get("id_number", "证件号码"),
                                                    f"{masked_id(id_number) or id_number[:6]}：{problem}"))
        if row_problems:
            problems.extend(row_problems)
            continue
        parsed.append(_Row(number, id_number, str(parsed_values.pop("name") or ""), parsed_values))
        if len(parsed) >= MATCH_BATCH:
            if not problems:  # a file that will be refused is only read on, for its problems
                matcher.add(parsed)
            parsed = []
    if not problems:
        matcher.add(parsed)
    return problems, count


# ---- the upload --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UploadOutcome:
    upload: DepartmentUpload
    again: bool  # the same file was uploaded before: nothing new


def _save(stream: IO[bytes], folder: Path, max_bytes: int) -> tuple[Path, str, int]:
    digest = hashlib.sha256()
    # openpyxl reads a workbook only under an .xlsx name; a CSV's name does not matter.
    target = folder / f"list-{datetime.now().strftime('%Y%m%d%H%M%S%f')}-{secrets.token_hex(4)}.xlsx"
    written = save_upload(stream, target, max_bytes, digest)
    if written == 0:
        target.unlink(missing_ok=True)
        raise ListRefused("上传的文件是空的，请选择本部门的名单文件")
    return target, digest.hexdigest(), written


def _uploads_folder() -> Path:
    return Path(current_app.config.get("IMPORTS_FOLDER") or Path(current_app.instance_path) / "imports") / "lists"


def parse_month(text: str, today: date) -> ReportMonth:
    if not MONTH_RE.match((text or "").strip()):
        raise InvalidInput("请选择名单所属月份（YYYY-MM）", {"month": ["请选择名单所属月份（YYYY-MM）"]})
    month = ReportMonth.parse(text.strip())
    if (month.year, month.month) > (today.year, today.month) or month.year < 2020:
        message = "名单所属月份应在 2020 年 1 月到本月之间"
        raise InvalidInput(message, {"month": [message]})
    return month


def upload_list(actor: User, month_text: str, stream: IO[bytes] | None, file_name: str | None) -> UploadOutcome:
    """Check, match and store a department's list for a month, and raise the leads it warns of. Flushes only; the
    caller commits once. Refused input (ListRefused, SpreadsheetRefused) stores nothing."""
    code = department_of(actor)
    if code is None or not can_upload_department_list(actor):
        raise PermissionDenied("只有县级行业部门可以上传本部门的名单")
    department = DEPARTMENTS[code]
    today = china_today()
    month = parse_month(month_text, today)
    if stream is None:
        raise ListRefused("请选择要上传的名单文件（Excel 或 CSV）")
    path, sha256, size = _save(stream, _uploads_folder(), _max_bytes())
    rows: Iterator[Row] | None = None
    try:
        same = db.session.scalar(select(DepartmentUpload).where(DepartmentUpload.department == code,
                                                                DepartmentUpload.sha256 == sha256))
        if same is not None:
            if not can_see_department_list(actor, same):
                raise ListRefused("同样内容的名单已由其他县的同名部门上传过，请核对文件是否属于本县")
            return UploadOutcome(same, True)
        rows = read_rows(path, list_limits())
        _header_row, columns, labels = _find_header(rows, department, actor.area_code[:COUNTY_LENGTH])
        rules = rules_in_force(actor.area_code[:COUNTY_LENGTH], code)
        matcher = _Matcher(department, month, rules, actor.area_code)
        problems, count = _parse(rows, department, columns, labels, today, matcher)
    except SpreadsheetRefused as exc:
        raise ListRefused(exc.message) from exc
    finally:
        if rows is not None and hasattr(rows, "close"):
            rows.close()  # a workbook's reader (a child process) ends with it
        path.unlink(missing_ok=True)
    if problems:
        raise ListRefused(f"名单有 {len(problems)} 处错误，未导入任何一行：请修改后重新上传整个文件", problems)
    if not count:
        raise ListRefused("名单中没有数据行")
    upload = DepartmentUpload(department=code, month=month.key, file_name=(file_name or "名单")[:255], sha256=sha256,
                              size=size, rows_total=count, uploaded_by_id=actor.id)
    db.session.add(upload)
    db.session.flush()
    _warn_and_store(upload, department, matcher, month, rules, actor)
    record("department_list_uploaded", actor, f"{department.name} {month.label}名单：{upload.file_name}",
           {"upload_id": upload.id, "department": code, "month": month.key, "rows": count,
            "matched": upload.rows_matched, "warned": upload.rows_warned, "leads": upload.leads_created,
            "merged": upload.leads_merged, "noted": upload.cases_noted, "sha256": sha256})
    return UploadOutcome(upload, False)


def _members(id_numbers: list[str], county_code: str) -> dict[str, tuple[int, str]]:
    """ID number → (household id, name) for the county registry's members among them (a department's list is
    matched to its own county's households only)."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in chunks(id_numbers):
        # The county is tested here, not in SQL: a range over the household's village code, true of every household
        # of a one-county deployment, led PostgreSQL to scan all households for each chunk (56 ms a query).
        for number, household_id, name, village_code in db.session.execute(
                select(Member.id_number, Member.household_id, Member.name, Household.village_code)
                .join(Household, Household.id == Member.household_id).where(one_of(Member.id_number, chunk))):
            if village_code.startswith(county_code):
                found[number] = (household_id, name)
    return found


def _fingerprint(code: str, month: str, row: _Row) -> str:
    """The row's content: the same row in another file (or twice in one) is the same row."""
    body = "\x1f".join([code, month, row.id_number, row.name,
                        *(f"{k}={v}" for k, v in sorted(row.values.items()) if v is not None)])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class _Matcher:
    """Matches batches of rows to the registry as the file is read: members by ID number, rows an earlier upload
    of the month (or this file) already held set apart, and for the new rows what the rules will need (a person's
    total over the year so far, the household's assessed income) and the record each will be stored as. Reads only:
    nothing is written before the whole file is known to be good, and only this work is left for then."""

    def __init__(self, department: Department, month: ReportMonth, rules: list[Rule], area_code: str) -> None:
        self.code, self.month = department.code, month.key
        self.county_code = area_code[:COUNTY_LENGTH]
        self.year = month.year
        needs = kinds_needed(rules)
        self.amount_field = next((f.key for f in department.fields if f.kind == AMOUNT and f.required), None)
        self.needs_totals = "year_total" in needs and self.amount_field is not None
        self.needs_incomes = "household_income" in needs
        self.unmatched: list[dict[str, Any]] = []
        self.matched = 0
        self.new_rows: list[_Row] = []
        self.seen: set[str] = set()
        self.totals: dict[str, Decimal] = {}  # ID number → the year's amount: earlier uploads, then this file's
        self.incomes: dict[int, Decimal] = {}

    def add(self, rows: list[_Row]) -> None:
        if not rows:
            return
        members = _members(sorted({r.id_number for r in rows}), self.county_code)
        matched = []
        for row in rows:
            found = members.get(row.id_number)
            if found is None:
                self.unmatched.append({"row": row.number, "id_number": masked_id(row.id_number), "name": row.name,
                                       "reason": "农户库中没有该证件号码"})
                continue
            row.household_id = found[0]
            row.fingerprint = _fingerprint(self.code, self.month, row)
            matched.append(row)
        self.matched += len(matched)
        prints = [r.fingerprint for r in matched]
        known: set[str] = set()
        for chunk in chunks(prints):
            known.update(db.session.scalars(select(DepartmentRecord.fingerprint).where(
                DepartmentRecord.department == self.code, DepartmentRecord.month == self.month,
                one_of(DepartmentRecord.fingerprint, chunk))))
        fresh = []
        for row in matched:
            if row.fingerprint in known or row.fingerprint in self.seen:
                continue
            self.seen.add(row.fingerprint)
            fresh.append(row)
        self._prepare(fresh)
        self.new_rows.extend(fresh)

    def _prepare(self, rows: list[_Row]) -> None:
        amount_field = self.amount_field
        if self.needs_totals:
            first_seen = sorted({r.id_number for r in rows} - self.totals.keys())
            earlier = _year_totals(self.code, self.year, first_seen)
            for number in first_seen:
                self.totals[number] = earlier.get(number, Decimal(0))
            for row in rows:
                amount = row.values.get(amount_field) if amount_field else None
                if amount is not None:
                    self.totals[row.id_number] += amount
        if self.needs_incomes:
            households = sorted({r.household_id for r in rows if r.household_id} - self.incomes.keys())
            self.incomes.update(_household_incomes(households))
        for row in rows:
            row.record = dict(department=self.code, month=self.month, row_number=row.number,
                              id_number=row.id_number, name=row.name[:64], household_id=row.household_id,
                              amount=row.values.get(amount_field) if amount_field else None, data=row.data(),
                              fingerprint=row.fingerprint, rules=[], lead_id=None, case_id=None)


def _year_totals(code: str, year: int, id_numbers: list[str]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for chunk in chunks(id_numbers):
        for number, total in db.session.execute(
                select(DepartmentRecord.id_number, func.sum(DepartmentRecord.amount))
                .where(DepartmentRecord.department == code, DepartmentRecord.month.like(f"{year}-%"),
                       one_of(DepartmentRecord.id_number, chunk))
                .group_by(DepartmentRecord.id_number)):
            totals[number] += Decimal(total or 0)
    return totals


def _household_incomes(household_ids: list[int]) -> dict[int, Decimal]:
    """Each household's yearly net income as its latest 收支测算 found it."""
    incomes: dict[int, Decimal] = {}
    for chunk in chunks(household_ids):
        for household_id, total, costs in db.session.execute(
                select(IncomeAssessment.household_id, IncomeAssessment.total_income, IncomeAssessment.business_costs)
                .where(one_of(IncomeAssessment.household_id, chunk)).order_by(IncomeAssessment.id)):
            incomes[household_id] = Decimal(total) - Decimal(costs)  # later rows replace earlier ones
    return incomes


def _warn_and_store(upload: DepartmentUpload, department: Department, matcher: _Matcher, month: ReportMonth,
                    rules: list[Rule], actor: User) -> None:
    """The whole file is good: test the rules (a person's total over the year needs every row of the file), raise
    the leads and notes, and store the new rows (their records made while the file was read)."""
    new_rows = matcher.new_rows
    first, last = month.first_day, month.next_first_day - timedelta(days=1)
    for row in new_rows:
        facts = RowFacts(first, last, matcher.totals.get(row.id_number) if matcher.needs_totals else None,
                         matcher.incomes.get(row.household_id or 0))
        for rule in rules:
            why = met(rule, row.values, facts)
            if why is not None:
                row.reasons.append((rule, why))
    warned = [r for r in new_rows if r.reasons]
    links = _raise_warnings(upload, department, month, warned, actor)
    for row in warned:
        assert row.record is not None
        lead_id, case_id = links.get(row.household_id or 0, (None, None))
        row.record.update(rules=[rule.key for rule, _why in row.reasons], lead_id=lead_id, case_id=case_id)
    records: list[dict[str, Any]] = []
    for row in new_rows:
        assert row.record is not None
        row.record["upload_id"] = upload.id
        records.append(row.record)
    insert_rows(table_of(DepartmentRecord), records)
    upload.rows_matched = matcher.matched
    upload.rows_already = matcher.matched - len(new_rows)
    upload.rows_warned = len(warned)
    upload.unmatched = matcher.unmatched[:UNMATCHED_KEPT]
    db.session.flush()


def _raise_warnings(upload: DepartmentUpload, department: Department, month: ReportMonth, warned: list[_Row],
                    actor: User) -> dict[int, tuple[int | None, int | None]]:
    """One lead (or one case note) per household whose rows met a rule: household id → (lead id, case id)."""
    from app.collab.operations import add_comment
    from app.leads.operations import DeclarationInput, record_department_warning

    by_household: dict[int, list[_Row]] = defaultdict(list)
    for row in warned:
        by_household[row.household_id or 0].append(row)
    links: dict[int, tuple[int | None, int | None]] = {}
    today = china_today()
    ids = sorted(by_household)
    households: dict[int, Household] = {}
    in_hand: dict[int, Case] = {}
    for chunk in chunks(ids):  # the households and their cases in hand, a chunk at a time
        households.update((h.id, h) for h in db.session.scalars(select(Household).where(one_of(Household.id, chunk))))
        for open_case in db.session.scalars(select(Case).where(one_of(Case.household_id, chunk),
                                                               Case.status.in_(OPEN_CASE_STATUSES)).order_by(Case.id)):
            in_hand.setdefault(open_case.household_id, open_case)
    for household_id, rows in sorted(by_household.items()):
        household = households.get(household_id)
        if household is None:
            continue
        rules = list(dict.fromkeys(rule for row in rows for rule, _why in row.reasons))
        what = "；".join(f"{row.name}：" + "，".join(f"{rule.label}（{why}）" for rule, why in row.reasons)
                        for row in rows)
        summary = f"{department.name} {month.label}名单（第 {'、'.join(str(r.number) for r in rows)} 行）：{what}"
        case = in_hand.get(household_id)
        if case is not None:  # under monitoring already: a note on its case, not a new lead
            add_comment(case, f"部门预警：{summary}"[:2000], actor)
            upload.cases_noted += 1
            links[household_id] = (None, case.id)
            continue
        evidence = {"upload_id": upload.id, "department": department.code, "month": month.key,
                    "rows": [{"row": r.number, "name": r.name, "id_number": masked_id(r.id_number), **r.data(),
                              "rules": [{"key": rule.key, "label": rule.label, "why": why}
                                        for rule, why in r.reasons]} for r in rows]}
        given = DeclarationInput(reporter_name=department.name[:32], reporter_phone="", description=summary[:2000],
                                 risk_types=list(dict.fromkeys(rule.national_risk_type for rule in rules)),
                                 urgency="urgent" if any(rule.urgent for rule in rules) else "normal")
        lead = record_department_warning(household, department.code, department.name, given, today, actor, evidence)
        if lead.status == "merged":
            upload.leads_merged += 1
        else:
            upload.leads_created += 1
        links[household_id] = (lead.id, None)
    return links


def uploads_of(department: str | None, viewer: User, limit: int = 100) -> list[DepartmentUpload]:
    """The latest uploads (of one department) by the departments of the viewer's area."""
    stmt = select(DepartmentUpload).order_by(DepartmentUpload.uploaded_at.desc(), DepartmentUpload.id.desc())
    if not covers_every_county(viewer):
        stmt = stmt.where(DepartmentUpload.uploaded_by_id.in_(
            select(User.id).where(below(User.area_code, viewer.area_code))))
    if department:
        stmt = stmt.where(DepartmentUpload.department == department)
    return list(db.session.scalars(stmt.limit(limit)))


def records_of(upload: DepartmentUpload, warned_only: bool = False, limit: int = 500) -> list[DepartmentRecord]:
    stmt = select(DepartmentRecord).where(DepartmentRecord.upload_id == upload.id)
    if warned_only:
        stmt = stmt.where(DepartmentRecord.lead_id.is_not(None) | DepartmentRecord.case_id.is_not(None))
    return list(db.session.scalars(stmt.order_by(DepartmentRecord.row_number).limit(limit)))
