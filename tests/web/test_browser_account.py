"""A staff member creates an API token on a phone, uses it from a script, and revokes it (Debian's chromium).

Screenshots of the token page in both languages go to ``test-results/<test>/``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

pytest.importorskip("playwright.sync_api")

from browser import PHONE, login, new_page  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, expect  # noqa: E402

pytestmark = [pytest.mark.browser]
TEXT = {"zh": ("API 令牌", "从未", "令牌已撤销"), "en": ("API tokens", "never", "The token is revoked")}


@pytest.fixture
def app(csrf_app: Flask) -> Flask:
    return csrf_app


def _status(url: str, secret: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_create_use_and_revoke_a_token(
    browser: Browser, contexts: list[BrowserContext], live_server: str, output_path: str, lang: str
) -> None:
    out = Path(output_path)
    out.mkdir(parents=True, exist_ok=True)
    title, never, revoked = TEXT[lang]
    page = new_page(contexts, browser, lang, phone=True)
    login(page, live_server, "sales")
    # The phone header hides the user's name (its link to this page), so the page is opened by its address.
    page.goto(f"{live_server}/account/tokens")
    expect(page.locator("h1")).to_have_text(title)

    page.fill("#token-name", "月度报表脚本" if lang == "zh" else "monthly report script")
    page.fill("#token-days", "90")
    page.click(".token-form button[type=submit]")
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("tf_")
    expect(page.locator("#token-list tbody tr")).to_have_count(1)
    page.screenshot(path=str(out / f"tokens-phone-{lang}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the token page scrolls sideways on a phone ({width}px)"

    assert _status(f"{live_server}/api/v1/tasks?scope=groups", secret) == 200
    page.goto(f"{live_server}/account/tokens")
    expect(page.locator("#token-secret")).to_have_count(0)
    expect(page.locator("#token-list tbody tr td").nth(2)).not_to_have_text(never)
    page.locator("#token-list button.btn-danger").click()
    expect(page.locator(".flash")).to_contain_text(revoked)
    expect(page.locator("#token-list")).to_have_count(0)
    assert _status(f"{live_server}/api/v1/tasks", secret) == 401
