"""Issue 4: the advisor back-office — agency scoping, the live fraud warning, four eyes."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.journeys import (
    BRANCH_CODE_LINE,
    app_login,
    approval_shown,
    code_received,
    enter_and_confirm,
    pick_phone,
    web_login,
)
from tests.e2e.test_accessibility import assert_accessible


def advisor_login(page: Page, login: str) -> None:
    page.goto("/conseiller")
    page.get_by_label("Identifiant conseiller").fill(login)
    page.get_by_label("Mot de passe").fill("Demo1234!")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Espace conseiller"))).to_be_visible()


def search(page: Page, text: str) -> None:
    page.get_by_label("Rechercher un client").fill(text)
    page.get_by_role("button", name="Rechercher").click()


def open_sheet(page: Page, name: str) -> None:
    page.get_by_role("button", name=f"Ouvrir la fiche de {name}").click()
    expect(page.get_by_role("heading", name=re.compile(f"^{name}"))).to_be_visible()


def test_an_advisor_sees_only_the_customers_of_the_agency(browser: Browser, server: dict) -> None:
    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    search(sophie, "Martin")
    expect(sophie.get_by_text("Camille Martin")).to_be_visible()
    for text in ("Roux", "1000000008"):
        search(sophie, text)
        expect(sophie.get_by_text("Aucun client de votre agence ne correspond.")).to_be_visible()
    karim = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(karim, "karim.haddad")
    search(karim, "Roux")
    expect(karim.get_by_text("SARL Atelier Roux")).to_be_visible()
    for text in ("Martin", "1000000001"):
        search(karim, text)
        expect(karim.get_by_text("Aucun client de votre agence ne correspond.")).to_be_visible()
    sophie.context.close()
    karim.context.close()


def test_the_fraud_warning_appears_live_and_four_eyes_are_required(
        browser: Browser, server: dict, desktop: Page, phone: Page, inbox: Page) -> None:
    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    search(sophie, "1000000001")
    open_sheet(sophie, "Camille Martin")
    expect(sophie.locator("#vigilance")).to_have_count(0)
    assert_accessible(sophie, "customer sheet")
    # Camille refuses a request she did not make.
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, "1000000001")
    web_login(desktop, "1000000001")
    enter_and_confirm(desktop, "07 98 76 54 32")
    approval_shown(phone, "07 98 76 54 32")
    phone.get_by_role("button", name="Refuser").click()
    phone.get_by_label("Je ne suis pas à l'origine de cette demande").check()
    phone.get_by_role("button", name="Refuser la demande").click()
    # Seconds later, on Sophie's open sheet, without reload:
    warning = sophie.locator("#vigilance")
    expect(warning).to_be_visible(timeout=5000)
    expect(warning).to_contain_text("Je ne suis pas à l'origine de cette demande")
    expect(warning).to_contain_text("Ne jamais modifier le numéro à la demande d'un appelant")
    expect(sophie.locator("#timeline")).to_contain_text("ALERTE")
    assert_accessible(sophie, "customer sheet with warning")
    # The full number is shown on request only.
    number = sophie.locator("dd").filter(has=sophie.get_by_role("button", name="Afficher le numéro complet"))
    expect(number).to_contain_text("06 •• •• •• 78")
    sophie.get_by_role("button", name="Afficher le numéro complet").click()
    expect(sophie.locator("dd").get_by_text("06 12 34 56 78")).to_be_visible()
    # An in-branch change: the identity check is mandatory…
    in_branch = sophie.get_by_role("region", name=re.compile("^Changement en agence"))
    in_branch.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 98 76 54 32")
    in_branch.get_by_role("button", name="Enregistrer le nouveau numéro").click()
    expect(sophie.locator("#error-summary")).to_contain_text("vérification en agence")
    in_branch.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 98 76 54 32")
    in_branch.get_by_label("Numéro de la pièce").fill("X4RTBPFW46")
    in_branch.get_by_label("Le client est présent en agence").check()
    in_branch.get_by_role("button", name="Enregistrer le nouveau numéro").click()
    # …the customer reads out the code the new number received (§12.3)…
    sophie.get_by_label("Code à 6 chiffres").fill(code_received(sophie, "07 98 76 54 32", line=BRANCH_CODE_LINE))
    sophie.get_by_role("button", name="Valider le code").click()
    # …and under a risk signal a second advisor of the agency must validate.
    expect(sophie.get_by_text("un second conseiller de l'agence doit valider")).to_be_visible()
    sophie.get_by_role("button", name="Retour à la recherche").click()
    sophie.get_by_role("button", name="Valider ce changement").click()
    expect(sophie.get_by_role("alert")).to_contain_text("un autre conseiller")
    # The « not me » ended the web session that asked (§12.2): that tab says why.
    expect(desktop.get_by_role("alert")).to_contain_text("Je ne suis pas à l'origine de cette demande")
    nadia = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(nadia, "nadia.benali")
    expect(nadia.get_by_text("Camille Martin")).to_be_visible()
    nadia.get_by_role("button", name="Valider ce changement").click()
    expect(nadia.get_by_role("button", name="Valider ce changement")).to_have_count(0)
    inbox.goto("/demo/messages")
    expect(inbox.get_by_role("region", name="06 12 34 56 78")).to_contain_text("votre agence", timeout=5000)
    search(nadia, "Martin")
    open_sheet(nadia, "Camille Martin")
    expect(nadia.locator("dd").first).to_contain_text("07 •• •• •• 32")
    expect(nadia.locator("#timeline")).to_contain_text("Validation par un second conseiller")
    sophie.context.close()
    nadia.context.close()


def test_the_call_back_queue(browser: Browser, server: dict, desktop: Page) -> None:
    web_login(desktop, "1000000004")
    desktop.get_by_role("button", name="Contacter mon conseiller").click()
    desktop.get_by_role("button", name="Être rappelé par mon conseiller").click()
    expect(desktop.get_by_text("votre conseiller vous rappellera")).to_be_visible()
    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    queue = sophie.get_by_role("region", name="Demandes de rappel")
    expect(queue).to_contain_text("Léa Bernard")
    expect(queue).to_contain_text("mineur")
    assert_accessible(sophie, "advisor home")
    queue.get_by_role("button", name="Prendre").click()
    expect(queue).to_contain_text("Prise par Sophie Lambert")
    queue.get_by_label("Note").fill("Rappelée, rendez-vous en agence jeudi")
    queue.get_by_role("button", name="Clore").click()
    expect(queue).to_contain_text("Aucune demande en attente.")
    sophie.context.close()
