"""§12.3 in the browser: the code to the new number, as Inès lives it; the wrong code, the resend, the
policy switch (a server with ``SECURE_PHONE_NEW_NUMBER_PROOF=0``: the seed's journey exactly)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import SQLModel

from tests.e2e.conftest import DESKTOP, PHONE, SECRET
from tests.e2e.journeys import (
    APPROVAL_TITLE,
    PROOF_TITLE,
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    code_received,
    enter_and_confirm,
    pick_phone,
    prove_number,
    web_login,
)

INES = "1000000003"
NUMBER = "07 81 31 41 59"


def test_ines_proves_her_new_number_before_her_phone_sees_anything(desktop: Page, phone: Page) -> None:
    pick_phone(phone, "Smartphone de Inès Garnier")
    app_login(phone, INES)
    web_login(desktop, INES)
    enter_and_confirm(desktop, NUMBER, prove=False)
    expect(desktop.get_by_role("heading", name=PROOF_TITLE)).to_be_focused()
    expect(desktop.locator("#proof-number")).to_have_text(NUMBER)
    expect(desktop.locator("li.step")).to_have_count(5)
    expect(desktop.locator("li.step.current")).to_contain_text("Code")
    field = desktop.get_by_label("Code à 6 chiffres")
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    # The SMS to the new number ends with the origin-bound line; the phone shows no approval meanwhile.
    inbox = desktop.context.new_page()
    inbox.goto("/demo/messages")
    sms = inbox.get_by_role("region", name=NUMBER).locator(".message").first
    expect(sms).to_contain_text(re.compile(r"@(localhost|127\.0\.0\.1) #\d{6}"))
    inbox.close()
    phone.wait_for_timeout(1000)
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_have_count(0)

    code = code_received(desktop, NUMBER)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    prove_number(desktop, NUMBER, wrong)
    expect(desktop.locator("#error-summary")).to_contain_text("Ce code n'est pas le bon")
    expect(desktop.locator("#proof-tries")).to_contain_text("2")
    # « Renvoyer le code »: a new code, the previous one no longer works.
    desktop.get_by_role("button", name="Renvoyer le code").click()
    expect(desktop.get_by_text("Un nouveau code vient d'être envoyé")).to_be_visible()
    fresh = code_received(desktop, NUMBER, newer_than=code)
    desktop.get_by_label("Code à 6 chiffres").click()
    desktop.keyboard.insert_text(fresh)  # pasting works as typing does
    desktop.get_by_role("button", name="Valider le code").click()

    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    approval_shown(phone, NUMBER)
    approve(phone)
    expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_visible()


def test_in_the_app_the_code_comes_before_the_approval(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Julien Petit")
    app_login(phone, "1000000002")
    enter_and_confirm(phone, "07 81 22 33 44", prove=False)
    expect(phone.get_by_role("heading", name=PROOF_TITLE)).to_be_visible()
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_have_count(0)
    prove_number(phone, "07 81 22 33 44")
    approval_shown(phone, "07 81 22 33 44")
    approve(phone)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()


def test_with_the_switch_off_confirmer_goes_straight_to_the_phone(browser: Browser, seed_journey_server: dict,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from secure_phone import settings
    from secure_phone.adapters import db
    from secure_phone.seed import seed

    monkeypatch.setenv("SECURE_PHONE_SECRET", SECRET)
    settings.secret_key.cache_clear()
    with db.get_engine(seed_journey_server["db_url"]).begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
    seed(seed_journey_server["db_url"])
    settings.secret_key.cache_clear()
    contexts = [browser.new_context(base_url=seed_journey_server["base_url"], viewport=viewport, locale="fr-FR")
                for viewport in (DESKTOP, PHONE)]
    try:
        desktop, phone = (c.new_page() for c in contexts)
        pick_phone(phone, "Smartphone de Camille Martin")
        app_login(phone, "1000000001")
        web_login(desktop, "1000000001")
        enter_and_confirm(desktop, "07 98 76 54 32", prove=False)
        expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
        expect(desktop.locator("li.step")).to_have_count(4)  # no step « Code »
        approval_shown(phone, "07 98 76 54 32")
        approve(phone)
        expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_visible()
    finally:
        for context in contexts:
            context.close()
