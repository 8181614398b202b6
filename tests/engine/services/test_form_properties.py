"""Property-based tests of the form validator: any input is either refused field by field or stored as the form says."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidInputError
from engine.services import forms

# The simple process's form, as the parser stores it.
FORM: list[dict[str, Any]] = [
    {"id": "amount", "label": "金额", "type": "long", "constraints": {"required": None, "min": "1", "max": "1000"}},
    {"id": "note", "label": "备注", "type": "string", "default": "无", "constraints": {"maxlength": "10"}},
    {"id": "urgent", "label": "加急", "type": "boolean", "constraints": {}},
    {
        "id": "kind",
        "label": "类型",
        "type": "enum",
        "default": "a",
        "options": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
        "constraints": {},
    },
    {"id": "when", "label": "日期", "type": "date", "constraints": {}},
]
FIELDS = {spec["id"] for spec in FORM}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
# Keys are mostly the form's own, so that most inputs reach the type and limit checks.
keys = st.sampled_from(sorted(FIELDS)) | st.text(max_size=12)
submissions = st.dictionaries(keys, json_values | st.text(max_size=15), max_size=7)


def check_stored(values: dict[str, Any]) -> None:
    assert set(values) <= FIELDS
    assert isinstance(values["amount"], int) and not isinstance(values["amount"], bool)
    assert 1 <= values["amount"] <= 1000
    assert values["note"] is None or (isinstance(values["note"], str) and len(values["note"]) <= 10)
    assert isinstance(values["urgent"], bool)
    assert values["kind"] in ("a", "b")
    assert values["when"] is None or date.fromisoformat(values["when"])


@settings(max_examples=300, deadline=None)
@given(submissions)
def test_any_submission_is_refused_by_field_or_stored_as_the_form_says(data: dict[str, Any]) -> None:
    try:
        values = forms.validate(FORM, data)
    except InvalidInputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.field in FIELDS or problem.field in data
            assert problem.message
        return
    check_stored(values)
    assert not set(data) - FIELDS


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(1, 1000) | st.integers(1, 1000).map(str),
    note=st.text(max_size=10).filter(lambda t: "\x00" not in t),
    urgent=st.sampled_from([True, False, "true", "on", "false", "", "1", "0"]),
    kind=st.sampled_from(["a", "b"]),
    when=st.dates().map(date.isoformat) | st.just(""),
)
def test_every_valid_submission_is_accepted_with_its_types(
    amount: Any, note: str, urgent: Any, kind: str, when: str
) -> None:
    values = forms.validate(FORM, {"amount": amount, "note": note, "urgent": urgent, "kind": kind, "when": when})
    check_stored(values)
    assert values["amount"] == int(amount) and values["kind"] == kind
    assert values["urgent"] is (urgent in (True, "true", "on", "1"))


@settings(max_examples=150, deadline=None)
@given(amount=st.integers().filter(lambda n: not 1 <= n <= 1000), name=st.text(min_size=1, max_size=12))
def test_out_of_range_numbers_and_undeclared_fields_name_their_field(amount: int, name: str) -> None:
    try:
        forms.validate(FORM, {"amount": amount})
    except InvalidInputError as exc:
        assert [p.field for p in exc.problems] == ["amount"]
    else:
        raise AssertionError(f"{amount} accepted")
    if name not in FIELDS:
        try:
            forms.validate(FORM, {"amount": 5, name: "x"})
        except InvalidInputError as exc:
            assert [p.field for p in exc.problems] == [name]
        else:
            raise AssertionError(f"{name!r} accepted")
