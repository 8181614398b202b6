"""Business keys over HTTP: set at start (API and start page), 409 when taken, shown and searched in lists."""

from __future__ import annotations

from api_helpers import SIMPLE, assert_error, auth, deploy
from flask.testing import FlaskClient


def test_api_start_with_a_key_refuses_a_taken_one_and_lists_by_key(client: FlaskClient) -> None:
    deploy(client, SIMPLE)
    url = "/api/v1/processes/simple/instances"
    created = client.post(url, json={"business_key": "SO-100", "data": {"divisor_check": 0}}, headers=auth("sales"))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["business_key"] == "SO-100"
    taken = client.post(url, json={"business_key": "SO-100"}, headers=auth("sales"))
    body = assert_error(taken, 409, "conflict")
    assert "SO-100" in body["message"] and f"instance {created.get_json()['id']}" in body["message"]
    bad = client.post(url, json={"business_key": ["SO"]}, headers=auth("sales"))
    assert assert_error(bad, 422)["details"] == [{"field": "business_key", "message": "must be a string"}]
    client.post(url, json={"business_key": "SO-1001"}, headers=auth("sales"))
    client.post(url, json={"title": "no key"}, headers=auth("sales"))

    def keys(query: str) -> list[str | None]:
        response = client.get(f"/api/v1/instances?{query}", headers=auth("manager"))
        assert response.status_code == 200
        return [item["business_key"] for item in response.get_json()["items"]]

    assert keys("business_key=SO-100") == ["SO-100"]
    assert keys("business_key=SO-100*") == ["SO-1001", "SO-100"]
    assert keys("process=simple") == [None, "SO-1001", "SO-100"]
    too_long = client.get("/api/v1/instances?business_key=" + "x" * 300, headers=auth("manager"))
    assert assert_error(too_long, 422)["details"][0]["field"] == "business_key"


def test_start_page_takes_a_key_and_says_when_it_is_taken(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("service")
    page = client.get("/start").get_data(as_text=True)
    assert 'name="business_key"' in page
    started = client.post("/start/complaint", data={"title": "投诉", "business_key": "C-9"})
    assert started.status_code == 302
    again = client.post("/start/complaint", data={"title": "投诉 2", "business_key": "C-9"})
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "field-error" in html and 'value="C-9"' in html and 'value="投诉 2"' in html
    listed = client.get("/api/v1/instances?business_key=C-9", headers=auth("manager")).get_json()
    assert [i["title"] for i in listed["items"]] == ["投诉"]
