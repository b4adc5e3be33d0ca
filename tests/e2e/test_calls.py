"""§12.5 « Is my bank calling me? »: Sophie calls Camille from her sheet, Camille's app says so live, and says
again that nobody from the bank is calling once Sophie hangs up; Camille's one-tap report reaches Sophie's sheet.
Two browser contexts (Sophie at 1280×800, Camille's phone at 390×844), in both modes (scale-out: two workers,
the push crossing them through Redis)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DESKTOP, _context
from tests.e2e.journeys import app_login, pick_phone, web_login
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_advisor import advisor_login, open_sheet, search

CAMILLE = "1000000001"
NOBODY = "Personne de votre banque ne vous appelle en ce moment."
SOPHIE_CALLING = "Sophie Lambert (Agence Paris Opéra) vous appelle en ce moment."


@pytest.fixture
def sophie(browser: Browser, server: dict) -> Iterator[Page]:
    """Sophie Lambert (Paris Opéra) on Camille's sheet."""
    context = _context(browser, server["base_url"], DESKTOP)
    page = context.new_page()
    advisor_login(page, "sophie.lambert")
    search(page, CAMILLE)
    open_sheet(page, "Camille Martin")
    yield page
    context.close()


def call_status(page: Page) -> Locator:
    """The live region of « Votre banque vous appelle-t-elle ? »."""
    return page.get_by_role("region", name="Votre banque vous appelle-t-elle ?").get_by_role("status")


def camille_on_her_phone(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    expect(call_status(phone)).to_contain_text(NOBODY)


def test_the_app_says_live_that_sophie_is_calling_then_that_nobody_is(sophie: Page, phone: Page,
                                                                       desktop: Page) -> None:
    camille_on_her_phone(phone)
    web_login(desktop, CAMILLE)  # the web customer area says it too
    expect(call_status(desktop)).to_contain_text(NOBODY)

    sophie.get_by_role("button", name="Appeler le client").click()
    expect(sophie.get_by_role("region", name="Appel du client")).to_contain_text("son application affiche votre appel")
    # Camille's phone and her web page follow by themselves.
    expect(call_status(phone)).to_contain_text(SOPHIE_CALLING)
    expect(call_status(phone)).to_contain_text("ne communiquez jamais vos codes")
    expect(call_status(desktop)).to_contain_text(SOPHIE_CALLING)
    assert_accessible(phone, "app home, a bank call in progress")
    assert_accessible(sophie, "customer sheet, calling")

    sophie.get_by_role("button", name="Raccrocher").click()
    expect(sophie.get_by_role("button", name="Appeler le client")).to_be_visible()
    expect(call_status(phone)).to_contain_text(NOBODY)
    expect(call_status(phone)).to_contain_text("raccrochez : c'est un fraudeur")
    expect(call_status(phone)).not_to_contain_text("Sophie Lambert")
    expect(call_status(desktop)).to_contain_text(NOBODY)
    assert_accessible(phone, "app home, nobody calling")


def test_a_call_reported_when_nobody_from_the_bank_calls_alerts_the_sheet(sophie: Page, phone: Page) -> None:
    camille_on_her_phone(phone)
    expect(sophie.locator("#call-alert")).to_have_count(0)
    phone.get_by_role("button", name="Signaler cet appel").click()
    expect(call_status(phone)).to_contain_text("Merci, votre agence est alertée. Raccrochez")
    expect(phone.get_by_role("button", name="Signaler cet appel")).to_have_count(0)  # one tap, done
    # Seconds later, on Sophie's open sheet, without reload: the alert, the warning, the timeline.
    alert = sophie.get_by_role("alert").filter(has_text="Alerte : appel signalé par le client")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("probable faux conseiller")
    expect(sophie.locator("#vigilance")).to_contain_text("possible faux conseiller")
    expect(sophie.locator("#timeline")).to_contain_text("ALERTE : appel signalé comme suspect par le client")
    assert_accessible(sophie, "customer sheet, call reported")


def test_the_call_in_progress_reported_as_suspicious(sophie: Page, phone: Page) -> None:
    camille_on_her_phone(phone)
    sophie.get_by_role("button", name="Appeler le client").click()
    expect(call_status(phone)).to_contain_text(SOPHIE_CALLING)
    phone.get_by_role("button", name="Signaler cet appel").click()
    expect(call_status(phone)).to_contain_text("Merci, votre signalement est transmis à votre agence.")
    section = sophie.get_by_role("region", name="Appel du client")
    expect(section).to_contain_text("Le client a signalé cet appel comme suspect.")
    expect(sophie.get_by_role("alert").filter(has_text=re.compile("pendant l'appel de Sophie Lambert"))).to_be_visible()
    # The call goes on until Sophie hangs up; then the app says nobody is calling, and offers the report again.
    sophie.get_by_role("button", name="Raccrocher").click()
    expect(call_status(phone)).to_contain_text(NOBODY)
    expect(phone.get_by_role("button", name="Signaler cet appel")).to_be_visible()


def test_another_advisor_sees_the_call_and_cannot_hang_up(browser: Browser, server: dict, sophie: Page,
                                                          phone: Page) -> None:
    camille_on_her_phone(phone)
    sophie.get_by_role("button", name="Appeler le client").click()
    expect(call_status(phone)).to_contain_text(SOPHIE_CALLING)
    context = _context(browser, server["base_url"], DESKTOP)
    nadia = context.new_page()
    advisor_login(nadia, "nadia.benali")
    search(nadia, CAMILLE)
    open_sheet(nadia, "Camille Martin")
    section = nadia.get_by_role("region", name="Appel du client")
    expect(section).to_contain_text("Sophie Lambert est en ligne avec le client depuis")
    expect(section.get_by_role("button")).to_have_count(0)  # neither « Appeler » nor « Raccrocher »
    # Sophie hangs up: Nadia's open sheet follows too.
    sophie.get_by_role("button", name="Raccrocher").click()
    expect(section.get_by_role("button", name="Appeler le client")).to_be_visible()
    context.close()


def test_the_app_in_english_at_desktop_size_with_the_keyboard(browser: Browser, server: dict, sophie: Page) -> None:
    """The same status in English, on the app at 1280×800; the report reached with the keyboard alone."""
    context = _context(browser, server["base_url"], DESKTOP)
    app = context.new_page()
    pick_phone(app, "Smartphone de Camille Martin")
    app.get_by_role("button", name="Switch to English").click()
    app.get_by_label("Identifier").fill(CAMILLE)
    app.get_by_label("Password").fill("Demo1234!")
    app.get_by_role("button", name="Sign in").click()
    status = app.get_by_role("region", name="Is your bank calling you?").get_by_role("status")
    expect(status).to_contain_text("Nobody from your bank is calling you right now.")
    sophie.get_by_role("button", name="Appeler le client").click()
    expect(status).to_contain_text("Sophie Lambert (Agence Paris Opéra) is calling you right now.")
    report = app.get_by_role("button", name="Report this call")
    report.focus()
    app.keyboard.press("Enter")
    expect(status).to_contain_text("Thank you, your report has been passed on to your branch.")
    expect(sophie.get_by_role("region", name="Appel du client")).to_contain_text("Le client a signalé cet appel")
    assert_accessible(app, "app home in English at 1280×800, call reported")
    context.close()
