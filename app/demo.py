"""Load the synthetic demo county (石泉县 with its real towns; villages, people and ID numbers are made up)."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from app.accounts.operations import hash_password
from app.extensions import db
from app.households.registered import refresh_registered_households
from app.models import Area, Household, Member, User


def load_demo(password: str, *, towns: int | None = None, villages_per_town: int | None = None,
              households_per_village: int = 20, seed: int = 610922, counties: int = 1) -> dict[str, int]:
    """Insert the demo county (or a city of `counties` counties, the demo county first) into an empty database.
    Flushes, never commits. Idempotent: a database that already has areas is left as it is."""
    from app.demo_data import generate_demo_city, generate_demo_county

    if db.session.scalar(select(func.count()).select_from(Area)):
        return {"areas": 0, "households": 0, "members": 0, "users": 0}
    if counties > 1:
        county = generate_demo_city(counties, villages_per_town=villages_per_town,
                                    households_per_village=households_per_village, seed=seed, towns=towns)
    else:
        county = generate_demo_county(villages_per_town=villages_per_town,
                                      households_per_village=households_per_village, seed=seed, towns=towns)
    # Areas parent-first so the foreign keys hold.
    order = {"province": 0, "city": 1, "county": 2, "town": 3, "village": 4}
    db.session.execute(insert(Area), [
        {"code": a.code, "name": a.name, "level": a.level, "parent_code": a.parent_code}
        for a in sorted(county.areas, key=lambda a: order[a.level])
    ])
    rows = [{
        "household_no": h.household_no, "village_code": h.village_code, "town_code": h.village_code[:9],
        "head_name": h.members[0].name, "head_id_number": h.members[0].id_number, "size": len(h.members),
        "kind": h.kind, "lifted_year": h.lifted_year, "phone": h.phone,
        "group_name": f"{(int(h.household_no[-4:]) - 1) // 8 + 1}组",  # 村民小组: eight households a group
    } for h in county.households]
    # Plain executemany, then read the ids back: INSERT … RETURNING over tens of thousands of rows is
    # quadratic in SQLAlchemy 2.0's row splicing.
    if rows:  # an empty list would insert one row of defaults
        db.session.execute(insert(Household), rows)
    ids = dict(db.session.execute(select(Household.household_no, Household.id)).all())
    members = [{"household_id": ids[h.household_no], "name": m.name, "id_number": m.id_number,
                "relation": m.relation} for h in county.households for m in h.members]
    if members:
        db.session.execute(insert(Member), members)
    refresh_registered_households()
    # Every demo account has the same password, so one hash serves them all.
    password_hash = hash_password(password)
    db.session.execute(insert(User), [
        {"username": u.username, "full_name": u.full_name, "role": u.role, "area_code": u.area_code,
         "unit": u.unit, "department": u.department, "password_hash": password_hash, "active": True}
        for u in county.users
    ])
    db.session.flush()
    return {"areas": len(county.areas), "households": len(rows), "members": len(members),
            "users": len(county.users)}
