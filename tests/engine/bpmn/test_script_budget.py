"""Scripts and conditions that run too long or build too much are stopped with a message naming the budget."""

from __future__ import annotations

import pytest

from engine.bpmn.scripting import SCRIPT_ENGINE, ScriptBudgetError, ScriptCompileError, budget, configure


@pytest.fixture(autouse=True)
def short_budget():
    before = budget()
    configure(0.3, 50)
    yield
    configure(before.seconds, before.memory_mb)


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",
        "x = 0\nwhile True:\n    x = x + 1",
        "try:\n    while True: pass\nexcept Exception:\n    caught = 1",
        "x = [i for i in range(10**5) for j in range(10**5)]",
    ],
)
def test_runaway_script_is_stopped_by_the_time_budget(script):
    data: dict = {}
    with pytest.raises(ScriptBudgetError, match=r"script ran longer than 0.3 s"):
        SCRIPT_ENGINE.environment.execute(script, data)
    assert "caught" not in data


@pytest.mark.parametrize(
    "script",
    [
        "x = 'a' * 10**10",
        "x = [0] * 10**9",
        "x = [0] * 10**4 * 10**5",
        "x = list(range(10**9))",
        "x = 10**10**10",
        "x = pow(10, 10**10)",
        "x = 1 << 10**12",
        "x = 'ab'\nwhile True:\n    x = x + x",
        "x = 'ab'\nwhile True:\n    x += x",
    ],
)
def test_huge_allocation_is_stopped_by_the_memory_budget(script):
    with pytest.raises(ScriptBudgetError, match=r"script used more than 50 MB"):
        SCRIPT_ENGINE.environment.execute(script, {})


@pytest.mark.parametrize(
    "expression", ["len([0] * 10**9) > 1", "sum(1 for i in range(10**5) for j in range(10**5)) > 0"]
)
def test_conditions_have_the_same_budget(expression):
    with pytest.raises(ScriptBudgetError, match="script"):
        SCRIPT_ENGINE.environment.evaluate(expression, {})


def test_ordinary_arithmetic_is_unchanged():
    data = {"a": [1, 2]}
    SCRIPT_ENGINE.environment.execute(
        "b = a * 2\nc = 'x' + 'y'\nc += 'z'\nn = 3 * 4 + 2 ** 3\nr = list(range(3))", data
    )
    assert data == {"a": [1, 2], "b": [1, 2, 1, 2], "c": "xyz", "n": 20, "r": [0, 1, 2]}


def test_a_bare_except_is_refused_at_compile_time():
    with pytest.raises(ScriptCompileError, match="bare except"):
        SCRIPT_ENGINE.environment.execute("try:\n    x = 1\nexcept:\n    pass", {})


def test_loop_variables_stay_in_the_script():
    data = {"names": "a,b", "kept": 1}
    SCRIPT_ENGINE.environment.execute("out = []\nfor line in names.split(','):\n    out.append(line)\nkept = 2", data)
    assert data == {"names": "a,b", "kept": 2, "out": ["a", "b"]}
