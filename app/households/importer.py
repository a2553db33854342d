"""Household registry import: the national system's export (one row per person) or the app's template.

Two phases. `validate_file` reads the sheet row by row (openpyxl read-only, in a budgeted child process:
`app.excel.bounded`), checks every row and every household, and compares with the database; it writes
nothing. `store` carries out the plan with bulk statements and flushes only: the caller commits once, so a
failure stores nothing.

Households are keyed by 户编号; a household without one is keyed by its head's ID number and gets the
number ``H`` + that ID. Re-importing the same file finds every household unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, true, update

from app.areas import below
from app.excel.bounded import Budget, UploadSheet, open_upload
from app.excel.reading import (
    Limits,
    SpreadsheetRefused,
    describe_range,
    formula_message,
    is_formula,
)
from app.excel.typed import normalize_header, parse_date
from app.extensions import db, table_of
from app.households.idnumber import id_number_problem, normalize_id_number
from app.households.registered import refresh_registered_households
from app.models import Area, Household, Member

HEADER_SEARCH_ROWS = 10
HEAD = "户主"
EARLIEST_LIFTED_YEAR = 2014
MAX_HOUSEHOLD_SIZE = 30
GENERATED_PREFIX = "H"  # 户编号 made from the head's ID number when the file has none
CHUNK = 500

# Field → header texts accepted (compared after NFKC, without spaces or a leading *).
COLUMNS: dict[str, tuple[str, ...]] = {
    "county": ("县(市、区)", "县(市,区)", "县市区", "县(区)", "县", "区县"),
    "town": ("乡(镇)", "乡镇", "镇", "乡(镇、街道)", "乡镇(街道)", "镇(乡)", "乡(镇、办)"),
    "village": ("行政村", "村", "村(社区)", "行政村(社区)", "村名称"),
    "village_code": ("村代码", "村编码", "行政村代码", "村级代码", "村(社区)代码"),
    "household_no": ("户编号", "户编码", "户号"),
    "name": ("姓名", "成员姓名"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "公民身份号码", "证件号", "身份证件号码"),
    "relation": ("与户主关系",),
    "size": ("人数", "家庭人口", "家庭人口数", "户人数", "家庭人数"),
    "lifted_year": ("脱贫年度", "脱贫年份"),
    "kind": ("户类型", "脱贫户类型", "户属性"),
    "phone": ("联系电话", "电话", "联系方式", "手机号码", "手机号"),
    "group": ("村民小组", "组", "小组", "村民组", "组别", "所在组"),
    # The national system's columns (its export of 已脱贫 and 边缘易致贫 households): the person's number, kept on
    # the member, and the household's monitoring state, which the reconciliation with it compares and no import
    # stores (monitoring is decided by the county's own procedure).
    "person_no": ("人编号", "人员编号", "成员编号"),
    "category": ("易返贫致贫户(监测对象)类型", "监测对象类型", "易返贫致贫户类型", "监测对象类别"),
    "eliminated": ("风险是否消除", "是否消除风险"),
    "identified_on": ("风险识别时间", "识别监测时间", "纳入监测时间"),
    "eliminated_on": ("风险消除时间",),
}
NATIONAL_STATE = ("category", "eliminated", "identified_on", "eliminated_on")
# The columns of the template the app offers, in order.
TEMPLATE_COLUMNS: tuple[str, ...] = ("乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "家庭人口",
                                     "脱贫年度", "联系电话")
DEFAULT_LABELS = {"county": "县", "town": "乡镇", "village": "行政村", "village_code": "村代码",
                  "household_no": "户编号", "name": "姓名", "id_number": "证件号码", "relation": "与户主关系",
                  "size": "家庭人口", "lifted_year": "脱贫年度", "kind": "户类型", "phone": "联系电话",
                  "group": "村民小组", "person_no": "人编号", "category": "易返贫致贫户(监测对象)类型",
                  "eliminated": "风险是否消除", "identified_on": "风险识别时间", "eliminated_on": "风险消除时间"}
# The national system's words for a monitoring category (and for a household that is none).
CATEGORY_WORDS: dict[str, str] = {"脱贫不稳定户": "unstable_lifted", "边缘易致贫户": "marginal", "边缘户": "marginal",
                                  "突发严重困难户": "sudden_hardship"}
NOT_MONITORED_WORDS = ("否", "无", "未纳入", "非监测对象", "不是监测对象")
YES_WORDS, NO_WORDS = ("是", "已消除"), ("否", "未消除")
NUMERIC_ID = "证件号码被存成了数字，精度已丢失，请将该列设为文本"
NUMERIC_HOUSEHOLD_NO = "户编号被存成了数字，精度已丢失，请将该列设为文本"
NUMERIC_PERSON_NO = "人编号被存成了数字，精度已丢失，请将该列设为文本"
PHONE_RE = re.compile(r"^[0-9+\-]{5,20}$")
YEAR_RE = re.compile(r"((?:19|20)\d{2})")


_ALIASES: dict[str, str] = {normalize_header(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


def compact(value: Any) -> str:
    """Cell text with full-width characters made half-width and every space removed (names, codes)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if not text.isascii():  # NFKC changes no ASCII character (codes, numbers, phones)
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split())


@dataclass(frozen=True, slots=True)
class RowError:
    row: int | None  # the spreadsheet's row number; None for the file as a whole
    column: str  # the column's header text as in the file; "" for the whole row
    message: str
    column_index: int | None = None  # 1-based, for highlighting the cell

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "column_index": self.column_index}

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        return f"{where}{' ' + self.column if self.column else ''}：{self.message}"


@dataclass(frozen=True, slots=True)
class NationalState:
    """A household's monitoring state as the national system's export gives it (on its head's row)."""

    row: int
    category: str | None  # MONITORING_CATEGORIES key; None: not a monitoring object
    eliminated: bool | None  # 风险是否消除; None when blank
    identified_on: date | None
    eliminated_on: date | None


# row, name, ID number, relation, 人编号 (None when the file has none)
DraftMember = tuple[int, str, str, str, str | None]


@dataclass(slots=True)
class HouseholdDraft:
    """One household as read from the file."""

    key: str
    household_no: str  # "" when the file gives none
    first_row: int
    village_code: str | None = None
    members: list[DraftMember] = field(default_factory=list)
    heads: list[int] = field(default_factory=list)
    size: int | None = None
    size_row: int = 0
    kind: str | None = None
    lifted_year: int | None = None
    phone: str | None = None  # None: the file has no phone column, and the stored one is kept
    group: str | None = None  # None: the file has no 村民小组 column, and the stored one is kept
    national: NationalState | None = None  # only when the file has the national system's columns
    invalid: bool = False
    existing_id: int | None = None
    action: str = "create"  # create | update | unchanged

    @property
    def head(self) -> DraftMember | None:
        for member in self.members:
            if member[3] == HEAD:
                return member
        return None

    def final_number(self) -> str:
        head = self.head
        return self.household_no or (GENERATED_PREFIX + head[2] if head else "")


@dataclass
class Validation:
    """What reading the file found: the errors and the plan for every household."""

    rows_total: int | None = None
    rows_read: int = 0
    person_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    households: list[HouseholdDraft] = field(default_factory=list)
    header_row: int | None = None
    county_code: str | None = None  # the county whose registry the file is (None: every area of the deployment)
    columns: dict[str, int] = field(default_factory=dict)  # field → 1-based column index
    labels: dict[str, str] = field(default_factory=dict)  # field → header text as in the file

    @property
    def has_person_numbers(self) -> bool:
        return "person_no" in self.columns

    @property
    def has_national_state(self) -> bool:
        return any(key in self.columns for key in NATIONAL_STATE)

    @property
    def refused(self) -> bool:
        """Errors about the file as a whole: nothing can be stored, not even with --valid-only."""
        return any(e.row is None for e in self.errors)

    @property
    def valid(self) -> list[HouseholdDraft]:
        return [h for h in self.households if not h.invalid]

    def count(self, action: str) -> int:
        return sum(1 for h in self.valid if h.action == action)

    @property
    def rejected(self) -> int:
        return sum(1 for h in self.households if h.invalid)


@dataclass(frozen=True)
class Counts:
    created: int
    updated: int
    unchanged: int
    rejected: int

    def as_text(self) -> str:
        return f"新增 {self.created} 户，更新 {self.updated} 户，无变化 {self.unchanged} 户" + (
            f"，未导入（有错误）{self.rejected} 户" if self.rejected else "")


class _Areas:
    """Towns and villages of the county, matched by name (tolerating 镇/村 suffixes and full-width forms); those of
    other counties of the deployment are not this county's registry's."""

    TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
    VILLAGE_SUFFIXES = ("居委会", "社区", "村")

    def __init__(self, county_code: str | None = None) -> None:
        rows = db.session.execute(select(Area.code, Area.name, Area.level)
                                  .where(below(Area.code, county_code) if county_code else true())).all()
        self.codes = {code for code, _name, level in rows if level == "village"}
        self.towns: dict[str, str] = {}
        self.villages: dict[tuple[str, str], str] = {}
        self.village_anywhere: dict[str, set[str]] = {}
        self._town_found: dict[str, str | None] = {}
        self._village_found: dict[tuple[str | None, str], tuple[str | None, str | None]] = {}
        for code, name, level in rows:
            if level == "town":
                for variant in self._variants(name, self.TOWN_SUFFIXES):
                    self.towns.setdefault(variant, code)
        for code, name, level in rows:
            if level == "village":
                for variant in self._variants(name, self.VILLAGE_SUFFIXES):
                    self.villages.setdefault((code[:9], variant), code)
                    self.village_anywhere.setdefault(variant, set()).add(code)

    @staticmethod
    def _variants(name: str, suffixes: Sequence[str]) -> list[str]:
        text = compact(name)
        bare = re.sub(r"\(.*?\)$", "", text)  # 金星村(演示) → 金星村
        variants = [text, bare]
        for base in (text, bare):
            for suffix in suffixes:
                if base.endswith(suffix) and len(base) > len(suffix):
                    variants.append(base[: -len(suffix)])
                    break
        return list(dict.fromkeys(variants))

    def town(self, name: str) -> str | None:
        if name not in self._town_found:  # a registry names the same few towns on every row
            self._town_found[name] = next((self.towns[v] for v in self._variants(name, self.TOWN_SUFFIXES)
                                           if v in self.towns), None)
        return self._town_found[name]

    def village(self, town_code: str | None, name: str) -> tuple[str | None, str | None]:
        """(village code, None) or (None, problem)."""
        key = (town_code, name)
        if key not in self._village_found:
            self._village_found[key] = self._match_village(town_code, name)
        return self._village_found[key]

    def _match_village(self, town_code: str | None, name: str) -> tuple[str | None, str | None]:
        for variant in self._variants(name, self.VILLAGE_SUFFIXES):
            if town_code is not None:
                if (town_code, variant) in self.villages:
                    return self.villages[(town_code, variant)], None
            elif variant in self.village_anywhere:
                found = self.village_anywhere[variant]
                if len(found) == 1:
                    return next(iter(found)), None
                return None, f"有多个乡镇都有“{name}”，请填写乡镇"
        return None, f"找不到“{name}”：请核对村名（须与系统中的行政村名称一致）"


def validate_file(path: Path, *, limits: Limits, budget: Budget, county: Area, today: date,
                  progress: Callable[[int, int | None], None] | None = None) -> Validation:
    """Read and check the whole file for one county's registry; compare with the database. Writes nothing."""
    result = Validation(county_code=county.code)
    with open_upload(path, limits, budget) as sheet:
        result.rows_total = sheet.max_row
        _read(sheet, result, county.name, today, progress)
    if result.refused:
        return result
    _check_households(result)
    _compare_with_database(result)
    result.errors.sort(key=lambda e: (e.row or 0, e.column_index or 0))
    return result


def _find_header(rows: Iterator[tuple[int, Sequence[Any]]]) -> tuple[int, dict[str, int], dict[str, str]] | None:
    for number, cells in rows:
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, cell in enumerate(cells, start=1):
            key = _ALIASES.get(normalize_header(cell.value))
            if key and key not in columns:
                columns[key] = index
                labels[key] = str(cell.value).strip()
        if {"name", "id_number", "relation"} <= columns.keys():
            return number, columns, labels
        if number >= HEADER_SEARCH_ROWS:
            return None
    return None


def _read(sheet: UploadSheet, result: Validation, county_name: str, today: date,
          progress: Callable[[int, int | None], None] | None) -> None:
    rows = sheet.rows()
    found = _find_header(rows)
    if found is None:
        result.errors.append(RowError(None, "", f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头：应有“姓名”“证件号码”"
                                                "“与户主关系”“行政村”“脱贫年度”等列（可下载导入模板对照）"))
        return
    header_row, columns, labels = found
    result.header_row, result.columns = header_row, columns
    missing = []
    if "village" not in columns and "village_code" not in columns:
        missing.append("行政村")
    if "lifted_year" not in columns and "kind" not in columns:
        missing.append("脱贫年度")
    if missing:
        result.errors.append(RowError(None, "", "缺少" + "、".join(f"“{m}”" for m in missing) + "列"))
        return
    merged = sheet.merged_in_rows(header_row + 1)
    if merged is not None:
        result.errors.append(RowError(None, "", f"第{merged[1]}行有合并单元格（{describe_range(merged)}），"
                                                "数据行不能合并单元格：请取消合并并在每一行填上内容"))
        return
    label = {key: labels.get(key, DEFAULT_LABELS[key]) for key in DEFAULT_LABELS}
    result.labels = label
    reader = _RowReader(result, columns, label, _Areas(result.county_code), county_name, today)
    for number, cells in rows:
        reader.read(number, cells)
        result.rows_read = number
        if progress is not None and number % 2000 == 0:
            progress(number, result.rows_total)
    if progress is not None:
        progress(result.rows_read, result.rows_total)


class _RowReader:
    def __init__(self, result: Validation, columns: dict[str, int], label: dict[str, str], areas: _Areas,
                 county_name: str, today: date) -> None:
        self.result = result
        self.columns = columns
        self.label = label
        self.areas = areas
        self.county_name = compact(county_name)
        self.county_names = {self.county_name, self.county_name.removesuffix("县")}
        self.today = today
        self.by_key: dict[str, HouseholdDraft] = {}
        self.seen_ids: dict[str, int] = {}
        self.anonymous: HouseholdDraft | None = None  # the open household of rows without 户编号
        self.intern: dict[str, str] = {}

    def error(self, row: int, key: str, message: str, draft: HouseholdDraft | None = None) -> None:
        column = self.columns.get(key)
        self.result.errors.append(RowError(row, self.label[key] if key else "", message, column))
        if draft is not None:
            draft.invalid = True

    def read(self, number: int, cells: Sequence[Any]) -> None:
        values: dict[str, Any] = {}
        formulas: list[str] = []
        for key, index in self.columns.items():
            cell = cells[index - 1] if index <= len(cells) else None
            if cell is None:
                values[key] = None
                continue
            if is_formula(cell):
                formulas.append(key)
            values[key] = cell.value
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
            return  # blank rows are skipped
        self.result.person_rows += 1
        problems: list[tuple[str, str]] = [(key, formula_message(number, self.columns[key])) for key in formulas]
        formula_keys = set(formulas)

        def text(key: str) -> str:
            return "" if key in formula_keys else compact(values.get(key))

        # Which household does the row belong to?
        relation = text("relation")
        household_no, problem = _household_no(values.get("household_no"))
        if problem:
            problems.append(("household_no", problem))
        draft = self._draft(number, household_no, relation, problems)

        name = text("name")
        if not name:
            problems.append(("name", "请填写姓名"))
        elif len(name) > 64:
            problems.append(("name", "姓名不超过 64 个字"))
        id_number = ""
        raw_id = values.get("id_number")
        if "id_number" in formula_keys:
            pass
        elif isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            problems.append(("id_number", NUMERIC_ID))
        else:
            id_number = normalize_id_number(str(raw_id or ""))
            id_problem = id_number_problem(id_number, self.today)
            if id_problem:
                problems.append(("id_number", id_problem))
                id_number = ""
            elif id_number in self.seen_ids:
                problems.append(("id_number", f"证件号码与第{self.seen_ids[id_number]}行重复"))
                id_number = ""
            else:
                self.seen_ids[id_number] = number
        person_no: str | None = None
        if "person_no" in self.columns and "person_no" not in formula_keys:
            person_no, problem = _code(values.get("person_no"), NUMERIC_PERSON_NO, "人编号")
            if problem:
                problems.append(("person_no", problem))
            person_no = person_no or None
        if not relation:
            problems.append(("relation", "请填写与户主关系"))
        elif len(relation) > 16:
            problems.append(("relation", "与户主关系不超过 16 个字"))
        county = text("county")
        if county and county not in self.county_names:
            problems.append(("county", f"不是本县（{self.county_name}）的农户"))
        village_code = self._village(text, problems)
        size_text = text("size")
        size: int | None = None
        if size_text:
            size = _int(size_text.removesuffix("人"))
            if size is None or not 1 <= size <= MAX_HOUSEHOLD_SIZE:
                problems.append(("size", f"家庭人口应为 1–{MAX_HOUSEHOLD_SIZE} 之间的整数"))
                size = None
        phone = text("phone") if "phone" in self.columns else None
        if phone and not PHONE_RE.match(phone):
            problems.append(("phone", "联系电话格式不正确（只能是数字，最多 20 位）"))
            phone = ""
        group = text("group") if "group" in self.columns else None
        if group is not None and len(group) > 32:
            problems.append(("group", "村民小组不超过 32 个字"))
            group = None

        if draft is not None:
            if village_code is not None:
                if draft.village_code is None:
                    draft.village_code = village_code
                elif draft.village_code != village_code:
                    problems.append(("village", "与本户其他成员填写的村不一致"))
            if size is not None:
                if draft.size is None:
                    draft.size, draft.size_row = size, number
                elif draft.size != size:
                    problems.append(("size", f"与本户第{draft.size_row}行填写的家庭人口（{draft.size}）不一致"))
            if relation == HEAD:
                draft.heads.append(number)
                if len(draft.heads) == 1:
                    draft.phone = phone
                    draft.group = group
                    self._kind(number, text, problems, draft)
                    if self.result.has_national_state:
                        draft.national = self._national(number, values, formula_keys, text, problems)
            draft.members.append((number, self._interned(name), id_number, self._interned(relation), person_no))
        for key, message in problems:
            self.error(number, key, message, draft)
        if draft is None and not problems:
            self.error(number, "household_no", "无法确定所属的户", None)

    def _interned(self, value: str) -> str:
        return self.intern.setdefault(value, value) if len(value) <= 4 else value

    def _draft(self, number: int, household_no: str, relation: str,
               problems: list[tuple[str, str]]) -> HouseholdDraft | None:
        if household_no:
            self.anonymous = None
            draft = self.by_key.get(household_no)
            if draft is None:
                draft = HouseholdDraft(key=household_no, household_no=household_no, first_row=number)
                self.by_key[household_no] = draft
                self.result.households.append(draft)
            return draft
        if "household_no" in self.columns and any(k == "household_no" for k, _ in problems):
            return None
        if relation == HEAD:
            draft = HouseholdDraft(key=f"@{number}", household_no="", first_row=number)
            self.anonymous = draft
            self.result.households.append(draft)
            return draft
        if self.anonymous is not None:
            return self.anonymous
        problems.append(("household_no" if "household_no" in self.columns else "relation",
                         "户编号为空时，家庭成员应紧跟在本户户主那一行之后"))
        return None

    def _village(self, text: Callable[[str], str], problems: list[tuple[str, str]]) -> str | None:
        code = text("village_code")
        if code:
            if code in self.areas.codes:
                return code
            problems.append(("village_code", f"村代码 {code} 不存在（应为 12 位统计用区划代码）"))
            return None
        town_name, village_name = text("town"), text("village")
        town_code = None
        if town_name:
            town_code = self.areas.town(town_name)
            if town_code is None:
                problems.append(("town", f"找不到乡镇“{town_name}”"))
                return None
        if not village_name:
            problems.append(("village", "请填写行政村"))
            return None
        village_code, problem = self.areas.village(town_code, village_name)
        if problem:
            problems.append(("village", problem))
        return village_code

    def _kind(self, number: int, text: Callable[[str], str], problems: list[tuple[str, str]],
              draft: HouseholdDraft) -> None:
        year_text, kind_text = text("lifted_year"), text("kind")
        kind: str | None = None
        year: int | None = None
        if kind_text:
            if any(word in kind_text for word in ("非贫困", "一般农户", "边缘", "突发")):
                kind = "non_poor"
            elif "脱贫" in kind_text:
                kind = "lifted"
                match = YEAR_RE.search(kind_text)
                year = int(match.group(1)) if match else None
            else:
                problems.append(("kind", f"无法识别户类型“{kind_text}”，应为“已脱贫户”或“非贫困户”"))
                return
        if year_text:
            if "非贫困" in year_text:
                if kind == "lifted":
                    problems.append(("lifted_year", "户类型为已脱贫户，脱贫年度却填写了“非贫困户”"))
                    return
                kind = "non_poor"
            else:
                match = re.fullmatch(r"((?:19|20)\d{2})(?:年|年度)?", year_text)
                if match is None:
                    problems.append(("lifted_year", f"脱贫年度“{year_text}”无法识别：应填年份（如 2016）或“非贫困户”"))
                    return
                if kind == "non_poor":
                    problems.append(("lifted_year", "户类型为非贫困户，不应填写脱贫年度"))
                    return
                kind, year = "lifted", int(match.group(1))
        if kind is None:
            problems.append(("lifted_year" if "lifted_year" in self.columns else "kind",
                             "请填写脱贫年度（年份）或“非贫困户”"))
            return
        if kind == "lifted":
            if year is None:
                problems.append(("lifted_year" if "lifted_year" in self.columns else "kind",
                                 "已脱贫户应填写脱贫年度"))
                return
            if not EARLIEST_LIFTED_YEAR <= year <= self.today.year:
                problems.append(("lifted_year" if year_text else "kind",
                                 f"脱贫年度应在 {EARLIEST_LIFTED_YEAR}–{self.today.year} 年之间"))
                return
        draft.kind, draft.lifted_year = kind, year

    def _national(self, number: int, values: dict[str, Any], formula_keys: set[str], text: Callable[[str], str],
                  problems: list[tuple[str, str]]) -> NationalState:
        """The household's monitoring state in the national system's words; each word it does not know is an error
        of its cell (the reconciliation must not guess)."""
        category: str | None = None
        category_text = text("category")
        if category_text and category_text not in NOT_MONITORED_WORDS:
            category = next((code for word, code in CATEGORY_WORDS.items() if word in category_text), None)
            if category is None:
                problems.append(("category", f"无法识别监测对象类型“{category_text}”，应为脱贫不稳定户、边缘易致贫户、"
                                             "突发严重困难户之一（不是监测对象的留空）"))
        eliminated: bool | None = None
        eliminated_text = text("eliminated")
        if eliminated_text in YES_WORDS:
            eliminated = True
        elif eliminated_text in NO_WORDS:
            eliminated = False
        elif eliminated_text:
            problems.append(("eliminated", f"风险是否消除应填“是”或“否”，不是“{eliminated_text}”"))
        days: dict[str, date | None] = {}
        for key in ("identified_on", "eliminated_on"):
            raw = None if key in formula_keys else values.get(key)
            days[key] = None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            day = parse_date(raw)
            if day is None:
                problems.append((key, f"“{compact(raw)}”不是日期：应填写如 2021-06-01 的日期"))
            elif day > self.today:
                problems.append((key, "日期不能晚于今天"))
            else:
                days[key] = day
        identified_on, eliminated_on = days["identified_on"], days["eliminated_on"]
        if identified_on and eliminated_on and eliminated_on < identified_on:
            problems.append(("eliminated_on", "风险消除时间早于风险识别时间"))
        return NationalState(number, category, eliminated, identified_on, eliminated_on)


def _household_no(value: Any) -> tuple[str, str | None]:
    return _code(value, NUMERIC_HOUSEHOLD_NO, "户编号")


def _code(value: Any, numeric_message: str, label: str) -> tuple[str, str | None]:
    """A number of the national system (户编号, 人编号): text, as a number it loses digits past the 15th."""
    if value is None:
        return "", None
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 1e15:
            return "", numeric_message
        value = int(value)
    if isinstance(value, int) and abs(value) >= 10**15:
        return "", numeric_message
    text = compact(value)
    if len(text) > 32:
        return "", f"{label}不超过 32 位"
    return text, None


def _int(text: str) -> int | None:
    try:
        return int(float(text)) if float(text).is_integer() else None
    except ValueError:
        return None


def _check_households(result: Validation) -> None:
    errors = result.errors
    for draft in result.households:
        label = f"户编号 {draft.household_no}" if draft.household_no else f"第{draft.first_row}行起"
        relation_column = result.columns["relation"]
        if not draft.heads:
            errors.append(RowError(draft.first_row, _label(result, "relation"),
                                   f"本户（{label}）没有户主：应有一行的与户主关系为“户主”", relation_column))
            draft.invalid = True
        for extra in draft.heads[1:]:
            errors.append(RowError(extra, _label(result, "relation"),
                                   f"本户（{label}）已有户主（第{draft.heads[0]}行），每户只能有一个户主",
                                   relation_column))
            draft.invalid = True
        if draft.size is not None and draft.size != len(draft.members):
            errors.append(RowError(draft.size_row, _label(result, "size"),
                                   f"家庭人口填写为 {draft.size} 人，但本户共有 {len(draft.members)} 行成员",
                                   result.columns.get("size")))
            draft.invalid = True
        if draft.heads and draft.kind is None:
            draft.invalid = True  # the head row already carries the message
        if draft.village_code is None:
            draft.invalid = True


def _label(result: Validation, key: str) -> str:
    return result.labels.get(key, DEFAULT_LABELS[key])


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _compare_with_database(result: Validation) -> None:
    """Match households with the database, find IDs held by other households, decide each action."""
    drafts = [d for d in result.households if d.head is not None]
    numbers = [d.household_no for d in drafts if d.household_no]
    by_number: dict[str, Any] = {}
    for chunk in _chunks(numbers):
        for found in db.session.execute(select(table_of(Household)).where(Household.household_no.in_(chunk))):
            by_number[found.household_no] = found
    head_ids = [head[2] for head in (d.head for d in drafts) if head is not None and head[2]]
    by_head: dict[str, Any] = {}
    for chunk in _chunks(head_ids):
        for found in db.session.execute(select(table_of(Household)).where(Household.head_id_number.in_(chunk))):
            by_head[found.head_id_number] = found
    id_column, id_label = result.columns["id_number"], _label(result, "id_number")
    hno_column = result.columns.get("household_no")
    matched: dict[int, HouseholdDraft] = {}
    existing: dict[int, Any] = {}
    county = result.county_code
    for draft in drafts:
        head = draft.head
        assert head is not None
        row = by_number.get(draft.household_no) if draft.household_no else None
        elsewhere = row if row is not None else by_head.get(head[2]) if head[2] else None
        if county and elsewhere is not None and not elsewhere.village_code.startswith(county):
            # Another county's household: neither moved nor described (its head is not this county's to see).
            column = hno_column if row is not None else id_column
            result.errors.append(RowError(head[0], _label(result, "household_no") if row is not None else id_label,
                                          "该户已登记在其他县，不能由本县导入", column))
            draft.invalid = True
            continue
        if row is None and head[2]:
            holder = by_head.get(head[2])
            if holder is not None:
                generated = holder.household_no == GENERATED_PREFIX + head[2]
                if draft.household_no and not generated:
                    result.errors.append(RowError(head[0], id_label, f"该户主已登记在户编号 {holder.household_no} 下，"
                                                  f"与本表的户编号 {draft.household_no} 不一致", id_column))
                    draft.invalid = True
                    continue
                row = holder
        if row is None:
            continue
        if row.id in matched:
            other = matched[row.id]
            result.errors.append(RowError(draft.first_row, _label(result, "household_no"),
                                          f"与第{other.first_row}行起的户是系统中的同一户（户编号 {row.household_no}）",
                                          hno_column))
            draft.invalid = True
            continue
        matched[row.id] = draft
        existing[row.id] = row
        draft.existing_id = row.id

    # IDs (of members and heads) held by households this file does not rewrite.
    file_ids = [(m[2], m[0], d) for d in drafts for m in d.members if m[2]]
    holders: dict[str, tuple[int, str, str, str]] = {}
    id_list = [item[0] for item in file_ids]
    for chunk in _chunks(id_list):
        stmt = (select(Member.id_number, Household.id, Household.household_no, Household.head_name,
                       Household.village_code)
                .join(Household, Member.household_id == Household.id).where(Member.id_number.in_(chunk)))
        for id_number, hid, hno, head_name, village in db.session.execute(stmt):
            holders[id_number] = (hid, hno, head_name, village)
        stmt2 = select(Household.head_id_number, Household.id, Household.household_no, Household.head_name,
                       Household.village_code).where(Household.head_id_number.in_(chunk))
        for id_number, hid, hno, head_name, village in db.session.execute(stmt2):
            holders.setdefault(id_number, (hid, hno, head_name, village))
    changed = True
    while changed:  # excluding a household can leave an ID of another one without its rewrite
        changed = False
        for id_number, row_number, draft in file_ids:
            if draft.invalid:
                continue
            holder = holders.get(id_number)
            if holder is None or holder[0] == draft.existing_id:
                continue
            rewriter = matched.get(holder[0])
            if rewriter is not None and not rewriter.invalid:
                continue
            held_here = not county or holder[3].startswith(county)
            result.errors.append(RowError(row_number, id_label, f"证件号码已登记在其他户（户编号 {holder[1]}，"
                                          f"户主 {holder[2]}）" if held_here else "证件号码已登记在其他县的农户中",
                                          id_column))
            draft.invalid = True
            changed = True

    # Decide each action; unchanged households need no write at all.
    ids = list(existing)
    # 人编号 compared only when the file gives them (a file without them keeps the stored ones).
    with_numbers = result.has_person_numbers
    current_members: dict[int, list[tuple[str, str, str, str | None]]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for hid, name, id_number, relation, person_no in db.session.execute(
                select(Member.household_id, Member.name, Member.id_number, Member.relation, Member.person_no)
                .where(Member.household_id.in_(chunk))):
            current_members[hid].append((name, id_number, relation, person_no if with_numbers else None))
    for draft in drafts:
        if draft.invalid:
            continue
        if draft.existing_id is None:
            draft.action = "create"
            continue
        row = existing[draft.existing_id]
        wanted = _household_values(draft)
        same = all(getattr(row, key) == value for key, value in wanted.items())
        members = sorted((m[1], m[2], m[3], m[4]) for m in draft.members)
        draft.action = "unchanged" if same and members == sorted(current_members[draft.existing_id]) else "update"


def _household_values(draft: HouseholdDraft) -> dict[str, Any]:
    head = draft.head
    assert head is not None and draft.village_code is not None
    return {
        "household_no": draft.final_number(),
        "village_code": draft.village_code,
        "town_code": draft.village_code[:9],
        "head_name": head[1],
        "head_id_number": head[2],
        "size": len(draft.members),
        "kind": draft.kind,
        "lifted_year": draft.lifted_year,
        **({"phone": draft.phone} if draft.phone is not None else {}),
        **({"group_name": draft.group} if draft.group is not None else {}),
    }


def store(result: Validation) -> Counts:
    """Write the valid households: insert the new, rewrite the changed (members replaced). Flushes only."""
    valid = result.valid
    creates = [d for d in valid if d.action == "create"]
    updates = [d for d in valid if d.action == "update"]
    session = db.session
    kept_numbers: dict[str, str] = {}  # ID number → 人编号 held, for a file without that column
    villages_written = {d.village_code for d in valid}
    if updates:
        update_ids = [d.existing_id for d in updates]
        for chunk in _chunks(update_ids):  # a household moved to another village leaves one fewer behind
            villages_written.update(session.scalars(select(Household.village_code).where(Household.id.in_(chunk))))
        if not result.has_person_numbers:
            for chunk in _chunks(update_ids):
                kept_numbers.update((id_number, person_no) for id_number, person_no in session.execute(
                    select(Member.id_number, Member.person_no)
                    .where(Member.household_id.in_(chunk), Member.person_no.is_not(None))) if person_no)
        for chunk in _chunks(update_ids):
            session.execute(delete(Member).where(Member.household_id.in_(chunk)))
        # Heads may move between households: park the changing ones first so no unique check trips midway.
        session.execute(update(Household), [
            {"id": d.existing_id, "head_id_number": f"T{d.existing_id:017d}",
             "household_no": f"T{d.existing_id:017d}"} for d in updates])
        session.execute(update(Household), [{"id": d.existing_id, **_household_values(d)} for d in updates])
    # Plain executemany on the tables, then the new ids by 户编号 (INSERT … RETURNING over many rows is slow in
    # SQLAlchemy). Table inserts: the ORM's bulk insert adds nothing here (column defaults are the table's) and
    # costs about 6 µs a row more, 1.3 s of a county's 280,000 rows.
    for batch in _batches((_household_values(d) for d in creates), 10000):
        session.execute(insert(table_of(Household)), batch)
    by_number = {d.final_number(): d for d in creates}
    for chunk in _chunks(list(by_number)):
        for number, new_id in session.execute(select(Household.household_no, Household.id)
                                              .where(Household.household_no.in_(chunk))):
            by_number[number].existing_id = new_id
    members = ({"household_id": d.existing_id, "name": m[1], "id_number": m[2], "relation": m[3],
                "person_no": m[4] if m[4] is not None else kept_numbers.get(m[2])}
               for d in (*updates, *creates) for m in sorted(d.members, key=_head_first))
    for batch in _batches(members, 10000):
        session.execute(insert(table_of(Member)), batch)
    refresh_registered_households(villages_written)
    session.flush()
    return counts(result)


def _head_first(member: DraftMember) -> tuple[int, int]:
    return (0 if member[3] == HEAD else 1, member[0])


def _batches(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def counts(result: Validation) -> Counts:
    return Counts(created=result.count("create"), updated=result.count("update"),
                  unchanged=result.count("unchanged"), rejected=result.rejected)


__all__ = ["Counts", "RowError", "SpreadsheetRefused", "Validation", "counts", "store", "validate_file"]
