"""Property-based requests generated from the OpenAPI document (schemathesis): whatever a
client sends, valid or not, the API answers as documented and never fails with a 500."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from server.api.openapi import DOCUMENT
from tests.conftest import bearer
from tests.liveserver import LiveServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
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


# What a schema cannot say: an internal referral names one of the centre's reason groups
# (a well-formed code that is not one is refused with 422, bad_referral), and a report's
# period runs forwards and covers at most 3700 days (400, bad_date; `from` alone runs to
# yesterday, so a valid date can start a period too long). Any request with a URL longer
# than the web server reads is answered 414, valid or not.
OPERATIONS = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "414", "429"]

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "429"]

[[operations]]
include-path = "/tickets/{id}/finish"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "401", "403", "404", "409", "414", "422",
]

[[operations]]
include-path = "/reports/{kind}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "414"]
"""


def _started_ticket(url: str, token: str) -> int:
    """A ticket called to desk-1 and started there: the ticket actions the fuzzer sends
    then reach a real ticket in a state where each can be taken or refused."""
    headers = bearer(token)
    body = {"service": "general", "reason": "other", "lang": "el"}
    issued = requests.post(f"{url}/api/v1/sites/thess-east/tickets", json=body, headers=headers)
    call = f"{url}/api/v1/sites/thess-east/counters/desk-1/call-next"
    called = requests.post(call, headers=headers, timeout=10)
    assert called.json()["id"] == issued.json()["id"], called.text
    ticket = issued.json()["id"]
    requests.post(f"{url}/api/v1/tickets/{ticket}/start", headers=headers, timeout=10)
    return int(ticket)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_the_running_server_passes_every_schemathesis_check(tmp_path: Path, role: str) -> None:
    """The schemathesis command line against a real `seira serve` over HTTP, as a third
    party would test the API: the coverage phase (each parameter's edge values, each
    enum member, each missing field) and a fuzzing phase, with every check it has, as a
    staff member of a centre and as its administrator (who also reaches the reports and
    pairing), on a real centre, counter and started ticket. A fixed seed keeps a failure
    reproducible."""
    with LiveServer() as server:
        token = server.add_staff("fuzzer", "thess-east", role)
        ticket = _started_ticket(server.url, token)
        (tmp_path / "schemathesis.toml").write_text(
            f'[parameters]\nsite = "thess-east"\ncounter = "desk-1"\n"path.id" = {ticket}\n'
            + OPERATIONS
        )
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{server.url}/api/v1/openapi.json",
            "--phases=coverage,fuzzing",
            "--checks=all",
            f"--header=Authorization: Bearer {token}",
            "--max-examples=20",
            "--seed=15",
            "--workers=1",
            "--generation-database=none",
            "--request-timeout=30",
            "--no-color",
        ]
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
        )

    failures = done.stdout.partition("= FAILURES =")[2].partition("= WARNINGS =")[0]
    assert done.returncode == 0, (failures or done.stdout)[-8000:] + done.stderr[-2000:]
