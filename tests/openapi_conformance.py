"""Every answer of /api/v1 that a test receives, checked against the OpenAPI document the app serves.

The operation must be in the document (path and method), the status code among its documented answers, the content
type documented for it, and a JSON body must match the documented schema with additional properties refused: every
object schema that lists its properties lists all of them (a schema that lists none is left open). So the document
cannot drift from the answers again: a field added to an answer and not to the document fails the test that sees it.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

import jsonschema_rs

from app.web.openapi import openapi_document

PREFIX = "/api/v1"


def strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object schema that lists properties and says
    nothing of others."""
    if isinstance(schema, dict):
        result = {key: strict(value) for key, value in schema.items()}
        if "properties" in result and "additionalProperties" not in result:
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return openapi_document()


@lru_cache(maxsize=1)
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    found = []
    for template, item in _document()["paths"].items():
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = re.compile("^" + "".join("[^/]+" if part.startswith("{") else re.escape(part)
                                           for part in parts) + "$")
        for method, operation in item.items():
            found.append((pattern, method.upper(), operation))
    # Literal paths before templated ones (/reports/roster.xlsx before /reports/{kind}).
    return sorted(found, key=lambda entry: entry[0].pattern.count("[^/]+"))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        target: Any = _document()
        for part in parts:
            target = target[part]
        node = target
    return node


@lru_cache(maxsize=512)
def _validator(path_template: str, method: str, status: str, content_type: str) -> Any:
    operation = _document()["paths"][path_template][method.lower()]
    answer = _resolve(operation["responses"][status])
    schema = answer["content"][content_type]["schema"]
    root = {**strict(copy.deepcopy(schema)), "components": strict(copy.deepcopy(_document()["components"]))}
    return jsonschema_rs.Draft202012Validator(root)


def check_answer(method: str, url: str, response: Any) -> None:
    """Assert that `response` (a Flask test response to `method url`) is what the document promises."""
    path = url.split("?", 1)[0]
    assert path.startswith(PREFIX), url
    path = path[len(PREFIX):]
    matching = [operation for pattern, op_method, operation in _operations()
                if op_method == method.upper() and pattern.match(path)]
    assert matching, f"{method} {path} is not in the OpenAPI document"
    operation = matching[0]
    template = next(t for t, item in _document()["paths"].items()
                    if item.get(method.lower()) is operation)
    status = str(response.status_code)
    responses = operation["responses"]
    assert status in responses, f"{method} {path}: status {status} is not documented ({sorted(responses)})"
    content = _resolve(responses[status]).get("content", {})
    content_type = response.mimetype
    assert content_type in content, f"{method} {path} {status}: {content_type} is not documented ({sorted(content)})"
    if content_type != "application/json":
        return
    body = response.get_json()
    errors = list(_validator(template, method, status, content_type).iter_errors(body))
    assert not errors, f"{method} {path} {status} does not match its schema:\n" + "\n\n".join(
        str(e) for e in errors[:5])
