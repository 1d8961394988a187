"""Request bodies and query parameters, read and checked against the OpenAPI document.

The API and the counter pages' JSON read bodies with these same rules, so the same body
is accepted or refused, with the same message, wherever it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import request

from ..errors import BadRequest
from . import openapi

_LANG = re.compile(openapi.LANG_PATTERN)


def json_body(schema_name: str, required: bool = True) -> dict[str, Any]:
    """The JSON body, checked against the named schema; an absent optional body is {}."""
    if not required and not request.get_data():  # (request.data would parse forms first)
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: never a 500
        raise BadRequest("the body is nested too deeply", "bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", "bad_json")
    problems = openapi.problems(schema_name, data)
    if problems:
        raise BadRequest("; ".join(problems), "validation_error")
    return data


def reader(schema_name: str, required: bool = True) -> Callable[[], dict[str, Any]]:
    """json_body, to be called later: the front desk reads a body only once the caller is
    known to be allowed to send it."""
    return lambda: json_body(schema_name, required)


def lang(default: str = "en") -> str:
    """`?lang=`, a language code such as 'el' or 'fa_AF'."""
    chosen = request.args.get("lang", default)
    if _LANG.fullmatch(chosen):
        return chosen
    raise BadRequest(f"'{chosen}' is not a language code such as 'el' or 'fa_AF'", "bad_lang")


def action_reader(action: str) -> Callable[[], dict[str, Any]]:
    """The body of a ticket action (`recall`, `finish`, ...), read later as reader() does:
    finish and transfer need one, the others take an empty body or none."""
    _operation, _summary, schema = openapi.ACTION_OPERATIONS[action]
    needs_one = schema in ("FinishRequest", "TransferRequest")
    return reader(schema or "EmptyRequest", required=needs_one)
