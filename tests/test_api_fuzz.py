"""Property-based requests generated from the OpenAPI document (schemathesis): whatever a
client sends, valid or not, the API answers as documented and never fails with a 500."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server.api.openapi import DOCUMENT
from tests.conftest import bearer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def can_be_broken(op: dict) -> bool:
    """Whether a request can violate the schema: a body, or a constrained parameter."""
    return "requestBody" in op or any(
        set(p["schema"]) - {"type"} or p["schema"].get("type") != "string"
        for p in op.get("parameters", [])
    )


# (operation, mode): negative cases exist only where there is something to get wrong
CASES = [
    pytest.param(f"{method.upper()} {path}", mode, id=f"{mode.value} {method.upper()} {path}")
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or can_be_broken(op)
]


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_the_api_keeps_its_contract(app, tokens, label: str, mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    """Valid requests (positive) and requests that break the schema (negative) alike."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    method, path = label.split(" ", 1)
    operation = schema[path][method]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        case.headers = {**(case.headers or {}), **bearer(tokens["staff"])}
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    run()
