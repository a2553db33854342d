"""Who may do what is decided in one module, app/access.py: views, services and templates ask its predicates
(is_administrator, works_an_area, can_start_screening, …) and never compare a user's role themselves, so a
new role or a county's change of who does what is one edit, and the authorization matrix tests that one place."""

from __future__ import annotations

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# A user's role compared in code: `current_user.role == "admin"`, `actor.role != …`, `user.role in (…)`.
ROLE_CHECK = re.compile(r"\b(?:current_user|actor|user|g\.api_user|colleague|person)\.role\s*(?:==|!=|not\s+in\b|in\b)")


def test_no_role_check_outside_app_access():
    found = []
    for path in sorted([*APP.rglob("*.py"), *APP.rglob("*.html")]):
        if path == APP / "access.py" or "node_modules" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE_CHECK.search(line):
                found.append(f"{path.relative_to(APP.parent)}:{number}: {line.strip()}")
    assert found == [], "role checks belong in app/access.py:\n" + "\n".join(found)


def test_the_guard_sees_a_role_check():
    assert ROLE_CHECK.search('    if current_user.role != "admin":')
    assert ROLE_CHECK.search("{% if current_user.role in ('admin', 'supervisor') %}")
    assert not ROLE_CHECK.search("ReadyTask.role == user.role")  # a task's role, matched to the user's
