"""FEEL conditions (Camunda 8's ``=expr``, or a FEEL language URI) translated once into the JUEL subset.

Only the part of FEEL that reads like a boolean test over variables is taken: names and paths (``a.b``),
string, number, ``true``/``false``/``null`` literals, comparisons (``=`` is equality), ``and``/``or``,
``not(...)``, arithmetic and parentheses. The result goes through :func:`juel.translate`, so it ends up in the
same sandboxed Python as every other expression. Anything else (``some``/``every``, ``if``, ``for``, ranges,
function calls) is refused with its position.
"""

from __future__ import annotations

import re

from engine.bpmn import juel

FEEL_LANGUAGES = {"feel", "https://www.omg.org/spec/DMN/20191111/FEEL/", "http://www.omg.org/spec/FEEL/20140401"}

_TOKEN = re.compile(
    r"""\s+|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|(?P<op>!=|<=|>=|=|<|>|\(|\)|\.|\+|-|\*|/)"""
)
_KEYWORDS = {"and": "&&", "or": "||", "true": "true", "false": "false", "null": "null"}
_REFUSED = {"some", "every", "satisfies", "in", "if", "then", "else", "for", "return", "between", "instance"}


def is_feel(text: str, language: str | None) -> bool:
    """A Camunda 8 expression starts with '='; a condition may also name FEEL as its language."""
    return text.lstrip().startswith("=") or (language or "").strip().lower() in {x.lower() for x in FEEL_LANGUAGES}


def translate(text: str) -> str:
    """Return the Python expression for a FEEL condition, or raise juel.JuelError with a 1-based position."""
    body = text.lstrip()
    offset = len(text) - len(body)
    if body.startswith("="):
        body, offset = body[1:], offset + 1
    out: list[str] = []
    i = 0
    previous = ""
    while i < len(body):
        match = _TOKEN.match(body, i)
        if match is None:
            raise juel.JuelError(f"'{body[i]}' is not supported in a FEEL condition", offset + i + 1)
        token = match.group(0)
        if match.group("name"):
            if token in _REFUSED:
                raise juel.JuelError(f"FEEL '{token}' is not supported", offset + i + 1)
            if token == "not":
                out.append("!")
            elif token in _KEYWORDS:
                out.append(_KEYWORDS[token])
            else:
                following = body[match.end() :].lstrip()
                if following.startswith("(") and previous != ".":
                    raise juel.JuelError(f"FEEL function {token}() is not supported", offset + i + 1)
                out.append(token)
        elif token == "=":
            out.append("==")
        elif token.strip():
            out.append(token)
        if token.strip():
            previous = token
        i = match.end()
    if not "".join(out).strip():
        raise juel.JuelError("the FEEL condition is empty", offset + 1)
    return juel.translate("${" + " ".join(out).replace(" . ", ".") + "}")
