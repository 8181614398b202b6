"""Translate Camunda's JUEL expressions (``${...}``, ``#{...}``) into the engine's restricted Python.

A small recursive-descent parser reads the EL subset that process owners write and emits a Python
expression. Everything that could reach an object's inside goes through the ``juel_*`` helpers below:
property and index access only read dicts and lists, method calls only run a fixed list of String and
collection methods. The emitted Python is then compiled by RestrictedPython like any other expression.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

JUEL_BLOCK = re.compile(r"[$#]\{")
TEAM_ZONE = ZoneInfo("Asia/Shanghai")
"""The zone of a date written without an offset, and of cron cycles (Camunda uses the server's zone)."""
_NAIVE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$")


class JuelError(Exception):
    """An expression is outside the supported EL subset; ``position`` is 1-based within the text."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.message = message
        self.position = position


def is_juel(text: str | None) -> bool:
    """Tell whether a text holds a JUEL block (``${`` or ``#{``)."""
    return bool(text) and JUEL_BLOCK.search(text or "") is not None


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "str", "name", "op", "end"
    value: Any
    pos: int  # 0-based within the whole text


_OPERATORS = (
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "<",
    ">",
    "!",
    "?",
    ":",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    "[",
    "]",
    ".",
    ",",
)
_WORD_OPS = {"eq", "ne", "lt", "gt", "le", "ge", "and", "or", "not", "empty", "div", "mod", "instanceof"}


def _tokenize(text: str, start: int, end: int) -> list[_Token]:
    tokens: list[_Token] = []
    i = start
    while i < end:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < end and text[i + 1].isdigit()):
            match = re.compile(r"\d*\.?\d+(?:[eE][+-]?\d+)?|\d+\.").match(text, i, end)
            assert match is not None
            raw = match.group(0)
            value: Any = int(raw) if raw.isdigit() else float(raw)
            tokens.append(_Token("num", value, i))
            i = match.end()
            continue
        if ch in "'\"":
            j = i + 1
            out = []
            while j < end and text[j] != ch:
                if text[j] == "\\" and j + 1 < end:
                    j += 1
                out.append(text[j])
                j += 1
            if j >= end:
                raise JuelError("string literal is not closed", i + 1)
            tokens.append(_Token("str", "".join(out), i))
            i = j + 1
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < end and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            tokens.append(_Token("op" if word in _WORD_OPS else "name", word, i))
            i = j
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(_Token("op", op, i))
                i += len(op)
                break
        else:
            raise JuelError(f"unexpected character {ch!r}", i + 1)
    tokens.append(_Token("end", None, end))
    return tokens


# Method name -> number of arguments it takes (a set when several are allowed).
METHODS: dict[str, set[int]] = {
    "equals": {1},
    "equalsIgnoreCase": {1},
    "contains": {1},
    "containsKey": {1},
    "startsWith": {1},
    "endsWith": {1},
    "isEmpty": {0},
    "size": {0},
    "length": {0},
    "toUpperCase": {0},
    "toLowerCase": {0},
    "trim": {0},
    "toString": {0},
    "indexOf": {1},
    "substring": {1, 2},
    "get": {1},
    "concat": {1},
    "replace": {2},
    "compareTo": {1},
    "intValue": {0},
    "longValue": {0},
    "doubleValue": {0},
    "booleanValue": {0},
    # Camunda's dateTime() (a Joda DateTime) as used in due dates: dateTime().plusDays(2).toDate()
    **{f"{way}{unit}": {1} for way in ("plus", "minus") for unit in ("Seconds", "Minutes", "Hours", "Days", "Weeks")},
    "toDate": {0},
}

_COMPARE = {"==": "eq", "eq": "eq", "!=": "ne", "ne": "ne", "<": "lt", "lt": "lt", ">": "gt", "gt": "gt"}
_COMPARE.update({"<=": "le", "le": "le", ">=": "ge", "ge": "ge"})


class _Parser:
    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.tokens = _tokenize(text, start, end)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def error(self, message: str, token: _Token | None = None) -> JuelError:
        return JuelError(message, (token or self.tok).pos + 1)

    def accept(self, *values: str) -> _Token | None:
        tok = self.tok
        if tok.kind == "op" and tok.value in values:
            self.i += 1
            return tok
        return None

    def expect(self, value: str) -> _Token:
        tok = self.accept(value)
        if tok is None:
            found = "the end" if self.tok.kind == "end" else repr(self.tok.value)
            raise self.error(f"expected {value!r}, found {found}")
        return tok

    def parse(self) -> str:
        if self.tok.kind == "end":
            raise self.error("empty expression")
        result = self.ternary()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.value!r}")
        return result

    def ternary(self) -> str:
        cond = self.or_()
        if self.accept("?"):
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return f"({yes} if juel_bool({cond}) else {no})"
        return cond

    def or_(self) -> str:
        left = self.and_()
        while self.accept("||", "or"):
            left = f"(juel_bool({left}) or juel_bool({self.and_()}))"
        return left

    def and_(self) -> str:
        left = self.equality()
        while self.accept("&&", "and"):
            left = f"(juel_bool({left}) and juel_bool({self.equality()}))"
        return left

    def equality(self) -> str:
        left = self.relational()
        while tok := self.accept("==", "!=", "eq", "ne"):
            left = f"juel_compare({_COMPARE[tok.value]!r}, {left}, {self.relational()})"
        return left

    def relational(self) -> str:
        left = self.additive()
        while tok := self.accept("<", ">", "<=", ">=", "lt", "gt", "le", "ge"):
            left = f"juel_compare({_COMPARE[tok.value]!r}, {left}, {self.additive()})"
        if self.tok.kind == "op" and self.tok.value == "instanceof":
            raise self.error("'instanceof' is not supported")
        return left

    def additive(self) -> str:
        left = self.multiplicative()
        while tok := self.accept("+", "-"):
            left = f"juel_arith({tok.value!r}, {left}, {self.multiplicative()})"
        return left

    def multiplicative(self) -> str:
        left = self.unary()
        while tok := self.accept("*", "/", "div", "%", "mod"):
            op = {"div": "/", "mod": "%"}.get(tok.value, tok.value)
            left = f"juel_arith({op!r}, {left}, {self.unary()})"
        return left

    def unary(self) -> str:
        if self.accept("!", "not"):
            return f"(not juel_bool({self.unary()}))"
        if self.accept("empty"):
            return f"juel_empty({self.unary()})"
        if self.accept("-"):
            return f"juel_arith('-', 0, {self.unary()})"
        return self.value()

    def args(self) -> list[str]:
        args: list[str] = []
        if self.accept(")"):
            return args
        while True:
            args.append(self.ternary())
            if self.accept(")"):
                return args
            self.expect(",")

    def value(self) -> str:
        result, name = self.primary()
        while True:
            if self.accept("."):
                tok = self.tok
                if tok.kind not in ("name", "op") or not isinstance(tok.value, str) or not tok.value.isidentifier():
                    raise self.error("expected a property or method name after '.'")
                self.i += 1
                if self.accept("("):
                    args = self.args()
                    result = self.method(name, result, tok, args)
                else:
                    result = f"juel_prop({result}, {tok.value!r})"
                name = None
            elif self.accept("["):
                key = self.ternary()
                self.expect("]")
                result = f"juel_prop({result}, {key})"
                name = None
            else:
                return result

    def method(self, owner: str | None, target: str, tok: _Token, args: list[str]) -> str:
        method = tok.value
        if owner == "execution":
            if method == "getVariable" and len(args) == 1:
                return f"juel_var({args[0]})"
            raise self.error(f"execution.{method}() is not supported; only execution.getVariable('name')", tok)
        if method not in METHODS:
            raise self.error(f"method {method}() is not supported", tok)
        if len(args) not in METHODS[method]:
            raise self.error(
                f"method {method}() takes {' or '.join(map(str, sorted(METHODS[method])))} argument(s)", tok
            )
        return f"juel_call({target}, {method!r}{''.join(', ' + a for a in args)})"

    def primary(self) -> tuple[str, str | None]:
        tok = self.tok
        if tok.kind == "num":
            self.i += 1
            return repr(tok.value), None
        if tok.kind == "str":
            self.i += 1
            return repr(tok.value), None
        if self.accept("("):
            inner = self.ternary()
            self.expect(")")
            return f"({inner})", None
        if tok.kind == "name":
            self.i += 1
            word = tok.value
            if word in ("true", "false", "null"):
                return {"true": "True", "false": "False", "null": "None"}[word], None
            if self.tok.kind == "op" and self.tok.value in ("(", ":"):
                if word in ("now", "dateTime") and self.tokens[self.i + 1].value == ")":
                    self.i += 2
                    return "juel_now()", None
                raise self.error(f"function {word}() is not supported", tok)
            if word == "execution":
                if not (self.tok.kind == "op" and self.tok.value == "."):
                    raise self.error("'execution' is only supported as execution.getVariable('name')", tok)
                return "None", "execution"
            if word in ("task", "authenticatedUserId", "currentUser", "currentUserGroups"):
                raise self.error(f"Camunda's built-in {word!r} is not supported", tok)
            if keyword.iskeyword(word) or word.startswith("_") or word.startswith("juel_"):
                raise self.error(f"variable name {word!r} cannot be used", tok)
            return word, word
        if tok.kind == "end":
            raise self.error("expression ends too early")
        raise self.error(f"unexpected {tok.value!r}")


def _find_block_end(text: str, start: int) -> int:
    """Return the index of the ``}`` closing the block whose body starts at ``start``."""
    i = start
    quote = None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "}":
            return i
        i += 1
    raise JuelError("expression is not closed with '}'", start - 1)


def translate(text: str) -> str:
    """Turn a text holding ``${...}``/``#{...}`` blocks into one Python expression.

    A text that is exactly one block yields that block's value; literal text around blocks makes a
    string (Camunda's composite expressions).

    :raises JuelError: the text is outside the supported subset, with the position of the problem.
    """
    parts: list[tuple[bool, str]] = []
    i = 0
    while i < len(text):
        match = JUEL_BLOCK.search(text, i)
        if match is None:
            parts.append((False, text[i:]))
            break
        if match.start() > i:
            parts.append((False, text[i : match.start()]))
        body_start = match.end()
        body_end = _find_block_end(text, body_start)
        parts.append((True, _Parser(text, body_start, body_end).parse()))
        i = body_end + 1
    literal = [p for is_block, p in parts if not is_block]
    blocks = [p for is_block, p in parts if is_block]
    if not blocks:
        raise JuelError("no ${...} expression found", 1)
    if len(blocks) == 1 and not "".join(literal).strip():
        return blocks[0]
    return " + ".join(f"juel_text({p})" if is_block else repr(p) for is_block, p in parts)


# Runtime helpers, put into the namespace of every restricted evaluation.


def juel_bool(value: Any) -> bool:
    """Coerce to a boolean the way EL does: null is false, a string is true only when it says so."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _number(value: Any) -> Any:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise TypeError(f"cannot use boolean {value} as a number")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    raise TypeError(f"cannot use {type(value).__name__} as a number")


def juel_arith(op: str, left: Any, right: Any) -> Any:
    """Apply an EL arithmetic operator; strings are read as numbers and null counts as 0."""
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if op == "%":
        return a % b
    raise ValueError(f"unknown operator {op}")


def _coerce_pair(left: Any, right: Any) -> tuple[Any, Any]:
    numbers = (int, float, Decimal)
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, str):
            left = juel_bool(left)
        if isinstance(right, str):
            right = juel_bool(right)
        return left, right
    if isinstance(left, numbers) and isinstance(right, str):
        return left, _number(right)
    if isinstance(right, numbers) and isinstance(left, str):
        return _number(left), right
    return left, right


def juel_compare(op: str, left: Any, right: Any) -> bool:
    """Compare as EL does: numbers against numeric strings, null equal only to null, ordering with null false."""
    if op in ("eq", "ne"):
        if left is None or right is None:
            same = left is None and right is None
        else:
            try:
                a, b = _coerce_pair(left, right)
            except ValueError:
                a, b = left, right
            same = bool(a == b)
        return same if op == "eq" else not same
    if left is None or right is None:
        return False
    a, b = _coerce_pair(left, right)
    result = {"lt": a < b, "gt": a > b, "le": a <= b, "ge": a >= b}[op]
    return bool(result)


def juel_empty(value: Any) -> bool:
    """EL's ``empty``: null, an empty string and an empty collection are empty."""
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | set | frozenset):
        return len(value) == 0
    return False


def juel_prop(target: Any, key: Any) -> Any:
    """Read ``a.b`` or ``a['b']``: a map's entry (null when missing) or a list's item; nothing else."""
    if target is None:
        raise TypeError(f"cannot read property {key!r} of null")
    if isinstance(target, Mapping):
        return target.get(key)
    if isinstance(target, Sequence) and not isinstance(target, str):
        index = int(_number(key))
        return target[index] if 0 <= index < len(target) else None
    raise TypeError(f"cannot read property {key!r} of a {type(target).__name__}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def juel_text(value: Any) -> str:
    """A block's value inside a composite text, in its EL string form."""
    return _text(value)


_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "equals": lambda s, o: s == o,
    "equalsIgnoreCase": lambda s, o: isinstance(o, str) and s.casefold() == o.casefold(),
    "contains": lambda s, o: _text(o) in s,
    "startsWith": lambda s, o: s.startswith(_text(o)),
    "endsWith": lambda s, o: s.endswith(_text(o)),
    "isEmpty": lambda s: s == "",
    "length": len,
    "size": len,
    "toUpperCase": str.upper,
    "toLowerCase": str.lower,
    "trim": str.strip,
    "toString": lambda s: s,
    "indexOf": lambda s, o: s.find(_text(o)),
    "substring": lambda s, a, b=None: s[int(a) : None if b is None else int(b)],
    "concat": lambda s, o: s + _text(o),
    "replace": lambda s, a, b: s.replace(_text(a), _text(b)),
    "compareTo": lambda s, o: (s > o) - (s < o),
}

_COLLECTION_METHODS: dict[str, Callable[..., Any]] = {
    "equals": lambda c, o: c == o,
    "contains": lambda c, o: o in (c.values() if isinstance(c, Mapping) else c),
    "containsKey": lambda c, o: isinstance(c, Mapping) and o in c,
    "isEmpty": lambda c: len(c) == 0,
    "size": len,
    "get": juel_prop,
    "indexOf": lambda c, o: list(c).index(o) if o in c else -1,
    "toString": str,
}

_NUMBER_METHODS: dict[str, Callable[..., Any]] = {
    "equals": lambda n, o: n == o,
    "compareTo": lambda n, o: (n > o) - (n < o),
    "intValue": int,
    "longValue": int,
    "doubleValue": float,
    "toString": _text,
    "booleanValue": bool,
}


def _shift(unit: str, sign: int) -> Callable[..., Any]:
    return lambda moment, amount: moment + sign * timedelta(**{unit: int(_number(amount))})


_DATE_METHODS: dict[str, Callable[..., Any]] = {
    **{f"plus{u.capitalize()}": _shift(u, 1) for u in ("seconds", "minutes", "hours", "days", "weeks")},
    **{f"minus{u.capitalize()}": _shift(u, -1) for u in ("seconds", "minutes", "hours", "days", "weeks")},
    "toDate": lambda moment: moment,
    "equals": lambda moment, other: moment == other,
    "toString": lambda moment: moment.isoformat(),
}


def juel_now() -> datetime:
    """Camunda's ``now()`` and ``dateTime()``: the current time in the team's zone."""
    return datetime.now(TEAM_ZONE)


def juel_call(target: Any, method: str, *args: Any) -> Any:
    """Run one of the allowed String, collection, number or date methods on a value."""
    if isinstance(target, datetime):
        table = _DATE_METHODS
    elif isinstance(target, str):
        table = _STRING_METHODS
    elif isinstance(target, list | tuple | dict | set | frozenset):
        table = _COLLECTION_METHODS
    elif isinstance(target, int | float | Decimal):
        table = _NUMBER_METHODS
    elif target is None:
        raise TypeError(f"cannot call {method}() on null")
    else:
        table = {}
    if method not in table:
        raise TypeError(f"a {type(target).__name__} has no method {method}()")
    return table[method](target, *args)


def with_zone(text: str) -> str:
    """Give an ISO date or date-time without an offset the team's zone."""
    if _NAIVE_DATE.match(text):
        return datetime.fromisoformat(text).replace(tzinfo=TEAM_ZONE).isoformat()
    return text


def juel_timer(kind: str, value: Any) -> Any:
    """What a JUEL timer expression yields, as SpiffWorkflow reads it: dates get the team's zone."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=TEAM_ZONE)).isoformat()
    if isinstance(value, str) and kind == "timeDate":
        return with_zone(value.strip())
    return value


HELPERS: dict[str, Any] = {
    "juel_timer": juel_timer,
    "juel_now": juel_now,
    "juel_bool": juel_bool,
    "juel_arith": juel_arith,
    "juel_compare": juel_compare,
    "juel_empty": juel_empty,
    "juel_prop": juel_prop,
    "juel_text": juel_text,
    "juel_call": juel_call,
}
