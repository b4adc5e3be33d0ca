"""J2 on a phone that opens the app over plain HTTP on the local network (§6).

Such a page is not a secure context: ``crypto.subtle`` is missing and Sécur'Pass falls back to the
bundled ``@noble/curves`` p256, with a notice that its key is less protected. Chromium's host
resolver maps ``phone.test`` to the loopback address, so ``http://phone.test:PORT`` reaches the
server under test while not being a secure context (``http://127.0.0.1:PORT`` is one).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserType, Page, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.e2e.journeys import SUCCESS, app_login, approval_shown, approve, enter_and_confirm, pick_phone
from tests.e2e.test_accessibility import WCAG22_AA

PHONE_HOST = "phone.test"
NOTICE = "Connexion non sécurisée"

# What the browser says about its context, its crypto and the key kept in IndexedDB.
PROBE = """async () => {
  const entry = await new Promise((resolve) => {
    const open = indexedDB.open("securpass", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onerror = () => resolve(null);
    open.onsuccess = () => {
      const req = open.result.transaction("keys").objectStore("keys").get("current");
      req.onsuccess = () => { resolve(req.result || null); open.result.close(); };
      req.onerror = () => { resolve(null); open.result.close(); };
    };
  });
  return {
    secure: window.isSecureContext,
    subtle: typeof (window.crypto && window.crypto.subtle),
    mode: window.SecurPass ? window.SecurPass.mode() : null,
    noble: typeof window.__nobleP256,
    cryptoKey: !!(entry && entry.privateKey),
    extractable: entry && entry.privateKey ? entry.privateKey.extractable : null,
    rawKeyBytes: entry && entry.secretKey ? entry.secretKey.length : null,
  };
}"""


@pytest.fixture(scope="session")
def lan_browser(browser_type: BrowserType) -> Iterator[Browser]:
    """Chromium that resolves phone.test to 127.0.0.1."""
    browser = browser_type.launch(executable_path=CHROMIUM,
                                  args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {PHONE_HOST} 127.0.0.1"])
    yield browser
    browser.close()


def _phone_at(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="fr-FR")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def lan_phone(lan_browser: Browser, server: dict) -> Iterator[Page]:
    """The phone on the local network: http://phone.test:PORT, not a secure context."""
    port = urlsplit(server["base_url"]).port
    yield from _phone_at(lan_browser, f"http://{PHONE_HOST}:{port}")


@pytest.fixture
def loopback_phone(lan_browser: Browser, server: dict) -> Iterator[Page]:
    """The same browser on http://127.0.0.1:PORT, a secure context."""
    yield from _phone_at(lan_browser, server["base_url"])


def _no_serious_axe_violation(page: Page) -> None:
    violations = Axe().run(page, options=WCAG22_AA).response["violations"]
    assert not [v["id"] for v in violations if v.get("impact") in ("serious", "critical")]


def _change_number(phone: Page) -> None:
    app_login(phone, "1000000002")
    enter_and_confirm(phone, "07 81 22 33 44")
    approval_shown(phone, "07 81 22 33 44")
    approve(phone)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()


def test_j2_on_plain_http_signs_with_the_software_key(lan_phone: Page) -> None:
    pick_phone(lan_phone, "Smartphone de Julien Petit")
    probe = lan_phone.evaluate(PROBE)
    assert probe["secure"] is False
    assert probe["subtle"] == "undefined"
    assert probe["mode"] == "software"
    assert probe["noble"] == "object"
    assert probe["cryptoKey"] is False and probe["rawKeyBytes"] == 32
    expect(lan_phone.get_by_role("note").filter(has_text=NOTICE)).to_be_visible()
    _no_serious_axe_violation(lan_phone)

    _change_number(lan_phone)
    expect(lan_phone.get_by_text("07 •• •• •• 44").first).to_be_visible()
    expect(lan_phone.get_by_role("note").filter(has_text=NOTICE)).to_be_visible()


def test_j2_in_a_secure_context_keeps_the_webcrypto_key(loopback_phone: Page) -> None:
    pick_phone(loopback_phone, "Smartphone de Julien Petit")
    probe = loopback_phone.evaluate(PROBE)
    assert probe["secure"] is True
    assert probe["mode"] == "webcrypto"
    assert probe["cryptoKey"] is True and probe["extractable"] is False
    assert probe["rawKeyBytes"] is None
    expect(loopback_phone.get_by_text(NOTICE)).to_have_count(0)

    _change_number(loopback_phone)
    expect(loopback_phone.get_by_text(NOTICE)).to_have_count(0)
