"""Route of Camunda's message correlation: ``POST /engine-rest/message``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_login import current_user

from engine import ConflictError, FieldProblem, InvalidInputError, NotFoundError, messages
from engine.views import CorrelationResult
from web.api.inputs import json_body
from web.db import get_session
from web.engine_rest import bp, camunda_error
from web.engine_rest.variables import parse, render

MISMATCH = "MismatchingMessageCorrelationException"


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name}: must be true or false", [FieldProblem(name, "must be true or false")])
    return value


def _instance_id(body: dict[str, Any]) -> int | None:
    raw = body.get("processInstanceId")
    if raw is None:
        return None
    text = str(raw)
    if not text.isdigit() or not 0 < int(text) < 2**31:
        return 0  # no instance has it: the correlation finds nothing
    return int(text)


def _result_json(result: CorrelationResult, with_variables: bool) -> dict[str, Any]:
    instance = result.instance
    ended = instance.status in ("completed", "terminated")
    process_instance = {
        "links": [],
        "id": str(instance.id),
        "definitionId": f"{instance.process_key}:{instance.version}",
        "businessKey": instance.business_key,
        "caseInstanceId": None,
        "ended": ended,
        "suspended": instance.status == "suspended",
        "tenantId": None,
    }
    payload: dict[str, Any] = {"resultType": result.result_type, "execution": None, "processInstance": None}
    if result.result_type == "Execution":
        payload["execution"] = {
            "id": str(instance.id),
            "processInstanceId": str(instance.id),
            "ended": ended,
            "tenantId": None,
        }
    else:
        payload["processInstance"] = process_instance
    if with_variables:
        payload["variables"] = render(instance.data)
    return payload


@bp.post("/message")
def correlate_message() -> Any:
    """Correlate a message to the waiting instances or message start events that match it.

    Body as Camunda 7: ``messageName``, ``businessKey``, ``correlationKeys``, ``processVariables``,
    ``processInstanceId``, ``all``, ``resultEnabled``, ``variablesInResultEnabled``. 204 without a result,
    200 with the list of results; 404 when nothing matches, 409 when several match without ``all``.
    """
    body = json_body(required=True)
    resulting = _flag(body, "resultEnabled")
    with_variables = _flag(body, "variablesInResultEnabled")
    session = get_session()
    try:
        results = messages.correlate(
            session,
            body.get("messageName"),  # type: ignore[arg-type]
            current_user.name,
            body.get("businessKey"),
            parse(body.get("correlationKeys"), "correlationKeys"),
            parse(body.get("processVariables"), "processVariables"),
            _instance_id(body),
            _flag(body, "all"),
        )
    except NotFoundError as exc:
        session.rollback()
        return camunda_error(404, exc.message, MISMATCH)
    except ConflictError as exc:
        session.rollback()
        return camunda_error(409, exc.message, MISMATCH)
    session.commit()
    if not resulting:
        return Response(status=204)
    return jsonify([_result_json(r, with_variables) for r in results])
