"""Every UI string is translated to Chinese in its catalog, and each committed catalog is compiled.

The shared catalog ``web/translations`` covers the task pages, login, mails and the base layout. A blueprint
may keep a catalog of its own in ``web/<blueprint>/translations``; it covers ``web/<blueprint>/`` and
``web/templates/<blueprint>/``. The app loads them all (``web.translation_directories``).
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from web import translation_directories

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SHARED = WEB / "translations"
# The files the shared catalog covers; a blueprint without a catalog of its own is added here.
SHARED_COVERS = (
    "tasks/",
    "auth.py",
    "notify.py",
    "errors.py",
    "templates/tasks/",
    "templates/auth/",
    "templates/base.html",
    "templates/error.html",
)
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
CATALOGS = translation_directories()


def _covers(folder: Path) -> tuple[str, ...]:
    if folder == SHARED:
        return SHARED_COVERS
    blueprint = folder.parent.name
    return (f"{blueprint}/", f"templates/{blueprint}/")


def _po(folder: Path) -> Path:
    return folder / "zh" / "LC_MESSAGES" / "messages.po"


def _catalog(folder: Path) -> dict[str, object]:
    with _po(folder).open("rb") as f:
        catalog = read_po(f)
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


@pytest.mark.parametrize("folder", CATALOGS, ids=lambda p: str(p.relative_to(WEB)))
def test_every_extracted_string_has_a_chinese_translation(folder: Path) -> None:
    known = _catalog(folder)
    covers = _covers(folder)
    keywords = dict(DEFAULT_KEYWORDS, lazy_gettext=None)
    missing = []
    for filename, lineno, message, _comments, _context in extract_from_dir(str(WEB), METHODS, keywords=keywords):
        if not filename.startswith(covers):
            continue
        msgid = message if isinstance(message, str) else message[0]
        entry = known.get(msgid)
        strings = entry.string if entry is not None else ""  # type: ignore[attr-defined]
        if not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(f"{filename}:{lineno}: {msgid!r}")
    assert not missing, "untranslated (run pybabel extract/update, see web/babel.cfg):\n" + "\n".join(missing)


@pytest.mark.parametrize("folder", CATALOGS, ids=lambda p: str(p.relative_to(WEB)))
def test_catalog_has_no_fuzzy_entries(folder: Path) -> None:
    assert not [msgid for msgid, m in _catalog(folder).items() if m.fuzzy]  # type: ignore[attr-defined]


@pytest.mark.parametrize("folder", CATALOGS, ids=lambda p: str(p.relative_to(WEB)))
def test_committed_mo_matches_the_po(folder: Path) -> None:
    with _po(folder).open("rb") as f:
        catalog = read_po(f)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    with _po(folder).with_suffix(".mo").open("rb") as f:
        committed = read_mo(f)
    fresh = read_mo(compiled)
    assert _pairs(committed) == _pairs(fresh), f"run `pybabel compile -d {folder.relative_to(ROOT)}`"


def _pairs(catalog: object) -> dict[object, object]:
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}
