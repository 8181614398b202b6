"""Form rules the diagram declares: required with another field's value, one of a group, no past dates."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import InvalidInputError
from engine.services import forms

FORM = [
    {"id": "result", "type": "enum", "options": [{"id": "ok", "name": "通过"}, {"id": "no", "name": "不通过"}]},
    {"id": "why", "type": "string", "properties": {"required_if": "result=no"}},
    {"id": "other_dept", "type": "boolean"},
    {"id": "dept", "type": "string", "properties": {"required_if": "other_dept"}},
    {"id": "ads", "type": "boolean", "properties": {"required_group": "channels"}},
    {"id": "pr", "type": "boolean", "properties": {"required_group": "channels"}},
    {"id": "start", "type": "date", "properties": {"not_before": "today"}},
]
TODAY = date(2030, 5, 1)


def problems(data: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInputError) as caught:
        forms.validate(FORM, data, TODAY)
    return [(p.field, p.message) for p in caught.value.problems]


def test_rules_hold_when_met() -> None:
    values = forms.validate(FORM, {"result": "no", "why": "缺经验", "pr": "true", "start": "2030-05-01"}, TODAY)
    assert values["why"] == "缺经验" and values["pr"] is True and values["ads"] is False


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"result": "no", "pr": "true"}, [("why", "is required with this choice")]),
        ({"result": "ok", "other_dept": "true", "pr": "true"}, [("dept", "is required with this choice")]),
        ({"result": "ok"}, [("ads", "needs at least one of its group")]),
        ({"result": "ok", "ads": "true", "start": "2030-04-30"}, [("start", "must not be in the past")]),
    ],
)
def test_rules_refuse_what_they_forbid(data: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert problems(data) == expected


def test_field_views_carry_the_rules() -> None:
    views = {v.id: v for v in forms.field_views(FORM)}
    assert views["why"].required_if == ("result", ("no",))
    assert views["dept"].required_if == ("other_dept", ())
    assert views["ads"].required_group == "channels"
    assert views["start"].not_before_today
