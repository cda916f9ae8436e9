"""The API keeps its published contract (issue 11, item 11).

The OpenAPI document names each schema once and publishes for every route the schema it
returns; every integer an address carries is bounded (no database overflow, so no 500); every
route documents the status codes it really gives. Schemathesis checks the last against every
route in-process, with a county user's token on the hand-made county: no server error, no
response that breaks its schema, no undocumented status code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from ninja import NinjaAPI, Schema
from ninja.openapi.schema import REF_TEMPLATE, NinjaGenerateJsonSchema
from ninja.operation import Operation
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from tests.conftest import Personas

from jingzhun.accounts.services import api_token_create
from jingzhun.api import api
from jingzhun.core.api import MAX_QUERY_INT
from jingzhun.wsgi import application

HUGE = "9223372036854775808"  # 2**63: one past the largest 64-bit integer
PREFIX = "/api"


def _document(of: NinjaAPI = api) -> dict[str, Any]:
    return json.loads(json.dumps(of.get_openapi_schema(path_prefix=PREFIX)))


def _operations(of: NinjaAPI = api) -> Iterator[Operation]:
    for router in of._get_bound_routers():
        for path_view in router.path_operations.values():
            yield from path_view.operations


def _published(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Return each operation of the document by its operationId: (path, method, details)."""
    return {
        details["operationId"]: (path, method, details)
        for path, methods in document["paths"].items()
        for method, details in methods.items()
    }


def _resolve(schema: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """Return *schema* with every local ``$ref`` replaced by what it names."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            assert name not in seen, f"recursive schema {name}"
            return _resolve(defs[name], defs, (*seen, name))
        return {k: _resolve(v, defs, seen) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v, defs, seen) for v in schema]
    return schema


def _own_schema(model: Any, mode: str) -> dict[str, Any]:
    """The JSON schema of one model alone, as ninja generates it (with its own $defs)."""
    return json.loads(
        json.dumps(
            model.model_json_schema(
                ref_template=REF_TEMPLATE,
                by_alias=True,
                schema_generator=NinjaGenerateJsonSchema,
                mode=mode,
            )
        )
    )


def _models(of: NinjaAPI) -> Iterator[tuple[str, Operation, Any, str]]:
    """Every model an operation publishes: (what, operation, model, json-schema mode)."""
    for op in _operations(of):
        for status, model in op.response_models.items():
            if model is not None and status is not Ellipsis:
                yield f"response {status}", op, model, "serialization"
        for model in op.models:
            yield model.__ninja_param_source__, op, model, "validation"


def schema_name_clashes(of: NinjaAPI) -> list[str]:
    """Return each schema name that two different schemas of the API share."""
    by_name: dict[str, dict[str, str]] = {}
    for what, op, model, mode in _models(of):
        for name, schema in _own_schema(model, mode).get("$defs", {}).items():
            where = f"{op.view_func.__module__}.{op.view_func.__name__} ({what})"
            by_name.setdefault(name, {}).setdefault(json.dumps(schema, sort_keys=True), where)
    return [
        f"{name}: {sorted(shapes.values())}" for name, shapes in by_name.items() if len(shapes) > 1
    ]


def response_schema_mismatches(of: NinjaAPI) -> list[str]:
    """Return each route and status whose published schema is not the one it returns."""
    document = _document(of)
    components = document["components"]["schemas"]
    published = _published(document)
    wrong = []
    for op in _operations(of):
        path, method, details = published[of.get_openapi_operation_id(op)]
        for status, model in op.response_models.items():
            if model is None or status is Ellipsis:
                continue
            own = _own_schema(model, "serialization")
            expected = _resolve(own["properties"]["response"], own.get("$defs", {}))
            content = details["responses"][str(status)]["content"]["application/json"]
            if _resolve(content["schema"], components) != expected:
                wrong.append(f"{method.upper()} {path} {status}")
    return wrong


# --------------------------------------------------------------------------- names and schemas


def test_no_two_schemas_share_a_name() -> None:
    assert schema_name_clashes(api) == []


def test_every_route_publishes_the_schema_it_returns() -> None:
    assert response_schema_mismatches(api) == []


def test_the_checks_see_two_schemas_sharing_a_name() -> None:
    # given two routers that each name their own, different, schema "CoverageOut"
    def coverage_schema(field: str) -> type[Schema]:
        return type("CoverageOut", (Schema,), {"__annotations__": {field: int}})

    first, second = coverage_schema("students"), coverage_schema("villages")
    clash = NinjaAPI(urls_namespace="clash-test")

    @clash.get("/one", response=first)
    def one(request: Any) -> Any:
        return {"students": 1}

    @clash.get("/two", response=second)
    def two(request: Any) -> Any:
        return {"villages": 1}

    # then both checks see it, and the published schema of one route is wrong
    assert any(name.startswith("CoverageOut") for name in schema_name_clashes(clash))
    assert response_schema_mismatches(clash)


def test_operation_ids_are_unique() -> None:
    ids = [api.get_openapi_operation_id(op) for op in _operations()]
    assert len(ids) == len(set(ids))


def test_aid_coverage_publishes_the_aid_schema() -> None:
    document = _document()
    details = document["paths"]["/api/aid/coverage"]["get"]["responses"]["200"]
    schema = _resolve(
        details["content"]["application/json"]["schema"], document["components"]["schemas"]
    )
    assert {"school_year", "semester", "county", "by_stage", "gaps"} <= set(schema["properties"])
    assert "students" in schema["properties"]["county"]["properties"]


# --------------------------------------------------------------------------- bounds and codes


def _parameters() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in _document()["paths"].items():
        for method, details in methods.items():
            for param in details.get("parameters", []):
                yield path, method, param


def _integer(schema: dict[str, Any]) -> dict[str, Any] | None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "integer":
            return option
    return None


def test_every_integer_an_address_carries_is_bounded() -> None:
    unbounded = [
        f"{method.upper()} {path} {param['name']}"
        for path, method, param in _parameters()
        if (number := _integer(param["schema"])) is not None
        and not (number.get("maximum", MAX_QUERY_INT + 1) <= MAX_QUERY_INT and "minimum" in number)
    ]
    assert unbounded == []


def _text(schema: dict[str, Any]) -> dict[str, Any] | None:
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "string" and "enum" not in option and "const" not in option:
            return option
    return None


def test_every_text_an_address_carries_is_bounded_and_has_no_nul() -> None:
    loose = [
        f"{method.upper()} {path} {param['name']}"
        for path, method, param in _parameters()
        if (text := _text(param["schema"])) is not None
        and not (text.get("maxLength", 10**9) <= 100 and "x00" in text.get("pattern", ""))
    ]
    assert loose == []


@pytest.fixture
def token(personas: Personas) -> str:
    return api_token_create(actor=None, user=personas.county_officer, name="contract")[1]


def test_a_huge_integer_in_any_query_is_refused_never_500(personas: Personas, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    tried = 0
    for path, method, param in _parameters():
        if method != "get" or param["in"] != "query" or _integer(param["schema"]) is None:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        # 2**63 is 19 digits: refused as a number in the address (400) before validation
        huge = Client().get(url, {param["name"]: HUGE}, headers=headers)
        assert huge.status_code == 400, (path, param["name"], huge.status_code)
        for value in (str(MAX_QUERY_INT + 1), "9" * 16):
            response = Client().get(url, {param["name"]: value}, headers=headers)
            assert response.status_code == 422, (path, param["name"], value, response.status_code)
            assert response.json()["detail"][0]["loc"] == ["query", param["name"]]
        tried += 1
    offsets = [p for p in _parameters() if p[2]["name"] == "offset"]
    assert len(offsets) >= 11 and tried >= len(offsets)


def test_a_nul_byte_or_a_long_text_in_any_query_is_422_never_500(
    personas: Personas, token: str
) -> None:
    # PostgreSQL text cannot hold NUL: unchecked, a filter on it was a DataError (a 500)
    headers = {"Authorization": f"Bearer {token}"}
    tried = 0
    for path, method, param in _parameters():
        if method != "get" or param["in"] != "query" or _text(param["schema"]) is None:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for value in ("a\x00b", "甲" * 101):
            response = Client().get(url, {param["name"]: value}, headers=headers)
            assert response.status_code == 422, (path, param["name"], response.status_code)
            assert response.json()["detail"][0]["loc"] == ["query", param["name"]]
        tried += 1
    assert tried >= 14


def test_every_route_documents_the_codes_it_can_give() -> None:
    missing = []
    for path, methods in _document()["paths"].items():
        for method, details in methods.items():
            codes = set(details["responses"])
            needed = {"200", "400", "401"}
            if "{" in path:
                needed |= {"404", "422"}
            if details.get("parameters") or details.get("requestBody"):
                needed.add("422")
            if method != "get":
                needed.add("403")  # a session's CSRF check
            if not needed <= codes:
                missing.append(f"{method.upper()} {path}: {sorted(needed - codes)}")
    assert missing == []


# --------------------------------------------------------------------------- schemathesis

SCHEMA = schemathesis.openapi.from_dict(_document())
SCHEMA.app = application  # in-process, through the Django WSGI application


@pytest.fixture
def fuzz_token(personas: Personas) -> Iterator[str]:
    """A county officer's token; the WSGI app keeps the test's database connection open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield api_token_create(actor=None, user=personas.county_officer, name="fuzz")[1]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@SCHEMA.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_no_server_error_nor_broken_contract(
    case: schemathesis.Case, fuzz_token: str
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_token}"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )
