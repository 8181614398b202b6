"""JUEL translation: each operator, literals, property access, method calls and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from engine.bpmn import juel
from engine.bpmn.scripting import SCRIPT_ENGINE, compile_expression

DATA: dict[str, Any] = {
    "amount": 1500,
    "limit": "1000",
    "approved": True,
    "rejected": False,
    "name": "Zhang Wei",
    "empty_text": "",
    "items": [1, 2, 3],
    "none": [],
    "customer": {"tier": "gold", "address": {"city": "Shanghai"}},
    "nothing": None,
}


def run(text: str, data: dict[str, Any] | None = None) -> Any:
    python = juel.translate(text)
    compile_expression(python)  # the same restricted compilation as every Python expression
    return SCRIPT_ENGINE.environment.evaluate(python, dict(DATA if data is None else data))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${amount == 1500}", True),
        ("${amount eq 1500}", True),
        ("${amount != 1500}", False),
        ("${amount ne 1}", True),
        ("${amount > 1000}", True),
        ("${amount gt 2000}", False),
        ("${amount < 1000}", False),
        ("${amount lt 2000}", True),
        ("${amount >= 1500}", True),
        ("${amount ge 1501}", False),
        ("${amount <= 1500}", True),
        ("${amount le 1499}", False),
        ("${amount > limit}", True),  # a numeric string compares as a number, as in EL
        ("${approved && !rejected}", True),
        ("${approved and rejected}", False),
        ("${rejected || approved}", True),
        ("${rejected or rejected}", False),
        ("${not approved}", False),
        ("${!rejected}", True),
        ("${empty empty_text}", True),
        ("${empty none}", True),
        ("${empty nothing}", True),
        ("${empty items}", False),
        ("${not empty name}", True),
        ("${amount > 1000 ? 'big' : 'small'}", "big"),
        ("${amount + 500}", 2000),
        ("${amount - 500}", 1000),
        ("${amount * 2}", 3000),
        ("${amount / 2}", 750),
        ("${amount div 4}", 375),
        ("${amount % 7}", 2),
        ("${amount mod 7}", 2),
        ("${-amount}", -1500),
        ("${(amount + 500) * 2}", 4000),
        ("${limit + 1}", 1001),
        ("${customer.tier}", "gold"),
        ("${customer['tier']}", "gold"),
        ('${customer["address"].city}', "Shanghai"),
        ("${customer.missing}", None),
        ("${items[1]}", 2),
        ("${'text'}", "text"),
        ('${"it\\"s"}', 'it"s'),
        ("${3.5}", 3.5),
        ("${true}", True),
        ("${false}", False),
        ("${null}", None),
        ("${nothing == null}", True),
        ("${name.equals('Zhang Wei')}", True),
        ("${name.equalsIgnoreCase('zhang wei')}", True),
        ("${name.contains('Wei')}", True),
        ("${name.startsWith('Zh')}", True),
        ("${name.endsWith('x')}", False),
        ("${empty_text.isEmpty()}", True),
        ("${name.length()}", 9),
        ("${items.size()}", 3),
        ("${items.contains(2)}", True),
        ("${customer.containsKey('tier')}", True),
        ("${name.toUpperCase()}", "ZHANG WEI"),
        ("${name.toLowerCase()}", "zhang wei"),
        ("${name.substring(0, 5)}", "Zhang"),
        ("${execution.getVariable('amount')}", 1500),
        ("${execution.getVariable('unset') == null}", True),
        ("#{amount > 1000}", True),
        ("Dear ${name}, amount ${amount}", "Dear Zhang Wei, amount 1500"),
        ("${approved} ", True),
    ],
)
def test_operator(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "words", "position"),
    [
        ("${amount >}", "ends too early", 11),
        ("${amount.getClass()}", "getClass() is not supported", 10),
        ("${foo(1)}", "function foo() is not supported", 3),
        ("${x instanceof y}", "instanceof", 5),
        ("${a ; b}", "unexpected character", 5),
        ("${'open}", "not closed", 1),
        ("${execution.setVariable('a', 1)}", "only execution.getVariable", 13),
        ("${task.id}", "built-in 'task'", 3),
        ("${import}", "cannot be used", 3),
        ("${__class__}", "cannot be used", 3),
        ("${name.substring()}", "takes 1 or 2 argument(s)", 8),
        ("${a b}", "unexpected 'b'", 5),
    ],
)
def test_outside_the_subset_is_refused_with_its_position(text: str, words: str, position: int) -> None:
    with pytest.raises(juel.JuelError) as info:
        juel.translate(text)
    assert words in info.value.message
    assert info.value.position == position


def test_no_attribute_walk_reaches_python_objects() -> None:
    # a.b only reads maps and lists: a dunder name is just a missing key, and strings have no properties.
    assert run("${customer.__class__}") is None
    with pytest.raises(Exception, match="cannot read property"):
        run("${name.__class__}")


def test_text_without_a_block_is_not_juel() -> None:
    assert not juel.is_juel("amount > 1000")
    assert juel.is_juel("${amount > 1000}")
    with pytest.raises(juel.JuelError):
        juel.translate("amount > 1000")
