"""A staff member starts a process with a business key in chromium, at phone width, in both languages.

The start page's screenshots (a taken key refused in place) go to ``test-results/<test>/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, expect  # noqa: E402

DIST = Path(__file__).resolve().parents[2] / "web" / "static" / "dist"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (DIST / "htmx.js").is_file(), reason="web/static/dist is not built"),
]
TAKEN = {
    "zh": "该流程已有一个未结束的实例使用此业务编号。",
    "en": "An open instance of this process already has this business key.",
}


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    return csrf_app


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_business_key_is_given_at_start_and_a_taken_one_is_refused_in_place(
    browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    page = new_page(contexts, browser, lang, phone=True)
    login(page, live_server, "service")
    for attempt in range(2):
        page.goto(f"{live_server}/start")
        card = page.locator("#start-complaint")
        card.locator("input[name=title]").fill(f"投诉 {attempt}")
        card.locator("input[name=business_key]").fill(f"C-{lang}")
        card.locator("button[type=submit]").click()
        if attempt == 0:
            expect(page.locator(".flash-success")).to_be_visible()
    error = page.locator("#start-complaint .field-error")
    expect(error).to_have_text(TAKEN[lang])
    expect(page.locator("#start-complaint input[name=business_key]")).to_have_value(f"C-{lang}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.screenshot(path=str(out / f"start-business-key-phone-{lang}.png"), full_page=True)
