import time
from collections import Counter
from functools import cache

from app.demo_data import DemoCounty, generate_demo_county
from app.households.idnumber import birth_date, gender, is_valid_id_number

TOWNS = {
    "610922100": "城关镇", "610922101": "饶峰镇", "610922102": "两河镇", "610922103": "迎丰镇",
    "610922104": "池河镇", "610922105": "后柳镇", "610922106": "喜河镇", "610922107": "熨斗镇",
    "610922108": "云雾山镇", "610922109": "中池镇", "610922110": "曾溪镇",
}


@cache
def full_county() -> DemoCounty:
    return generate_demo_county()


def test_towns_and_villages() -> None:
    county = full_county()
    by_level = Counter(a.level for a in county.areas)
    assert by_level == {"county": 1, "town": 11, "village": 161}
    towns = {a.code: a.name for a in county.areas if a.level == "town"}
    assert towns == TOWNS
    assert all(a.parent_code == "610922" for a in county.areas if a.level == "town")
    codes = [a.code for a in county.areas]
    assert len(codes) == len(set(codes))
    for village in (a for a in county.areas if a.level == "village"):
        assert len(village.code) == 12 and village.code[:9] == village.parent_code
        assert "演示" in village.name
    for town in towns:
        names = [a.name for a in county.areas if a.parent_code == town]
        assert len(names) == len(set(names))


def test_households_and_id_numbers() -> None:
    county = full_county()
    assert len(county.households) == 161 * 20
    ids = [m.id_number for h in county.households for m in h.members]
    assert len(ids) == len(set(ids))
    assert all(is_valid_id_number(i) and i.startswith("610922") for i in ids)
    for h in county.households:
        assert 1 <= len(h.members) <= 6
        assert h.members[0].relation == "户主"
        assert [m.relation for m in h.members].count("户主") == 1
        assert h.household_no.startswith(h.village_code) and len(h.household_no) == 16
        assert (h.kind == "lifted") == (h.lifted_year is not None)
        assert h.lifted_year is None or 2014 <= h.lifted_year <= 2020
        assert len(h.phone) == 11 and h.phone.startswith("1") and h.phone.isdigit()
        head = h.members[0]
        head_age = 2026 - birth_date(head.id_number).year
        assert 30 <= head_age <= 75
        for m in h.members[1:]:
            born = birth_date(m.id_number)
            if m.relation in ("子女", "孙子女"):
                assert born > birth_date(head.id_number)
            elif m.relation == "父母":
                assert born < birth_date(head.id_number)
            elif m.relation == "配偶":
                assert gender(m.id_number) != gender(head.id_number)
            if m.relation in ("子女", "孙子女"):
                assert m.name[0] == head.name[0]
    share = sum(h.kind == "lifted" for h in county.households) / len(county.households)
    assert 0.5 < share < 0.7


def test_users() -> None:
    county = full_county()
    names = [u.username for u in county.users]
    assert len(names) == len(set(names))
    users = {u.username: u for u in county.users}
    assert users["admin"].role == "admin" and users["admin"].area_code == "610922"
    assert users["county_office"].unit == "县脱贫攻坚领导小组办公室"
    assert users["supervisor"].role == "supervisor"
    assert users["department_yibao"].role == "department" and users["department_yibao"].unit == "县医保局"
    assert users["chengguan_certifier"].role == "town_certifier"
    assert users["zengxi_leader"].area_code == "610922110"
    by_area = Counter((u.area_code, u.role) for u in county.users)
    for village in (a for a in county.areas if a.level == "village"):
        assert by_area[(village.code, "village_team")] == 1
        assert by_area[(village.code, "cadre")] == 2
    assert users["chengguan01_team"].area_code == "610922100001"
    assert users["zengxi14_cadre2"].area_code == "610922110014"
    assert all(u.full_name for u in county.users)


def test_deterministic_and_fast() -> None:
    start = time.perf_counter()
    again = generate_demo_county()
    assert time.perf_counter() - start < 2
    assert again == full_county()
    assert generate_demo_county(seed=1) != again


def test_small_county() -> None:
    small = generate_demo_county(villages_per_town=2, households_per_village=3, towns=2)
    assert Counter(a.level for a in small.areas) == {"county": 1, "town": 2, "village": 4}
    assert len(small.households) == 12
    assert small == generate_demo_county(villages_per_town=2, households_per_village=3, towns=2)
