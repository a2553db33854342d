"""Reconciliation (数据比对) of the national system's export with the registry, before anything is stored: which
households the file would add (new), which it would change and how (changed), which households the county holds
that the file lacks (missing), and where the two disagree (conflicting): rows the registry cannot take as they are,
and households whose monitoring state differs. Importing the file afterwards stores the registry's part only;
monitoring is the county's own procedure, so a difference of monitoring state is settled there, never by import.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.excel.tables import TEXT, ListWorkbook, TableColumn
from app.exchange.state import MonitoringState, states_of
from app.extensions import db
from app.households.idnumber import masked_id
from app.households.importer import HEAD, HouseholdDraft, NationalState, Validation
from app.leads.income import MONITORING_CATEGORIES
from app.models import Area, Case, Household, Member
from app.vocab import HOUSEHOLD_KINDS, OPEN_CASE_STATUSES

CHUNK = 500
KEPT = 1000  # rows of each list kept for the page; the report workbook has them all


@dataclass
class Reconciliation:
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    conflicting: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    households: int = 0
    persons: int = 0
    towns: list[str] = field(default_factory=list)
    absent_non_poor: int = 0  # 一般农户 not monitored and not in the file: the national roster need not hold them
    applicable: bool = False  # the file is free of errors: importing it would store every household

    def as_report(self) -> dict[str, Any]:
        """The job row's summary: the counts and the first KEPT of each list."""
        return {
            "counts": {"new": len(self.new), "changed": len(self.changed), "unchanged": self.unchanged,
                       "missing": len(self.missing), "conflicting": len(self.conflicting),
                       "households": self.households, "persons": self.persons,
                       "absent_non_poor": self.absent_non_poor},
            "towns": self.towns, "applicable": self.applicable,
            "new": self.new[:KEPT], "changed": self.changed[:KEPT], "missing": self.missing[:KEPT],
            "conflicting": self.conflicting[:KEPT],
        }


def reconcile(validation: Validation) -> Reconciliation:
    """Compare a checked file (app.households.importer.validate_file) with the registry and the cases. Reads only."""
    names = _AreaNames()
    result = Reconciliation(households=len(validation.households), persons=validation.person_rows,
                            applicable=not validation.errors)
    drafts = validation.households
    by_id = {d.existing_id: d for d in drafts if d.existing_id is not None}
    current = _current_households(list(by_id))
    states = states_of(by_id) if validation.has_national_state else {}
    for draft in drafts:
        if draft.invalid:
            continue
        if draft.action == "create":
            result.new.append(_new_row(draft, names))
        elif draft.action == "update":
            household, members = current[draft.existing_id]  # type: ignore[index]
            result.changed.append({"row": draft.first_row, "household_no": household.household_no,
                                   "head_name": household.head_name, "village": names.place(household.village_code),
                                   "changes": _changes(draft, household, members, names,
                                                       validation.has_person_numbers)})
        else:
            result.unchanged += 1
    result.conflicting.extend(_registry_conflicts(validation, names))
    if validation.has_national_state:
        result.conflicting.extend(_monitoring_conflicts(drafts, states, names))
    covered = sorted({d.village_code[:9] for d in drafts if d.village_code})
    result.towns = [names.name(code) for code in covered]
    result.missing, result.absent_non_poor = _missing(drafts, covered, names)
    return result


# ---- changes ----------------------------------------------------------------------------------------------------

def _current_households(ids: list[int]) -> dict[int, tuple[Any, list[Any]]]:
    found: dict[int, tuple[Any, list[Any]]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        members: dict[int, list[Any]] = defaultdict(list)
        for member in db.session.execute(select(Member.household_id, Member.name, Member.id_number,
                                                Member.relation, Member.person_no)
                                         .where(Member.household_id.in_(chunk))):
            members[member.household_id].append(member)
        for household in db.session.execute(select(Household.id, Household.household_no, Household.village_code,
                                                   Household.head_name, Household.head_id_number, Household.size,
                                                   Household.kind, Household.lifted_year, Household.phone,
                                                   Household.group_name).where(Household.id.in_(chunk))):
            found[household.id] = (household, members[household.id])
    return found


def _kind_label(kind: str | None, year: int | None) -> str:
    label = HOUSEHOLD_KINDS.get(kind or "", kind or "")
    return f"{label}（{year}年）" if kind == "lifted" and year else label


def _changes(draft: HouseholdDraft, household: Any, members: list[Any], names: _AreaNames,
             with_numbers: bool) -> list[str]:
    head = draft.head
    assert head is not None and draft.village_code is not None
    changes: list[str] = []

    def compare(label: str, before: Any, after: Any) -> None:
        if before != after:
            changes.append(f"{label}：{before or '（空）'} → {after or '（空）'}")

    compare("户编号", household.household_no, draft.final_number())
    compare("村", names.place(household.village_code), names.place(draft.village_code))
    compare("户主", household.head_name, head[1])
    if household.head_id_number != head[2]:
        changes.append(f"户主证件号码：{masked_id(household.head_id_number)} → {masked_id(head[2])}")
    compare("人数", household.size, len(draft.members))
    compare("户类型", _kind_label(household.kind, household.lifted_year), _kind_label(draft.kind, draft.lifted_year))
    if draft.phone is not None:
        compare("联系电话", household.phone, draft.phone)
    if draft.group is not None:
        compare("村民小组", household.group_name, draft.group)
    before = {m.id_number: m for m in members}
    after = {m[2]: m for m in draft.members}
    for id_number, m in after.items():
        old = before.get(id_number)
        who = f"{m[1]}（{masked_id(id_number)}）"
        if old is None:
            changes.append(f"新增成员：{who}，{m[3]}")
            continue
        if old.name != m[1]:
            changes.append(f"成员姓名：{old.name} → {m[1]}（{masked_id(id_number)}）")
        if old.relation != m[3]:
            changes.append(f"{who}与户主关系：{old.relation} → {m[3]}")
        if with_numbers and (old.person_no or None) != m[4]:
            changes.append(f"{who}人编号：{old.person_no or '（空）'} → {m[4] or '（空）'}")
    for id_number, old in before.items():
        if id_number not in after:
            changes.append(f"减少成员：{old.name}（{masked_id(id_number)}），{old.relation}")
    return changes


def _new_row(draft: HouseholdDraft, names: _AreaNames) -> dict[str, Any]:
    head = draft.head
    assert head is not None and draft.village_code is not None
    national = draft.national
    return {"row": draft.first_row, "household_no": draft.final_number(), "head_name": head[1],
            "head_id_number": head[2], "village": names.place(draft.village_code), "size": len(draft.members),
            "kind": _kind_label(draft.kind, draft.lifted_year),
            "category": MONITORING_CATEGORIES.get(national.category or "", "") if national else ""}


# ---- conflicts --------------------------------------------------------------------------------------------------

def _registry_conflicts(validation: Validation, names: _AreaNames) -> list[dict[str, Any]]:
    """The file's errors, household by household: what keeps each from the registry as it stands."""
    owner: dict[int, HouseholdDraft] = {}
    for household in validation.households:
        owner[household.first_row] = household
        for member in household.members:
            owner[member[0]] = household
    grouped: dict[int, list[str]] = defaultdict(list)
    drafts: dict[int, HouseholdDraft | None] = {}
    for error in validation.errors:
        draft = owner.get(error.row or 0)
        key = draft.first_row if draft is not None else (error.row or 0)
        drafts.setdefault(key, draft)
        grouped[key].append(str(error))
    conflicts = []
    for key, messages in grouped.items():
        draft = drafts[key]
        head = draft.head if draft is not None else None
        conflicts.append({"row": key or None, "household_no": draft.household_no if draft else "",
                          "head_name": head[1] if head else "",
                          "village": names.place(draft.village_code) if draft and draft.village_code else "",
                          "kind": "registry", "messages": messages})
    return conflicts


def _national_words(state: NationalState) -> str:
    if state.category is None:
        return "不是监测对象"
    category = MONITORING_CATEGORIES[state.category]
    if state.eliminated:
        return f"{category}，风险已消除" + (f"（{state.eliminated_on.isoformat()}）" if state.eliminated_on else "")
    return f"{category}，风险未消除"


def _our_words(state: MonitoringState | None) -> str:
    if state is None:
        return "未纳入监测"
    category = MONITORING_CATEGORIES.get(state.category or "", "")
    if state.status == "eliminated":
        return f"{category}，风险已消除" + (f"（{state.eliminated_on.isoformat()}）" if state.eliminated_on else "")
    return f"{category}，{state.label}"


def monitoring_differences(national: NationalState, ours: MonitoringState | None) -> list[str]:
    """How the national system's state of a household differs from the county's cases; none when they agree."""
    ours_status = ours.status if ours is not None else None
    if national.category is None:
        if ours is not None and ours_status != "identifying":
            return [f"本县系统中为监测对象（{_our_words(ours)}），国家系统中不是监测对象"]
        return []  # a household being identified reaches the national system when it is decided
    if not national.eliminated and ours_status != "monitored":
        if ours_status == "identifying":
            return ["国家系统中已是监测对象（风险未消除），本县系统中正在认定"]
        return ["国家系统中为监测对象（风险未消除），本县系统中" + _our_words(ours)]
    if national.eliminated and ours_status != "eliminated":
        return [f"国家系统中{_national_words(national)}，本县系统中{_our_words(ours)}"]
    assert ours is not None
    differences = []
    if ours.category and national.category != ours.category:
        differences.append(f"监测对象类型不一致：国家系统 {MONITORING_CATEGORIES[national.category]}，"
                           f"本县系统 {MONITORING_CATEGORIES.get(ours.category, ours.category)}")
    if national.identified_on and ours.identified_on and national.identified_on != ours.identified_on:
        differences.append(f"风险识别时间不一致：国家系统 {national.identified_on.isoformat()}，"
                           f"本县系统 {ours.identified_on.isoformat()}")
    if (ours.status == "eliminated" and national.eliminated_on and ours.eliminated_on
            and national.eliminated_on != ours.eliminated_on):
        differences.append(f"风险消除时间不一致：国家系统 {national.eliminated_on.isoformat()}，"
                           f"本县系统 {ours.eliminated_on.isoformat()}")
    return differences


def _monitoring_conflicts(drafts: Iterable[HouseholdDraft], states: dict[int, MonitoringState],
                          names: _AreaNames) -> list[dict[str, Any]]:
    conflicts = []
    for draft in drafts:
        national, head = draft.national, draft.head
        if national is None or head is None:
            continue
        if draft.existing_id is None:
            if national.category is not None and not national.eliminated:
                messages = ["国家系统中为监测对象（风险未消除），本县系统中尚无此户：导入后请按程序核实认定"]
            else:
                continue
        else:
            messages = monitoring_differences(national, states.get(draft.existing_id))
        if messages:
            conflicts.append({"row": draft.first_row, "household_no": draft.final_number(), "head_name": head[1],
                              "village": names.place(draft.village_code) if draft.village_code else "",
                              "kind": "monitoring", "messages": messages})
    return conflicts


# ---- missing ----------------------------------------------------------------------------------------------------

def _missing(drafts: list[HouseholdDraft], towns: list[str], names: _AreaNames) -> tuple[list[dict[str, Any]], int]:
    """Households of the towns the file covers that it does not hold: those the national roster must hold (lifted,
    or under monitoring) are missing; the others are counted."""
    if not towns:
        return [], 0
    in_file_numbers = {d.household_no for d in drafts if d.household_no}
    in_file_ids = {m[2] for d in drafts for m in d.members if m[2] and m[3] == HEAD}
    matched = {d.existing_id for d in drafts if d.existing_id is not None}
    monitored = set(db.session.scalars(
        select(Case.household_id).where(Case.town_code.in_(towns), Case.status.in_(OPEN_CASE_STATUSES),
                                        Case.identified_on.is_not(None))))
    missing: list[dict[str, Any]] = []
    absent = 0
    stmt = (select(Household.id, Household.household_no, Household.head_name, Household.head_id_number,
                   Household.village_code, Household.kind, Household.lifted_year)
            .where(Household.town_code.in_(towns)).order_by(Household.village_code, Household.household_no))
    for row in db.session.execute(stmt).yield_per(2000):
        if row.id in matched or row.household_no in in_file_numbers or row.head_id_number in in_file_ids:
            continue
        if row.kind != "lifted" and row.id not in monitored:
            absent += 1
            continue
        reason = ("本县系统中为监测对象，国家系统导出中没有此户" if row.id in monitored
                  else "已脱贫户，国家系统导出中没有此户")
        missing.append({"household_no": row.household_no, "head_name": row.head_name,
                        "head_id_number": row.head_id_number, "village": names.place(row.village_code),
                        "kind": _kind_label(row.kind, row.lifted_year), "reason": reason})
    return missing, absent


class _AreaNames:
    def __init__(self) -> None:
        self.names = {code: name for code, name in db.session.execute(select(Area.code, Area.name))}

    def name(self, code: str) -> str:
        return self.names.get(code, code)

    def place(self, village_code: str) -> str:
        return self.name(village_code[:9]) + self.name(village_code)


# ---- the report workbook ----------------------------------------------------------------------------------------

NEW_COLUMNS = (TableColumn("序号", 6), TableColumn("行号", 6), TableColumn("户编号", 20, TEXT),
               TableColumn("户主姓名", 10), TableColumn("户主证件号码", 21, TEXT), TableColumn("乡镇、村", 18),
               TableColumn("人数", 6), TableColumn("户类型", 16), TableColumn("国家系统监测对象类型", 16))
CHANGED_COLUMNS = (TableColumn("序号", 6), TableColumn("行号", 6), TableColumn("户编号", 20, TEXT),
                   TableColumn("户主姓名", 10), TableColumn("乡镇、村", 18), TableColumn("变更内容", 60, wrap=True))
MISSING_COLUMNS = (TableColumn("序号", 6), TableColumn("户编号", 20, TEXT), TableColumn("户主姓名", 10),
                   TableColumn("户主证件号码", 21, TEXT), TableColumn("乡镇、村", 18), TableColumn("户类型", 16),
                   TableColumn("说明", 36, wrap=True))
CONFLICT_COLUMNS = (TableColumn("序号", 6), TableColumn("行号", 6), TableColumn("户编号", 20, TEXT),
                    TableColumn("户主姓名", 10), TableColumn("乡镇、村", 18), TableColumn("类别", 10),
                    TableColumn("说明", 60, wrap=True))
CONFLICT_KINDS = {"registry": "登记信息", "monitoring": "监测状态"}


def write_report(result: Reconciliation, path: Path, title: str, subtitle: str) -> None:
    book = ListWorkbook()
    book.add_sheet("新增", f"{title}：新增户", subtitle, NEW_COLUMNS,
                   ([i, r["row"], r["household_no"], r["head_name"], r["head_id_number"], r["village"], r["size"],
                     r["kind"], r["category"]] for i, r in enumerate(result.new, start=1)))
    book.add_sheet("变更", f"{title}：信息有变化的户", subtitle, CHANGED_COLUMNS,
                   ([i, r["row"], r["household_no"], r["head_name"], r["village"], "\n".join(r["changes"])]
                    for i, r in enumerate(result.changed, start=1)))
    book.add_sheet("缺失", f"{title}：本县有、导出文件中没有的户", subtitle, MISSING_COLUMNS,
                   ([i, r["household_no"], r["head_name"], r["head_id_number"], r["village"], r["kind"], r["reason"]]
                    for i, r in enumerate(result.missing, start=1)))
    book.add_sheet("冲突", f"{title}：不一致和无法导入的户", subtitle, CONFLICT_COLUMNS,
                   ([i, r["row"], r["household_no"], r["head_name"], r["village"], CONFLICT_KINDS[r["kind"]],
                     "\n".join(r["messages"])] for i, r in enumerate(result.conflicting, start=1)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        book.save(out)
