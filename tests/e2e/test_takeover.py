"""Nobody but the customer moves the number or Sécur'Pass (PRODUCT.md §12.1, §12.2), as users meet it.

* F1: Camille, talked into approving a change to the fraudster's number, keeps her Sécur'Pass: on a new phone
  the app sends her (or anyone with her password) to the advisor, no code reaches the new number, and the
  previous number is told about the attempt.
* A « not me » on the phone logs the tab that asked out; online changes stay frozen until two advisors of
  the agency clear it, in branch, from the customer's sheet.
* With ``SECURE_PHONE_DEMO=0`` the demo surfaces do not exist: no phone picker, no demo inboxes.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Customer, Device, SmsCode
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.journeys import (
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    enter_and_confirm,
    login,
    pick_phone,
    web_login,
)
from tests.e2e.test_advisor import advisor_login, open_sheet, search

CAMILLE, JULIEN = "1000000001", "1000000002"
NEW_NUMBER = "07 98 76 54 32"


def customer(server: dict, identifier: str) -> Customer:
    with read_only(server["db_url"]) as s:
        return s.exec(select(Customer).where(Customer.identifier == identifier)).one()


def test_after_a_change_a_new_phone_cannot_take_securpass(browser: Browser, server: dict, desktop: Page,
                                                          phone: Page, inbox: Page) -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    web_login(desktop, CAMILLE)
    enter_and_confirm(desktop, NEW_NUMBER)
    approval_shown(phone, NEW_NUMBER)
    approve(phone)
    expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_visible(timeout=5000)

    # Two minutes later, someone with her password on a « Nouveau smartphone ».
    fraudster = browser.new_context(base_url=server["base_url"], viewport=PHONE, locale="fr-FR").new_page()
    pick_phone(fraudster, "Nouveau smartphone")
    login(fraudster, CAMILLE)
    expect(fraudster.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
    expect(fraudster.get_by_role("alert")).to_contain_text("modifié il y a moins de 72 heures")
    expect(fraudster.get_by_role("button", name="Recevoir le code par SMS")).to_have_count(0)

    inbox.goto("/demo/messages")
    old = inbox.get_by_role("region", name="06 12 34 56 78")
    expect(old).to_contain_text("tenté d'activer Sécur'Pass", timeout=5000)
    new = inbox.get_by_role("region", name=NEW_NUMBER)
    expect(new).to_be_visible()
    expect(new).to_contain_text("désormais votre numéro de mobile sécurisé")  # the welcome SMS…
    expect(new).not_to_contain_text(re.compile(r"\d{8}"))  # …and no activation code
    with read_only(server["db_url"]) as s:
        assert s.exec(select(SmsCode).where(SmsCode.purpose != "new_number")).all() == []  # no activation code
    assert customer(server, CAMILLE).securpass_status == "active"
    fraudster.context.close()


def test_not_me_logs_the_asking_tab_out_until_two_advisors_clear_it(browser: Browser, server: dict,
                                                                     desktop: Page, phone: Page) -> None:
    pick_phone(phone, "Smartphone de Julien Petit")
    app_login(phone, JULIEN)
    web_login(desktop, JULIEN)
    enter_and_confirm(desktop, NEW_NUMBER)
    approval_shown(phone, NEW_NUMBER)
    phone.get_by_role("button", name="Refuser").click()
    phone.get_by_label("Je ne suis pas à l'origine de cette demande").check()
    phone.get_by_role("button", name="Refuser la demande").click()
    expect(phone.get_by_role("heading", name=re.compile("vos autres sessions ont été fermées"))).to_be_visible()

    expect(desktop.get_by_role("alert")).to_contain_text("Je ne suis pas à l'origine de cette demande", timeout=5000)
    login(desktop, JULIEN)
    expect(desktop.get_by_text("Les changements en ligne sont suspendus")).to_be_visible()
    expect(desktop.get_by_role("button", name=re.compile("^Modifier"))).to_have_count(0)

    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    search(sophie, "Petit")
    open_sheet(sophie, "Julien Petit")
    expect(sophie.get_by_text("gelés après un refus")).to_be_visible()
    operations = sophie.get_by_role("region", name="Sécur'Pass, gel et sessions")
    operations.get_by_label("Opération").select_option("clear_freeze")
    operations.get_by_label("Numéro de la pièce").fill("X4RTBPFW46")
    operations.get_by_label("Le client est présent en agence").check()
    operations.get_by_role("button", name="Effectuer l'opération").click()
    expect(operations.get_by_role("status")).to_contain_text("un second conseiller")
    assert customer(server, JULIEN).frozen_at is not None
    nadia = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(nadia, "nadia.benali")
    nadia.get_by_role("button", name="Valider ce changement").click()
    expect(nadia.get_by_role("button", name="Valider ce changement")).to_have_count(0)
    assert customer(server, JULIEN).frozen_at is None

    desktop.reload()
    expect(desktop.get_by_role("button", name=re.compile("^Modifier"))).to_be_visible()
    sophie.context.close()
    nadia.context.close()


def test_without_demo_mode_there_is_no_picker_and_no_demo_inbox(browser: Browser, demo_off_server: dict) -> None:
    base = demo_off_server["base_url"]
    assert httpx.get(f"{base}/demo/messages", timeout=10).status_code == 404
    assert httpx.get(f"{base}/demo/messages/", timeout=10, follow_redirects=True).status_code == 404
    context = browser.new_context(base_url=base, viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("link", name=re.compile("SMS et e-mails reçus"))).to_have_count(0)
    page.goto("/app")
    # The app's first start registers this phone itself: straight to the login, no phone to pick up.
    expect(page.get_by_label("Identifiant")).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name=re.compile("^Smartphone de"))).to_have_count(0)
    expect(page.get_by_role("button", name="Changer de smartphone")).to_have_count(0)
    device_id = page.evaluate("() => localStorage.getItem('sp_device')")
    with read_only(demo_off_server["db_url"]) as s:
        device = s.get(Device, device_id)
        assert device is not None and (device.status, device.customer_id, device.demo) == ("unenrolled", None, False)
        assert s.exec(select(Customer)).all() == []  # no persona seeded
    context.close()
