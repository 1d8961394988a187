"""Request bodies are accepted by a compiled check and explained by jsonschema: the two
must agree on every body, or a valid request would be refused without a reason, or an
invalid one let through."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from server.api import openapi

_REQUEST_SCHEMAS = sorted(
    set(
        re.findall(
            r"#/components/schemas/(\w+)",
            json.dumps(
                [
                    operation.get("requestBody")
                    for path in openapi.DOCUMENT["paths"].values()
                    for operation in path.values()
                    if isinstance(operation, dict)
                ]
            ),
        )
    )
    | {"EmptyRequest"}
)

# values near each schema's edges: its own enum codes and slugs, lengths around the limits,
# the wrong types, and strings a regular expression may misread (a trailing newline)
_words = st.sampled_from(
    ["none", "elderly", "vip", "served", "left", "general", "thess-east", "Bad-Slug", "-x",
     "ar", "fa_AF", "fa_af", "ell", "el\n", "", "a" * 64, "a" * 65, "p" * 256, "p" * 257]
)  # fmt: skip
_values = st.one_of(
    _words,
    st.text(max_size=70),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(_words, max_size=2),
    st.dictionaries(_words, _words, max_size=2),
)


def _bodies(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(sorted(schema.get("properties", {})) + ["extra"])
    return st.one_of(st.dictionaries(keys, _values, max_size=5), _values)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_compiled_check_and_jsonschema_agree(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_REQUEST_SCHEMAS))
    schema = openapi.DOCUMENT["components"]["schemas"][name]
    body = data.draw(_bodies(schema))
    compiled_says_valid = True
    try:
        openapi._fast_check(name)(body)
    except Exception:
        compiled_says_valid = False
    explained = openapi.validator(name).iter_errors(body)
    assert compiled_says_valid == (next(explained, None) is None), (name, body)
    assert compiled_says_valid == Draft202012Validator(schema).is_valid(body) or (
        _ends_in_a_newline(body)  # Python's `$` matches before it; ECMA-262's does not
    ), (name, body)


def _ends_in_a_newline(body: Any) -> bool:
    values = body.values() if isinstance(body, dict) else [body]
    return any(isinstance(v, str) and v.endswith("\n") for v in values)


def test_a_slug_with_a_trailing_newline_is_refused_by_both_checks() -> None:
    """JSON Schema patterns are ECMA-262: `$` is the end of the string. Plain jsonschema,
    with Python's `re`, took 'el\\n' for a slug while the compiled check refused it."""
    body = {"service": "el\n"}
    assert openapi.problems("TransferRequest", body) == [
        "service: 'el\\n' does not match '^[a-z0-9]+(-[a-z0-9]+)*$'"
    ]


def test_every_request_schema_is_covered() -> None:
    assert {"IssueRequest", "SignIn", "FinishRequest", "TransferRequest"} <= set(_REQUEST_SCHEMAS)


def test_a_refused_body_is_explained_and_a_valid_one_is_not() -> None:
    good = {"service": "general", "reason": "other", "lang": "fa_AF"}
    assert openapi.problems("IssueRequest", good) == []
    assert openapi.problems("IssueRequest", {**good, "lang": "farsi"}) == [
        "lang: 'farsi' does not match '^[a-z]{2,3}(_[A-Z]{2})?$'"
    ]
    assert openapi.problems("IssueRequest", {"service": "general"}) == [
        "'reason' is a required property",
        "'lang' is a required property",
    ]
