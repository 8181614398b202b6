"""Every UI string of the task pages is translated to Chinese, and the committed catalog is compiled."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
PO = WEB / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The files whose strings this catalog covers; add a blueprint's files here when it joins the catalog.
COVERED = (
    "tasks/",
    "auth.py",
    "notify.py",
    "templates/tasks/",
    "templates/auth/",
    "templates/base.html",
    "templates/error.html",
)
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def _catalog() -> dict[str, object]:
    with PO.open("rb") as f:
        catalog = read_po(f)
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


def test_every_extracted_string_has_a_chinese_translation() -> None:
    known = _catalog()
    keywords = dict(DEFAULT_KEYWORDS, lazy_gettext=None)
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(str(WEB), METHODS, keywords=keywords):
        if not filename.startswith(COVERED):
            continue
        msgid = message if isinstance(message, str) else message[0]
        entry = known.get(msgid)
        strings = entry.string if entry is not None else ""  # type: ignore[attr-defined]
        if not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(f"{filename}:{lineno}: {msgid!r}")
    assert not missing, "untranslated (run pybabel extract/update, see web/babel.cfg):\n" + "\n".join(missing)


def test_catalog_has_no_fuzzy_entries() -> None:
    assert not [msgid for msgid, m in _catalog().items() if m.fuzzy]  # type: ignore[attr-defined]


def test_committed_mo_matches_the_po() -> None:
    with PO.open("rb") as f:
        catalog = read_po(f)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    with MO.open("rb") as f:
        committed = read_mo(f)
    fresh = read_mo(compiled)
    assert _pairs(committed) == _pairs(fresh), "run `pybabel compile -d web/translations`"


def _pairs(catalog: object) -> dict[object, object]:
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}  # type: ignore[attr-defined]
