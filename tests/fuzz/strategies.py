"""Hypothesis strategies for hostile input: form pairs for a described task form, JSON bodies, raw bytes and
XML-ish text."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from tests.conftest import today

# Values that have broken web apps before: NUL and other control characters (PostgreSQL refuses NUL in text
# and in JSON), direction overrides, byte-order marks, markup and template syntax, SQL, paths, numbers out of
# every range, impossible dates, full-width and Arabic-Indic digits, and strings far past every length limit.
NASTY = [
    "", " ", "\x00", "a\x00b", "\x00" * 8, "\r\n", "\t", "\x1b[31m", "\x7f", "\u0085", "\u2028", "\u202e",
    "\ufeff", "\ufffd", "\U0001F600", "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>",
    "{{7*7}}", "{% raw %}", "${jndi:ldap://x}", "' OR '1'='1", "1; DROP TABLE event; --", "../../etc/passwd",
    "NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "1e309", "-1e309", "1e-400", "-0", "0", "-1", "00",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999",
    "0x10", "1_000", "１２３", "١٢٣", "3.14", "1,5", "2026-02-30", "0000-00-00", "0001-01-01", "9999-12-31",
    "10000-01-01", "2026-13-01", "2026-1-1", "20260101", "2026/01/01", "1900-01-01", "True", "y", "on",
    "null", "None", "[]", "{}", "x" * 70_000, "测" * 5_001, "测" * 70_000,
]

nasty = st.sampled_from(NASTY)
control_text = st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), max_size=40)
any_text = st.text(max_size=300)
huge_text = st.integers(min_value=1_000, max_value=300_000).map(lambda n: "长" * n)
number_text = st.one_of(st.integers(min_value=-(2**80), max_value=2**80).map(str),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr),
                        st.decimals(allow_nan=True, allow_infinity=True).map(str))
near_today = st.integers(min_value=-400, max_value=400).map(lambda n: (today() + timedelta(days=n)).isoformat())
date_text = st.one_of(st.dates().map(lambda d: d.isoformat()), near_today)
scalar_text = st.integers(0, 5).flatmap(lambda pick: (nasty, any_text, control_text, number_text, date_text,
                                                     huge_text)[pick])


def valid_ish(field: dict[str, Any]) -> st.SearchStrategy[str]:
    """Values of the field's own kind, so that generated submits get past the first check now and then."""
    kind = field.get("type")
    if kind in ("choice", "multi_choice") and field.get("choices"):
        return st.sampled_from([str(c["value"]) for c in field["choices"]])
    if kind == "date":
        return date_text
    if kind in ("integer", "decimal"):  # numbers Python parses that no amount can be
        special = st.sampled_from(["NaN", "sNaN", "-sNaN", "Infinity", "-Infinity", "1e309", "1E+999999"])
        return st.integers(0, 2).flatmap(lambda pick: (special, number_text,
                                                       st.integers(-5, 80).map(str))[pick])
    return st.one_of(st.sampled_from(["已核实", "同意", "村委会", "全体村民代表"]), any_text)


def field_value(field: dict[str, Any]) -> st.SearchStrategy[str]:
    """Half of the field's own kind, half hostile (an explicit choice: a nested one_of flattens and would drown
    the few values of the field's kind among the many hostile ones)."""
    return st.booleans().flatmap(lambda pick: valid_ish(field) if pick else scalar_text)


@st.composite
def form_pairs(draw: Any, fields: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Form pairs for a described form: each field missing, once or repeated; list fields with random row
    indices; and random extra keys."""
    pairs: list[tuple[str, str]] = []
    for field in fields:
        if field.get("type") == "list":
            items = field.get("item_fields") or []
            indices = draw(st.lists(st.one_of(st.integers(min_value=-2, max_value=14),
                                              st.sampled_from(["x", "", "99999999999999999999", "1.5"])),
                                    max_size=4, unique=True))
            for index in indices:
                for item in items:
                    if draw(st.integers(0, 4)):
                        pairs.append((f"{field['name']}-{index}-{item['name']}", draw(field_value(item))))
            continue
        copies = draw(st.sampled_from([0, 1, 1, 1, 1, 2]))
        pairs += [(field["name"], draw(field_value(field))) for _ in range(copies)]
    extra_keys = st.one_of(any_text, st.sampled_from(["revision", "csrf_token", "decision", "action", "id",
                                                      "measures-0-content", "results-0-measure_id", "__proto__"]))
    pairs += draw(st.lists(st.tuples(extra_keys, scalar_text), max_size=3))
    return draw(st.permutations(pairs)) if len(pairs) < 12 else pairs


# ---- JSON --------------------------------------------------------------------------------------------------------

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                        st.floats(allow_nan=False, allow_infinity=False), nasty, any_text, control_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(any_text, nasty), inner, max_size=4)), max_leaves=12)


def json_object(known: dict[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object with some of the endpoint's own keys (hostile or plausible values) and random others."""
    known = known or {}

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, plausible in known.items():
            if draw(st.integers(0, 3)):
                body[key] = draw(st.one_of(plausible, json_value))
        body.update(draw(st.dictionaries(st.one_of(any_text, nasty), json_value, max_size=3)))
        return body

    return build()


@st.composite
def request_body(draw: Any, known: dict[str, st.SearchStrategy[Any]] | None = None) -> dict[str, Any]:
    """Keyword arguments for the test client's post(): a JSON object, a JSON non-object, broken JSON text, or a
    body of the wrong content type."""
    kind = draw(st.sampled_from(["object", "object", "object", "non_object", "broken", "wrong_type", "empty"]))
    if kind == "object":
        return {"json": draw(json_object(known))}
    if kind == "non_object":
        return {"json": draw(st.one_of(json_scalar, st.lists(json_value, max_size=4)))}
    if kind == "broken":
        text = draw(st.one_of(any_text, nasty, st.sampled_from(['{"a":', "{'a': 1}", "[1,2", '{"a": NaN}',
                                                                  '{"a": 1e999999}', '"\\ud800"', "\ufeff{}"])))
        return {"data": text, "content_type": "application/json"}
    if kind == "wrong_type":
        payload = draw(json_object(known))
        content_type = draw(st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "application/xml",
                                             "multipart/form-data; boundary=x", "application/json; charset=gbk",
                                             "application/octet-stream"]))
        return {"data": json.dumps(payload, ensure_ascii=draw(st.booleans())).encode(), "content_type": content_type}
    return {}


# ---- files -------------------------------------------------------------------------------------------------------

XMLISH = [
    "<?xml version='1.0'?>", "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>",
    "<bpmn:process id='P' isExecutable='true'>", "<bpmn:startEvent id='s'/>", "<bpmn:userTask id='t'/>",
    "</bpmn:process>", "</bpmn:definitions>", "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", "&e;",
    "<![CDATA[", "]]>", "<a", ">", "</a>", "<?pi?>", "<!-- -->", "xmlns:x='urn:x'", "\x00", "<process id=''>",
    "<bpmn:sequenceFlow id='f' sourceRef='s' targetRef='nowhere'/>", "<bpmn:exclusiveGateway id='g'/>",
    "<bpmn:conditionExpression>__import__('os')</bpmn:conditionExpression>",
]
xmlish_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(XMLISH), any_text), max_size=12).map("".join),
    any_text, nasty)


@st.composite
def zip_bytes(draw: Any) -> bytes:
    """A zip archive with random member names and contents (an .xlsx is one)."""
    out = io.BytesIO()
    names = ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "_rels/.rels",
             "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml"]
    with zipfile.ZipFile(out, "w") as archive:
        for name in draw(st.lists(st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=20)),
                                  max_size=6, unique=True)):
            archive.writestr(name, draw(st.one_of(xmlish_text, st.binary(max_size=200))))
    return out.getvalue()


upload_bytes = st.one_of(st.binary(max_size=2_000), zip_bytes(), xmlish_text.map(lambda s: s.encode()),
                         st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
                                          b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n", b"\xff\xd8\xff"]).flatmap(
                             lambda head: st.binary(max_size=300).map(lambda tail: head + tail)))
file_name = st.one_of(st.sampled_from(["a.xlsx", "a.xls", "a.csv", "a.bpmn", "a.png", "../../x.xlsx", "测试.xlsx",
                                       "a\x00.xlsx", "", ".", "CON", "a" * 300 + ".xlsx"]), any_text)
