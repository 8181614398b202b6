"""Fuzz every API operation from its OpenAPI description: no server errors, and responses match the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from api_helpers import auth
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from web.api.openapi import OPERATIONS

ADMIN = auth("admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATION_IDS = sorted(endpoint.removeprefix("api.") for endpoint in OPERATIONS)
# Random keys and ids almost never exist; these do (the fixture starts one instance of each process).
KNOWN = {"key": "complaint", "instance_id": 1, "task_id": 1}
WITH_PATH_PARAMETERS = [op for op in OPERATION_IDS if op.endswith(("_task", "_instance", "_versions", "_xml"))]


@pytest.fixture
def api_schema(app: Flask) -> Any:
    """The app's own description, called through WSGI, with an instance of each process to act on."""
    client = app.test_client()
    for key in ("complaint", "sales", "promotion", "recruitment"):
        response = client.post(f"/api/v1/processes/{key}/instances", json={"title": key}, headers=ADMIN)
        assert response.status_code == 201
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    described = {op.ok().definition.raw["operationId"] for op in api_schema.get_all_operations()}
    assert described | {"openapi"} == set(OPERATION_IDS)


# The pytest plugin's lazy loader (schemathesis.pytest.from_fixture) fails under pytest 9, so each
# operation's strategy is driven with hypothesis directly.
@pytest.mark.parametrize(
    ("operation_id", "mode"),
    [(op, GenerationMode.POSITIVE) for op in OPERATION_IDS]
    # The description itself takes no input that could be made invalid.
    + [(op, GenerationMode.NEGATIVE) for op in OPERATION_IDS if op != "openapi"]
    + [(op, "known") for op in WITH_PATH_PARAMETERS],
)
def test_operation_matches_its_description(api_schema: Any, operation_id: str, mode: Any) -> None:
    operation = api_schema.find_operation_by_id(operation_id)
    if mode == "known":
        names = {p.name for p in operation.path_parameters}
        known = {name: value for name, value in KNOWN.items() if name in names}
        strategy = operation.as_strategy(path_parameters=known)
    else:
        strategy = operation.as_strategy(generation_mode=mode)

    @given(case=strategy)
    @settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=ADMIN, checks=CHECKS)

    check()
