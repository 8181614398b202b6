"""What the browser tests share: pages per language and screen size, logging in as a demo user."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, expect

LOCALES = {"zh": "zh-CN", "en": "en-US"}
PHONE = {"width": 375, "height": 812}


def new_page(contexts: list[BrowserContext], browser: Browser, lang: str, phone: bool = False) -> Page:
    """Open a page in a fresh context for the language, at desktop or phone size."""
    context = browser.new_context(
        locale=LOCALES[lang],
        viewport=PHONE if phone else {"width": 1280, "height": 900},
        is_mobile=phone,
        has_touch=phone,
    )
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def login(page: Page, base: str, user: str, home: str = "#queues") -> None:
    """Log in as a demo user and wait for their home page (staff: the queue)."""
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "demo")
    page.click("main form button[type=submit]")
    expect(page.locator(home)).to_be_visible()
