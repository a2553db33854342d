"""The 21 BPMN MIWG reference diagrams (made by other tools) upload, come back intact for the modeler, and
each either validates or is refused with reasons that name elements; none causes a server error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# A copy of ../shared/testdata/bpmn-miwg-reference (CC BY 3.0, see its LICENSE.txt), so a clone tests alone.
MIWG = Path(__file__).resolve().parents[1] / "data" / "bpmn-miwg-reference"
FILES = sorted(MIWG.glob("*.bpmn"))


def test_all_twenty_one_reference_diagrams_are_here():
    assert len(FILES) == 21, f"expected the 21 MIWG reference diagrams in {MIWG}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_reference_diagram_uploads_renders_and_validates_or_is_refused_with_reasons(app, login_as, api, path):
    xml = path.read_text(encoding="utf-8")
    admin = login_as("admin")
    index = admin.get("/admin/processes/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', index).group(1)
    uploaded = admin.client.post("/admin/processes/upload", data={"csrf_token": token, "file": (path.open("rb"),
                                                                                               path.name)},
                                 content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:500]
    draft_id = int(re.search(r"draft=(\d+)", uploaded.location).group(1))
    page = admin.get(uploaded.location)
    assert page.status_code == 200 and 'id="modeler-config"' in page.get_data(as_text=True)
    served = admin.get(f"/admin/processes/drafts/{draft_id}.bpmn")
    assert served.status_code == 200 and served.get_data(as_text=True) == xml  # the modeler gets it unchanged

    answer = api("admin").post("/api/v1/processes/validate", data=xml.encode("utf-8"))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    body = answer.get_json()
    if not body["valid"]:
        assert body["problems"], "refused without a reason"
        assert all(p["message"].strip() for p in body["problems"])
        assert any(p["element_id"] for p in body["problems"]), body["problems"]
