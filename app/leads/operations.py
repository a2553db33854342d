"""Record risk leads and tell a declarant where their declaration stands."""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import IO

from flask import current_app
from sqlalchemy import delete, func, select, text

from app.access import can_record_leads, in_area, lead_clause
from app.audit.log import record
from app.clock import china_today, to_china, utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.households.idnumber import id_number_problem, normalize_id_number
from app.leads.vocab import (
    COUNTY_TO_NATIONAL_RISK,
    DECLARANT_STATUS,
    NATIONAL_RISK_TYPES,
    OPEN_LEAD_STATUSES,
    STAFF_SOURCES,
    URGENCIES,
)
from app.models import (
    Case,
    Household,
    IncomeAssessment,
    LeadDocument,
    LeadVerification,
    Member,
    PublicSubmission,
    RiskLead,
    Screening,
    User,
)
from app.vocab import OPEN_CASE_STATUSES

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
MAX_DESCRIPTION = 2000
NOT_FOUND = "未找到与姓名和证件号码相符的农户：请核对后重新填写，或联系村委会、拨打 12317 申报"


@dataclass(frozen=True)
class DeclarationInput:
    """What a declarant (or the staff member recording their call, letter or visit) says."""

    reporter_name: str
    reporter_phone: str
    description: str
    risk_types: list[str]
    urgency: str = "normal"


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _problems(given: DeclarationInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not _clean(given.reporter_name) or len(_clean(given.reporter_name)) > 32:
        errors["reporter_name"] = ["请填写申报人姓名（不超过 32 个字）"]
    if not PHONE.match(_clean(given.reporter_phone).replace(" ", "")):
        errors["reporter_phone"] = ["请填写能联系到您的手机号（11 位）或座机号（区号-号码）"]
    description = (given.description or "").strip()
    if len(description) < 4 or len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"请简要说明遇到的困难（4 到 {MAX_DESCRIPTION} 个字）"]
    unknown = [t for t in given.risk_types if t not in NATIONAL_RISK_TYPES]
    if unknown or not given.risk_types:
        errors["risk_types"] = ["请选择困难类型（可多选）"]
    if given.urgency not in URGENCIES:
        errors["urgency"] = ["请选择紧急程度"]
    return errors


def _receipt_no() -> str:
    while True:
        number = "FP" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
        if db.session.scalar(select(RiskLead.id).where(RiskLead.receipt_no == number)) is None:
            return number


def _open_work(household: Household) -> tuple[RiskLead | None, Case | None]:
    """The household's open lead (the oldest) or open case, which a new report joins instead of starting anew.
    On PostgreSQL the household row is locked first, so two reports arriving together cannot both start work."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Household.id).where(Household.id == household.id).with_for_update())
    lead = db.session.scalar(select(RiskLead).where(RiskLead.household_id == household.id,
                                                    RiskLead.status.in_(OPEN_LEAD_STATUSES))
                             .order_by(RiskLead.id).limit(1))
    case = db.session.scalar(select(Case).where(Case.household_id == household.id,
                                                Case.status.in_(OPEN_CASE_STATUSES)).order_by(Case.id).limit(1))
    return lead, case


def _record(household: Household, member: Member | None, channel: str, source: str, given: DeclarationInput,
            discovered_on: date, actor: User | None, remote_addr: str | None, source_detail: str = "",
            evidence: dict[str, object] | None = None) -> RiskLead:
    open_lead, open_case = _open_work(household)
    lead = RiskLead(
        receipt_no=_receipt_no(), channel=channel, source=source, source_detail=source_detail[:200],
        household_id=household.id, declarant_id_tail=member.id_number[-4:].upper() if member else "",
        village_code=household.village_code,
        town_code=household.town_code, reporter_name=_clean(given.reporter_name),
        reporter_phone=_clean(given.reporter_phone).replace(" ", ""), recorded_by_id=actor.id if actor else None,
        discovered_on=discovered_on, risk_types=list(dict.fromkeys(given.risk_types)),
        description=given.description.strip(), urgency=given.urgency,
        status="merged" if open_lead or open_case else "open",
        merged_into_id=open_lead.id if open_lead else None, open_case_id=open_case.id if open_case else None,
        remote_addr=remote_addr, evidence=evidence,
    )
    db.session.add(lead)
    db.session.flush()
    kinds = "、".join(NATIONAL_RISK_TYPES[t] for t in lead.risk_types)
    text = f"{household.head_name}户：{kinds}（受理号 {lead.receipt_no}）"
    record("lead_declared" if actor is None else "lead_recorded", actor, text,
           {"lead_id": lead.id, "household_id": household.id, "channel": channel, "source": source})
    if lead.status == "open":
        from app.leads.workflow import start_verification

        start_verification(lead, actor)
    else:
        into = f"线索 {open_lead.receipt_no}" if open_lead else f"案件 #{open_case.id}" if open_case else ""
        record("lead_merged", actor, f"{household.head_name}户的新线索并入在办的{into}",
               {"lead_id": lead.id, "merged_into_id": lead.merged_into_id, "open_case_id": lead.open_case_id})
    return lead


def record_department_warning(household: Household, source: str, department_name: str, given: DeclarationInput,
                              discovered_on: date, actor: User, evidence: dict[str, object]) -> RiskLead:
    """部门筛查预警: a department's list row (or rows) that met a warning rule, for the household's village team to
    verify; it joins the household's open lead as every report does."""
    return _record(household, None, "department_warning", source, given, discovered_on, actor, None,
                   source_detail=department_name, evidence=evidence)


# ---- the public page ----------------------------------------------------------------------------------------

def admit_public_submission(form: str, remote_addr: str | None, per_hour: int) -> None:
    """Refuse an address that used the form `per_hour` times in the last hour; otherwise count this use. The rows
    live in the database, so the limit holds across the app's worker processes; the caller commits the count
    before the submission is checked, so refused submissions count too."""
    address = _client_key(remote_addr)
    if db.session.get_bind().dialect.name == "postgresql":
        # One counter per form and address at a time, so parallel requests cannot all pass the count (SQLite
        # serialises writers at the DELETE below).
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"{form}|{address}"})
    now = utcnow()
    db.session.execute(delete(PublicSubmission).where(PublicSubmission.at < now - timedelta(hours=1)))
    used = db.session.scalar(select(func.count()).select_from(PublicSubmission)
                             .where(PublicSubmission.form == form, PublicSubmission.remote_addr == address)) or 0
    if used >= per_hour:
        raise TooManySubmissions("提交过于频繁，请一小时后再试，或拨打 12317 热线申报")
    db.session.add(PublicSubmission(form=form, remote_addr=address, at=now))
    db.session.flush()


def _client_key(remote_addr: str | None) -> str:
    """An IPv4 address as it is; an IPv6 address by its /64 network, which one subscriber gets whole (rotating
    the rest of the address would otherwise give a fresh allowance each time)."""
    address = (remote_addr or "unknown").strip()
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class TooManySubmissions(InvalidInput):
    status = 429


def declare(name: str, id_number: str, given: DeclarationInput, remote_addr: str | None) -> RiskLead:
    """农户自主申报 from the public page: the declarant names themselves by name and ID number, which must be a
    member of a household in the registry. Refused input stores nothing."""
    errors = _problems(given)
    number = normalize_id_number(id_number or "")
    problem = id_number_problem(number)
    if problem:  # the public page does not say what the check character should be
        errors["id_number"] = ["身份证号码有误：" + ("校验位不符，请核对" if problem.startswith("校验位") else problem)]
    if errors:
        raise InvalidInput("申报未提交，请按提示修改", errors)
    member = db.session.scalar(select(Member).where(Member.id_number == number))
    if member is None or _clean(member.name) != _clean(name):
        raise InvalidInput(NOT_FOUND, {"id_number": [NOT_FOUND]})
    return _record(member.household, member, "self_declared", "web", replace(given, reporter_name=member.name),
                   china_today(), None, remote_addr)


@dataclass(frozen=True)
class DeclarationStatus:
    receipt_no: str
    declared_on: date
    state: str


def declaration_status(receipt_no: str, id_tail: str) -> DeclarationStatus:
    """What a declarant may know with the receipt number and the last four characters of the ID number
    (the declaring member's, else the head's): when it was declared and where it stands, nothing more."""
    receipt = _clean(receipt_no).upper()
    tail = _clean(id_tail).upper()
    lead = db.session.scalar(select(RiskLead).where(RiskLead.receipt_no == receipt)) if receipt else None
    if lead is not None:
        expected = lead.declarant_id_tail or lead.household.head_id_number[-4:].upper()
        if len(tail) == 4 and tail == expected:
            # A report that joined open work follows it: the declarant hears where that work stands.
            followed = db.session.get(RiskLead, lead.merged_into_id) if lead.merged_into_id else None
            state = DECLARANT_STATUS.get(lead.status, "已受理")
            if followed is not None and followed.status != "open":
                state = f"{state}。{DECLARANT_STATUS.get(followed.status, '')}"
            return DeclarationStatus(lead.receipt_no, to_china(lead.created_at).date(), state)
    raise NotFound("没有找到这个受理号，或证件号码后四位不符")


# ---- staff ---------------------------------------------------------------------------------------------------

def record_declaration(actor: User, household_id: int, source: str, given: DeclarationInput,
                       discovered_on: date, member_id: int | None = None) -> RiskLead:
    """A declaration received by telephone (12317), in writing or in person, recorded by staff of the area."""
    if not can_record_leads(actor):
        raise PermissionDenied("您的角色不能登记风险线索")
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound("该户不存在")
    if not in_area(actor, household.village_code):
        raise PermissionDenied("只能登记本辖区农户的风险线索")
    errors = _problems(given)
    if source not in STAFF_SOURCES:
        errors["source"] = ["请选择申报方式（12317 热线、书面申请或当面申报）"]
    if discovered_on > china_today():
        errors["discovered_on"] = ["申报日期不能晚于今天"]
    elif discovered_on < china_today() - timedelta(days=366):
        errors["discovered_on"] = ["申报日期不能早于一年前"]
    member = db.session.get(Member, member_id) if member_id else None
    if member_id and (member is None or member.household_id != household.id):
        errors["member_id"] = ["申报人应为该户的家庭成员，或不选"]
    if errors:
        raise InvalidInput("线索未登记，请按提示修改", errors)
    return _record(household, member, "self_declared", source, given, discovered_on, actor, None)


def visible_leads(user: User, status: str | None = None, limit: int = 200, channel: str | None = None,
                  area: str | None = None) -> list[RiskLead]:
    """The user's area's leads, newest first; optionally of one status, one channel, one town or village."""
    stmt = select(RiskLead).where(lead_clause(user)).order_by(RiskLead.created_at.desc(), RiskLead.id.desc())
    if status:
        stmt = stmt.where(RiskLead.status == status)
    if channel:
        stmt = stmt.where(RiskLead.channel == channel)
    if area and len(area) == 9:
        stmt = stmt.where(RiskLead.town_code == area)
    elif area:
        stmt = stmt.where(RiskLead.village_code == area)
    return list(db.session.scalars(stmt.limit(limit)))


def declarations_per_hour() -> int:
    return int(current_app.config.get("PUBLIC_DECLARATIONS_PER_HOUR", 5))


def lookups_per_hour() -> int:
    return int(current_app.config.get("PUBLIC_LOOKUPS_PER_HOUR", 20))


# ---- a lead's papers and record --------------------------------------------------------------------------------

def visible_lead(lead_id: int, user: User) -> RiskLead:
    lead = db.session.get(RiskLead, lead_id)
    if lead is None:
        raise NotFound("该线索不存在")
    if not db.session.scalar(select(RiskLead.id).where(RiskLead.id == lead_id, lead_clause(user))):
        raise PermissionDenied("您无权查看该线索")
    return lead


def store_authorisation(lead: RiskLead, stream: IO[bytes] | None, file_name: str | None,
                        actor: User) -> tuple[LeadDocument, bool]:
    """The household's signed 承诺授权书 (photo or PDF) for a lead still being verified, from the village team or
    the town or county staff of its area. Returns the document and whether it is new: the same file sent again
    gives back the first one."""
    from app.collab.operations import Refused, clean_file_name, keep_document

    if not (can_record_leads(actor) and in_area(actor, lead.village_code)):
        raise PermissionDenied("只有本辖区的工作人员可以上传承诺授权书")
    if lead.status != "open":
        raise Conflict("该线索已核实办结，不能再上传承诺授权书")
    if stream is None:
        raise Refused("请选择要上传的文件（文件不能为空）")
    kind, sha256, size = keep_document(stream)
    same = db.session.scalar(select(LeadDocument).where(LeadDocument.lead_id == lead.id,
                                                        LeadDocument.kind == "authorisation",
                                                        LeadDocument.sha256 == sha256).limit(1))
    if same is not None:
        return same, False
    document = LeadDocument(lead_id=lead.id, kind="authorisation", file_name=clean_file_name(file_name),
                            content_type=kind.content_type, size=size, sha256=sha256, uploaded_by_id=actor.id)
    db.session.add(document)
    db.session.flush()
    record("lead_document_added", actor, f"上传承诺授权书：{lead.household.head_name}户（线索 {lead.receipt_no}）",
           {"lead_id": lead.id, "document_id": document.id, "sha256": sha256, "size": size})
    return document, True


def documents_of(lead: RiskLead) -> list[LeadDocument]:
    return list(db.session.scalars(select(LeadDocument).where(LeadDocument.lead_id == lead.id)
                                   .order_by(LeadDocument.id)))


def verifications_of(lead: RiskLead) -> list[LeadVerification]:
    return list(db.session.scalars(select(LeadVerification).where(LeadVerification.lead_id == lead.id)
                                   .order_by(LeadVerification.id)))


def assessments_of(lead: RiskLead) -> list[IncomeAssessment]:
    return list(db.session.scalars(select(IncomeAssessment).where(IncomeAssessment.lead_id == lead.id)
                                   .order_by(IncomeAssessment.id)))


def visible_document(document_id: int, user: User) -> LeadDocument:
    document = db.session.get(LeadDocument, document_id)
    if document is None:
        raise NotFound("文件不存在")
    visible_lead(document.lead_id, user)
    return document


# ---- 基层干部排查: a national screening's risk households ------------------------------------------------------

def leads_from_screening(screening: Screening, actor: User | None) -> list[RiskLead]:
    """When a screening run under the national procedure is done, each household it registered at risk becomes a
    lead of the cadre-screening channel (one joining the household's open lead or case, as every report does).
    A screening under the county procedure goes on to its assessment meeting instead: nothing here."""
    if screening.procedure != "national":
        return []
    created = []
    for registration in screening.registrations:
        registrar = db.session.get(User, registration.registered_by_id) if registration.registered_by_id else None
        given = DeclarationInput(reporter_name=registrar.full_name if registrar else "驻村工作队", reporter_phone="",
                                 description=registration.reason,
                                 risk_types=[COUNTY_TO_NATIONAL_RISK.get(registration.risk_type, "other")])
        created.append(_record(registration.household, None, "cadre_screening", "screening", given,
                               to_china(registration.registered_at).date(), actor, None,
                               source_detail=f"{screening.month} 月度排查"))
    return created
