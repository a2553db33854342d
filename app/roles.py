"""Roles (a BPMN lane is a role) and the area each one works in. Plain data; no Flask."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    scope: str  # village | town | county | assigned


ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role("village_team", "驻村工作队", "village"),
        Role("town_certifier", "镇认定工作组", "town"),
        Role("town_leadership", "镇脱贫攻坚领导小组", "town"),
        Role("county_office", "县脱贫攻坚领导小组办公室", "county"),
        Role("cadre", "包抓干部", "assigned"),
        Role("department", "县级行业部门", "county"),
        Role("supervisor", "县脱贫攻坚指挥部（督查）", "county"),
        Role("admin", "系统管理员", "county"),
    ]
}

# Roles that only read: they never complete tasks.
READ_ONLY_ROLES = frozenset({"supervisor", "admin", "department"})


def role_for_lane(lane: str | None) -> str | None:
    """A lane may be named by the role's code or by its Chinese label."""
    if lane is None:
        return None
    lane = lane.strip()
    if lane in ROLES:
        return lane
    for role in ROLES.values():
        if role.label == lane:
            return role.code
    return None


def role_label(code: str) -> str:
    role = ROLES.get(code)
    return role.label if role else code
