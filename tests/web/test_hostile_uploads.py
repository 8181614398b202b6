"""Hostile uploads through the API deployments route and the editor's upload page: a clear 4xx, nothing stored."""

from __future__ import annotations

import html
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.api_helpers import SIMPLE, auth

XXE_FILE = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
XXE_PARAMETER = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>' + SIMPLE.split("?>", 1)[1]
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + "]><l>&i;</l>"
)
NO_START = re.sub(r"\s*<bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>", "", SIMPLE)
NO_START = NO_START.replace('<bpmn:startEvent id="StartEvent_1" name="开始" />', "")
NO_START = NO_START.replace('<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_Enter" />', "")

# case id -> (file text, words the answer must contain); the API route already has tests for the first ones
CASES = {
    "malformed": ("<bpmn:definitions", "not well-formed"),
    "xxe-file-entity": (XXE_FILE, "DOCTYPE"),
    "billion-laughs": (LAUGHS, "entity"),
    "too-large": (SIMPLE + " " * 5000, "上传的内容过大"),
    "wrong-root": ('<?xml version="1.0"?><html><body>hello</body></html>', "not BPMN 2.0"),
    "xxe-parameter-entity": (XXE_PARAMETER, "DOCTYPE"),
    "no-start-event": (NO_START, "start event"),
    "duplicate-ids": (SIMPLE.replace('id="Flow_2"', 'id="Flow_1"'), "the id Flow_1 is used by more than one element"),
    "unknown-group": (
        SIMPLE.replace('camunda:candidateGroups="sales"', 'camunda:candidateGroups="accounting"'),
        "accounting",
    ),
    "script-does-not-compile": (
        SIMPLE.replace("total = amount * 2 + divisor_check", "total = (amount *"),
        "Script_Double",
    ),
}
ALREADY_TESTED_ON_THE_API = {"malformed", "xxe-file-entity", "billion-laughs", "too-large"}


@pytest.mark.parametrize(
    ("case", "route"),
    [
        (case, route)
        for case in CASES
        for route in ("api", "page")
        if not (route == "api" and case in ALREADY_TESTED_ON_THE_API)
    ],
)
def test_hostile_upload_is_refused_by_name_and_stores_nothing(
    app: Flask, client: FlaskClient, case: str, route: str
) -> None:
    text, words = CASES[case]
    if case == "too-large":
        app.config["MAX_CONTENT_LENGTH"] = 4000
    before = client.get("/api/v1/processes", headers=auth("owner")).get_json()
    files = {"files": (io.BytesIO(text.encode()), "simple.bpmn"), "note": "hostile"}
    path = "/api/v1/deployments" if route == "api" else "/processes/upload"
    response = client.post(path, data=files, headers=auth("owner"))
    body = html.unescape(response.get_data(as_text=True))
    assert 400 <= response.status_code < 500, body
    assert words in body
    app.config["MAX_CONTENT_LENGTH"] = None
    assert client.get("/api/v1/processes", headers=auth("owner")).get_json() == before
    assert client.get("/api/v1/processes/simple/versions", headers=auth("owner")).status_code == 404
