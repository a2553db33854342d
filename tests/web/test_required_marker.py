"""A required field's label carries the red * after its text, inside the label; the input says it is required."""

from __future__ import annotations

import re

from tests.helpers import complete, open_case

MARK = '<span class="req" aria-hidden="true">*</span>'


def test_required_fields_carry_the_marker_in_their_label(app, login_as):
    open_case(app)
    certifier = login_as("chengguan_certifier")
    task = certifier.task("Task_TownCertify")
    html = certifier.get(f"/tasks/{task['id']}").get_data(as_text=True)
    # A text field: the label ends with the marker, the textarea is required for assistive technology too.
    assert f'<label for="opinion">认定意见说明{MARK}</label>' in html
    textarea = re.search(r"<textarea[^>]*\bid=\"opinion\"[^>]*>", html)
    assert textarea and "required" in textarea.group(0) and 'aria-required="true"' in textarea.group(0)
    # A required choice: the legend carries the marker and the group says it is required.
    assert f"<legend>认定意见{MARK}</legend>" in html
    assert re.search(r'<fieldset role="radiogroup" aria-required="true">\s*<legend>认定意见', html)
    # A field required only for one decision is not marked.
    assert "<legend>认定类别</legend>" in html
    # Nowhere does a marker sit outside a label or legend.
    outside = re.sub(r"<(label|legend)\b[^>]*>.*?</\1>", "", html, flags=re.S)
    assert 'class="req"' not in outside


def test_a_date_field_is_marked_too(app, login_as):
    case_id = open_case(app)
    with app.app_context():
        complete("chengguan_certifier", "Task_TownCertify",
                 {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}, case_id)
    leader = login_as("chengguan_leader")
    html = leader.get(f"/tasks/{leader.task('Task_TownLeadershipReview')['id']}").get_data(as_text=True)
    assert f'<label for="meeting_date">会议日期{MARK}</label>' in html
    date_input = re.search(r'<input[^>]*\bid="meeting_date"[^>]*>', html)
    assert date_input and 'aria-required="true"' in date_input.group(0) and "required" in date_input.group(0)
