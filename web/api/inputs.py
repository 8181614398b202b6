"""Read what API requests send (JSON bodies, query parameters, uploads) and check cookie writes for CSRF."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from flask import current_app, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from engine import FieldProblem, InvalidInputError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_DEPTH = 32
MAX_ID = 2_147_483_647
# Path ids outside 1..MAX_ID match no route, so they are 404s rather than database overflows.
ID = f"int(min=1, max={MAX_ID})"


def check_request() -> None:
    """Refuse NUL characters in the URL and check CSRF on cookie-authenticated writes.

    HTTP Basic requests carry their credentials with them and need no token; a browser session does.

    :raises BadRequest: a NUL character, or a missing or wrong CSRF token.
    """
    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise BadRequest("the URL contains a NUL character")
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if current_user.is_authenticated and not getattr(current_user, "via_basic", False):
        from web import csrf

        csrf.protect()


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(required: bool = False) -> dict[str, Any]:
    """Return the request's JSON object; an empty body is ``{}`` unless ``required``.

    :raises BadRequest: not JSON, malformed, or not an object.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise BadRequest("a JSON object is required")
        return {}
    if not request.is_json:
        raise BadRequest("send JSON with Content-Type: application/json")
    try:
        value = json.loads(raw, parse_float=_finite, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    _check_values(value)
    return value


def _check_values(value: Any, depth: int = 0) -> None:
    """Refuse NUL characters (PostgreSQL cannot store them) and nesting deeper than ``MAX_DEPTH``."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest("the JSON contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(key, depth + 1)
            _check_values(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(item, depth + 1)


def _invalid(name: str, message: str) -> InvalidInputError:
    return InvalidInputError(f"{name}: {message}", [FieldProblem(name, message)])


def string_field(body: dict[str, Any], name: str, required: bool = False, default: str | None = None) -> str | None:
    """Return a string member of a body (null counts as missing).

    :raises InvalidInputError: missing when required, or not a string.
    """
    value = body.get(name)
    if value is None:
        if required:
            raise _invalid(name, "is required")
        return default
    if not isinstance(value, str):
        raise _invalid(name, "must be a string")
    if required and not value.strip():
        raise _invalid(name, "is required")
    return value


def object_field(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Return an object member of a body (null counts as missing).

    :raises InvalidInputError: not an object.
    """
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid(name, "must be an object")
    return value


def int_arg(name: str, default: int | None, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """Return a whole-number query parameter.

    :raises BadRequest: not a whole number.
    :raises InvalidInputError: outside ``minimum``..``maximum``.
    """
    text = request.args.get(name)
    if text is None or text == "":
        return default
    text = text.strip()
    if not text.lstrip("+-").isdigit() or not text.isascii() or len(text) > 20:
        raise BadRequest(f"{name} must be a whole number")
    value = int(text)
    if not minimum <= value <= maximum:
        raise _invalid(name, f"must be between {minimum} and {maximum}")
    return value


def str_arg(name: str, default: str | None = None) -> str | None:
    """Return a text query parameter; empty counts as missing."""
    return request.args.get(name) or default


def uploaded_files(field: str = "files") -> list[tuple[str, bytes]]:
    """Return (file name, content) pairs of a multipart upload.

    :raises BadRequest: the request holds no such files.
    """
    found: Iterable[Any] = request.files.getlist(field)
    files = [(f.filename or "", f.read()) for f in found]
    if not files:
        raise BadRequest(f"send one or more files in the multipart field {field!r}")
    return files


def form_text(field: str) -> str | None:
    """Return a multipart form field's text, stripped, or None when absent or blank."""
    value = (request.form.get(field) or "").strip()
    return value or None
