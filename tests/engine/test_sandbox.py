"""Diagram expressions and scripts run in a checked subset: the classic escapes are refused."""

from __future__ import annotations

import pytest

from app.engine import EngineError, parse_bundle, start_workflow
from app.engine.sandbox import SandboxError, check_expression, check_script, evaluate, execute

ESCAPES = [
    ("__import__('os')", "下划线"),
    ("__import__('os').getpid()", "属性访问"),
    ("open('/etc/passwd').read()", "属性访问"),
    ("open('/etc/passwd')", "不允许调用 open"),
    ("().__class__.__base__.__subclasses__()", "属性访问"),
    ("[c for c in ().__class__.__mro__]", "列表推导式"),
    ("(lambda: 1)()", "lambda"),
    ("eval('1')", "不允许调用 eval"),
    ("getattr(decision, 'upper')", "不允许调用 getattr"),
    ("2 ** 2 ** 100", "乘方"),
    ("f'{decision}'", "f 字符串"),
]


@pytest.mark.parametrize(("source", "reason"), ESCAPES)
def test_escapes_are_refused_before_anything_runs(source, reason):
    with pytest.raises(SandboxError, match=reason):
        check_expression(source)
    with pytest.raises(SandboxError):
        evaluate(source, {"decision": "x"})


@pytest.mark.parametrize("script", ["import os", "from os import system", "while True:\n    pass",
                                    "for i in range(10):\n    x = i", "def f():\n    return 1",
                                    "try:\n    x = 1\nexcept Exception:\n    pass", "x.y = 1", "del x"])
def test_scripts_may_not_import_loop_or_define(script):
    with pytest.raises(SandboxError):
        check_script(script)


def test_values_that_would_exhaust_memory_are_stopped():
    with pytest.raises(SandboxError, match="过大"):
        evaluate("'a' * 1000000000", {})
    with pytest.raises(SandboxError, match="过大"):
        execute("x = [1] * 10\ny = x * 100000000", {})
    with pytest.raises(SandboxError, match="过大"):
        execute("s = 'ab'\ns *= 100000000", {})
    with pytest.raises(SandboxError, match="数值过大"):
        evaluate("n * n * n * n * n * n * n * n * n", {"n": 10**40})


def test_ordinary_conditions_and_scripts_work():
    assert evaluate('decision == "reject"', {"decision": "reject"}) is True
    assert evaluate('risk in ["a", "b"] and not done', {"risk": "a", "done": False}) is True
    assert evaluate("max(days, 5) if urgent else 10", {"days": 3, "urgent": True}) == 5
    data = {"a": 2, "b": 3, "scores": {"x": 1}}
    execute("total = a + b\nif total > 4:\n    flag = True\nelse:\n    flag = False\nscores['x'] += 1", data)
    assert data["total"] == 5 and data["flag"] is True and data["scores"]["x"] == 2


def test_a_failing_script_changes_no_task_data():
    data = {"a": 1}
    with pytest.raises(SandboxError):
        execute("b = 2\nc = missing + 1", data)
    assert data == {"a": 1}


SCRIPT_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_Evil" name="脚本"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Script_Evil"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Script_Evil" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_the_engine_runs_diagram_scripts_in_the_sandbox():
    evil = parse_bundle("p", {"p.bpmn": SCRIPT_DIAGRAM.format(script="x = __import__('os')")})
    with pytest.raises(EngineError, match="下划线"):
        start_workflow(evil, {})
    fine = parse_bundle("p", {"p.bpmn": SCRIPT_DIAGRAM.format(script="x = 1 + 1")})
    assert start_workflow(fine, {}).completed
