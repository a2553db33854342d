"""一月一精准排查: starting the month, registering households, and the checks on what the team reports."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Household, ReadyTask, RiskRegistration, Screening, WorkflowInstance
from tests.conftest import today
from tests.helpers import check_households, open_case


def test_starting_the_same_month_twice_creates_nothing_new(app, runner):
    month = today().strftime("%Y-%m")
    assert "started 4 screening(s)" in runner.invoke(args=["screenings", "start", "--month", month]).output
    assert "started 0 screening(s)" in runner.invoke(args=["screenings", "start", "--month", month]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screening)) == 4
        assert db.session.scalar(select(func.count()).select_from(WorkflowInstance)) == 4
    result = runner.invoke(args=["screenings", "start", "--month", "11/2026"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_only_the_county_office_may_start_screening(app, login_as):
    team = login_as("chengguan01_team")
    assert team.post("/screenings/start", {"month": "2030-01"}, page="/screenings/").status_code == 403


def _screen(app, login_as):
    login_as("county_office").post("/screenings/start", {"month": today().strftime("%Y-%m")}, page="/screenings/")
    team = login_as("chengguan01_team")
    return team, team.task("Task_ScreenHouseholds")


def test_registration_refuses_bad_input_and_households_of_other_villages(app, login_as):
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    with app.app_context():
        from app.models import Household

        own = db.session.scalar(select(Household.id).where(Household.village_code == "610922100001"))
        foreign = db.session.scalar(select(Household.id).where(Household.village_code == "610922101001"))
    # A refusal is said on the task's own page, above the search the team came from (kept), not on a bare page.
    for data, message in [
        ({"household_id": foreign, "risk_type": "other", "reason": "x"}, "不在本村"),
        ({"household_id": own, "risk_type": "bogus", "reason": "x"}, "请选择返贫风险类型"),
        ({"household_id": own, "risk_type": "other", "reason": "  "}, "请填写详细原因"),
    ]:
        response = team.post(f"/screenings/{sid}/registrations", {**data, "q": "张"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/tasks/{task['id']}?q=%E5%BC%A0#register")
        page = team.get(response.headers["Location"]).get_data(as_text=True)
        assert "未登记：" in page and message in page
    assert team.post(f"/screenings/{sid}/registrations",
                     {"household_id": own, "risk_type": "other", "reason": "收入骤降"}).status_code == 302
    twice = team.post(f"/screenings/{sid}/registrations", {"household_id": own, "risk_type": "other", "reason": "y"})
    assert twice.status_code == 302 and twice.headers["Location"].endswith(f"/tasks/{task['id']}")
    page = team.get(twice.headers["Location"]).get_data(as_text=True)
    assert "未登记：" in page and "本月已登记" in page and 'name="q"' in page  # the search, on the task's page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 1


def test_the_search_for_a_household_to_register_masks_id_numbers(app, login_as):
    team, task = _screen(app, login_as)
    with app.app_context():
        head = db.session.scalars(select(Household).where(Household.village_code == "610922100001")
                                  .order_by(Household.id)).first()
        number, name = head.head_id_number, head.head_name
    page = team.get(f"/tasks/{task['id']}?q={number}").get_data(as_text=True)
    # The number appears only as the team typed it (the search box, and the search kept with each form); the
    # households found show it masked.
    assert name in page and page.count(number) == page.count(f'value="{number}"') == 2
    assert f"{number[:6]}********{number[-4:]}" in page


def _village_households(app, village: str = "610922100001") -> list[int]:
    with app.app_context():
        from app.models import Household

        return list(db.session.scalars(select(Household.id).where(Household.village_code == village)
                                       .order_by(Household.id)))


def _check(team, sid: int, household_id: int, data: dict, expect: int = 302):
    page = f"/screenings/{sid}/households/{household_id}"
    response = team.post(page, data, page=page)
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response


NO_RISK = {"outcome": "checked", "visitors": "驻村工作队张三、李四", "note": ""}


def test_the_screening_is_completed_only_when_every_household_is_accounted_for(app, login_as):
    """逐户逐人: each household has its check this month, or the reason it could not be checked; the count on
    the scoreboard is the number of those records, never a typed number."""
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    households = _village_households(app)
    refused = team.complete("Task_ScreenHouseholds", {"note": "已走访"}, expect=422)
    assert "还有 6 户未排查" in refused.get_data(as_text=True)
    for household_id in households[:4]:
        _check(team, sid, household_id, {**NO_RISK, "visited_on": today().isoformat()})
    _check(team, sid, households[4], {"outcome": "not_checked", "not_checked_reason": "away_unreachable"})
    other = _check(team, sid, households[5], {"outcome": "not_checked", "not_checked_reason": "other"}, expect=422)
    assert "选择“其他原因”时请说明" in other.get_data(as_text=True)
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "已排查 4 / 6 户，1 户未能排查已说明原因" in page and "还有 1 户待排查" in page
    listing = login_as("chengguan_certifier").get("/screenings/").get_data(as_text=True)
    assert ">4</a>（1 户未能排查已说明原因）" in listing  # the town's list of villages, from the same records
    refused = team.complete("Task_ScreenHouseholds", {}, expect=422)
    assert "还有 1 户未排查" in refused.get_data(as_text=True)
    _check(team, sid, households[5], {"outcome": "not_checked", "not_checked_reason": "other",
                                      "not_checked_note": "户主住院，家中无人"})
    team.complete("Task_ScreenHouseholds", {})
    with app.app_context():
        screening = db.session.get(Screening, sid)
        assert screening.households_checked == 4 and screening.status == "assessing"
    # The month's record is closed once screening is done.
    closed = team.post(f"/screenings/{sid}/registrations",
                       {"household_id": households[0], "risk_type": "other", "reason": "x"})
    assert closed.status_code == 302 and closed.headers["Location"].endswith(f"/screenings/{sid}")
    assert "本月排查登记已结束" in team.get(closed.headers["Location"]).get_data(as_text=True)
    _check(team, sid, households[0], {**NO_RISK, "visited_on": today().isoformat()}, expect=409)


def test_a_risk_answered_yes_is_the_households_roster_entry(app, login_as):
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    household = _village_households(app)[0]
    visited = today().isoformat()
    missing = _check(team, sid, household, {**NO_RISK, "visited_on": visited, "risks": "major_illness"}, expect=422)
    text = missing.get_data(as_text=True)
    assert "请填写三重保障后个人自负的医疗费用" in text and "存在风险时请写明具体情况" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 0  # refused: nothing kept
    _check(team, sid, household, [*NO_RISK.items(), ("visited_on", visited), ("risks", "major_illness"),
                                  ("risks", "unstable_employment"), ("medical_out_of_pocket", "18600"),
                                  ("months_without_work", "4"), ("risk_detail", "户主患尿毒症透析"),
                                  ("guarantee_gaps", "medical")])
    with app.app_context():
        [entry] = db.session.scalars(select(RiskRegistration)).all()
        assert entry.household_id == household and entry.risk_type == "major_illness"
        assert "户主患尿毒症透析" in entry.reason and "18600 元" in entry.reason and "失业 4 个月" in entry.reason
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "户主患尿毒症透析" in page  # the roster on the task page: one entry, from the check
    # The check answered again: the same roster entry, updated; then no risk at all: the entry goes.
    _check(team, sid, household, {**NO_RISK, "visited_on": visited, "risks": "accident", "risk_detail": "车祸"})
    with app.app_context():
        [entry] = db.session.scalars(select(RiskRegistration)).all()
        assert entry.risk_type == "accident" and entry.reason == "车祸"
    _check(team, sid, household, {**NO_RISK, "visited_on": visited})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 0


def test_a_check_is_dated_within_the_month_and_not_in_the_future(app, login_as):
    from datetime import timedelta

    team, task = _screen(app, login_as)
    household = _village_households(app)[0]
    future = _check(team, task["screening_id"], household,
                    {**NO_RISK, "visited_on": (today() + timedelta(days=1)).isoformat()}, expect=422)
    assert "入户日期不能晚于今天" in future.get_data(as_text=True)
    early = _check(team, task["screening_id"], household,
                   {**NO_RISK, "visited_on": today().replace(day=1) - timedelta(days=1)}, expect=422)
    assert "入户日期应在本月排查期内" in early.get_data(as_text=True)
    no_one = _check(team, task["screening_id"], household, {"outcome": "checked", "visited_on": today(),
                                                            "visitors": " "}, expect=422)
    assert "请填写参加排查的人员" in no_one.get_data(as_text=True)


def test_the_list_shows_unchecked_households_first_and_finds_them_by_name(app, login_as):
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    households = _village_households(app)
    _check(team, sid, households[0], {**NO_RISK, "visited_on": today().isoformat()})
    with app.app_context():
        from app.models import Household

        first, last = (db.session.get(Household, h).head_name for h in (households[0], households[-1]))
    listing = team.get(f"/screenings/{sid}/households").get_data(as_text=True)
    assert "已排查 1 / 6 户" in listing and "还有 5 户待排查" in listing
    rows = listing[listing.index('<ul class="check-list">'):]
    assert rows.index(last) < rows.index(first)  # the checked household goes to the end
    found = team.get(f"/screenings/{sid}/households?q={last}").get_data(as_text=True)
    assert last in found and (first == last or first not in found)


def test_only_the_villages_own_team_writes_its_checks_and_its_area_reads_them(app, login_as):
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    household = _village_households(app)[0]
    _check(team, sid, household, {**NO_RISK, "visited_on": today().isoformat(), "note": "已核实收入"})
    page = f"/screenings/{sid}/households/{household}"
    for username in ("chengguan02_team", "raofeng01_team", "chengguan01_cadre1"):
        other = login_as(username)
        assert other.get(f"/screenings/{sid}/households").status_code == 403, username
        assert other.get(page).status_code == 403, username
        assert other.post(page, {**NO_RISK, "visited_on": today().isoformat()}).status_code == 403, username
    certifier = login_as("chengguan_certifier")  # the town reads the record behind the number, and only reads
    record = certifier.get(page).get_data(as_text=True)
    assert "已核实收入" in record and "保存本户排查情况" not in record
    assert certifier.post(page, {**NO_RISK, "visited_on": today().isoformat()}, page=f"/screenings/{sid}"
                          ).status_code == 403
    assert login_as("supervisor").get(f"/screenings/{sid}/households").status_code == 200


def test_an_assessment_without_key_households_opens_no_case(app, login_as):
    team, task = _screen(app, login_as)
    for household_id in _village_households(app):
        _check(team, task["screening_id"], household_id, {**NO_RISK, "visited_on": today().isoformat()})
    team.complete("Task_ScreenHouseholds", {})
    team.complete("Task_AssessmentMeeting", {"meeting_date": today().isoformat(), "attendees": "全体",
                                             "minutes": "本月无重点帮扶户"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert "已完成" in team.get("/screenings/").get_data(as_text=True)


def test_a_household_with_a_case_in_hand_is_refused_on_the_assessment_form(app, login_as):
    """一户一案: the meeting may not report a household whose case is still open; the form says so, beside the
    field, and nothing of the meeting is stored (the refusal comes before the engine's step)."""
    case_id = open_case(app)
    next_month = f"{today().year + 1}-01"
    login_as("county_office").post("/screenings/start", {"month": next_month}, page="/screenings/")
    team = login_as("chengguan01_team")
    with app.app_context():
        case = db.session.get(Case, case_id)
        household = db.session.get(Household, case.household_id)
        screening = db.session.scalar(select(Screening).where(Screening.month == next_month,
                                                              Screening.village_code == "610922100001"))
        sid, head_name = screening.id, household.head_name
    assert team.post(f"/screenings/{sid}/registrations",
                     {"household_id": case.household_id, "risk_type": "accident", "reason": "伤情加重"},
                     page=f"/screenings/{sid}/households").status_code == 302
    with app.app_context():
        check_households(sid, "chengguan01_team")
        registration_id = db.session.scalar(select(RiskRegistration.id).where(
            RiskRegistration.screening_id == sid))
    team.complete("Task_ScreenHouseholds", {})
    meeting = {"meeting_date": today().isoformat(), "attendees": "全体", "minutes": "研判",
               "key_assistance": registration_id}
    response = team.complete("Task_AssessmentMeeting", meeting, expect=422)
    html = response.get_data(as_text=True)
    assert f"{head_name}户已有在办案件（#{case_id}），不能重复上报" in html
    assert 'name="minutes"' in html and "研判" in html  # the form again, with what was typed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1
        assert db.session.scalar(select(ReadyTask.bpmn_id).where(ReadyTask.about("screening", sid))) == \
            "Task_AssessmentMeeting"


def test_notice_period_shorter_than_five_days_is_refused(app, login_as):
    from tests.helpers import approve_case

    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
    team = login_as("chengguan01_team")
    response = team.complete("Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 3,
                                                 "location": "村委会"}, case_id=case_id, expect=422)
    assert "公示期不得少于 5 天" in response.get_data(as_text=True)


def test_a_check_may_carry_a_photo_and_a_refused_one_saves_nothing(app, login_as, tmp_path, monkeypatch):
    import io

    from PIL import Image

    from app.models import ScreeningCheck

    monkeypatch.setitem(app.config, "ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    household = _village_households(app)[0]
    page = f"/screenings/{sid}/households/{household}"
    token = team._csrf(team.get(page).get_data(as_text=True))
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 160, 90)).save(picture, format="PNG")
    fields = {"outcome": "checked", "visited_on": today().isoformat(), "visitors": "驻村工作队", "csrf_token": token}

    refused = team.client.post(page, data={**fields, "photo": (io.BytesIO(b"not a picture at all"), "a.png")},
                               content_type="multipart/form-data")
    assert refused.status_code == 422 and "照片只能是" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScreeningCheck)) == 0  # nothing saved

    saved = team.client.post(page, data={**fields, "photo": (io.BytesIO(picture.getvalue()), "门口.png")},
                             content_type="multipart/form-data")
    assert saved.status_code == 302
    photo = f"{page}/photo"

    def status(browser) -> tuple[int, str, bytes]:
        response = browser.get(photo)
        try:
            return response.status_code, response.mimetype, response.get_data()
        finally:
            response.close()

    assert status(team) == (200, "image/png", picture.getvalue())
    assert "入户照片" in team.get(page).get_data(as_text=True)
    assert status(login_as("chengguan_certifier"))[0] == 200
    assert status(login_as("chengguan02_team"))[0] == 403
    # Saved again without a photo: the photo is kept.
    _check(team, sid, household, {**NO_RISK, "visited_on": today().isoformat(), "note": "复查"})
    assert status(team)[0] == 200


def test_the_team_finds_households_by_their_group(app, login_as):
    from app.models import Household

    team, task = _screen(app, login_as)
    households = _village_households(app)
    with app.app_context():
        one = db.session.get(Household, households[2])
        one.group_name, name = "2组", one.head_name
        others = [db.session.get(Household, h).head_name for h in households if h != households[2]]
        db.session.commit()
    for query in ("2组",):
        found = team.get(f"/screenings/{task['screening_id']}/households?q={query}").get_data(as_text=True)
        rows = found[found.index('<ul class="check-list">'):]
        assert name in rows and "2组 ·" in rows
        assert not any(other in rows for other in others if other != name), query
