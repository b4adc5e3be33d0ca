"""Issue 3: every persona of §3 ends where the table says, on the web and in the app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from secure_phone.adapters import db
from secure_phone.adapters.models import ContactRequest, Customer
from tests.e2e.journeys import (
    APPROVAL_TITLE,
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    enter_and_confirm,
    login,
    pick_phone,
    web_login,
)

ADVISOR_TITLE = "Contacter votre conseiller"

INELIGIBLE = [
    ("1000000004", "Smartphone de Léa Bernard", "Vous êtes mineur"),
    ("1000000008", None, "personne morale"),
    ("1000000009", "Smartphone de Marc Lefèvre", "mesure de protection"),
    ("1000000005", None, "Téléchargez l'application mobile et activez Sécur'Pass"),
]


def contact_requests(server: dict, identifier: str) -> list[ContactRequest]:
    with Session(db.get_engine(server["db_url"])) as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).one()
        return list(session.exec(select(ContactRequest).where(ContactRequest.customer_id == customer.id)))


def sms_code(inbox: Page, national: str) -> str:
    """The last 8-digit code the number received, read where the customer reads it."""
    inbox.goto("/demo/messages")
    box = inbox.get_by_role("region", name=national)
    expect(box).to_contain_text("code", timeout=5000)
    match = re.search(r"\b(\d{8})\b", box.locator("li").first.inner_text())
    assert match, "no code in the SMS"
    return match.group(1)


def ask_callback(page: Page) -> None:
    expect(page.get_by_role("heading", name=ADVISOR_TITLE)).to_be_visible()
    expect(page.get_by_text("ne vous demandera jamais de valider")).to_be_visible()
    page.get_by_role("button", name="Être rappelé par mon conseiller").click()
    expect(page.get_by_text("votre conseiller vous rappellera")).to_be_visible()


@pytest.mark.parametrize(("identifier", "_phone", "reason"), INELIGIBLE, ids=["minor", "legal", "protected",
                                                                              "no-securpass"])
def test_ineligible_on_the_web_are_sent_to_the_advisor(desktop: Page, server: dict, identifier: str, _phone: str,
                                                       reason: str) -> None:
    web_login(desktop, identifier)
    expect(desktop.get_by_text(reason)).to_be_visible()
    expect(desktop.get_by_role("button", name="Modifier le téléphone mobile sécurisé")).to_have_count(0)
    desktop.get_by_role("button", name="Contacter mon conseiller").click()
    expect(desktop.get_by_text(re.compile(r"^Agence (Paris Opéra|Lyon Bellecour)$"))).to_be_visible()
    ask_callback(desktop)
    [request] = contact_requests(server, identifier)
    assert request.reason.startswith("ineligible.") and request.channel == "web" and request.status == "open"


@pytest.mark.parametrize(("identifier", "phone_label", "reason"), [INELIGIBLE[0], INELIGIBLE[2]], ids=["minor",
                                                                                                       "protected"])
def test_ineligible_in_the_app_are_sent_to_the_advisor(phone: Page, server: dict, identifier: str, phone_label: str,
                                                       reason: str) -> None:
    pick_phone(phone, phone_label)
    app_login(phone, identifier)
    expect(phone.get_by_text(reason)).to_be_visible()
    phone.get_by_role("button", name="Contacter mon conseiller").click()
    ask_callback(phone)
    assert [r.channel for r in contact_requests(server, identifier)] == ["app"]


def test_emancipated_minor_changes_her_number(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Inès Garnier")
    app_login(phone, "1000000003")
    enter_and_confirm(phone, "07 66 55 44 33")
    approval_shown(phone, "07 66 55 44 33")
    approve(phone)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()


def test_chloe_j3_cancels_at_step_4_and_reaches_the_advisor(desktop: Page, server: dict) -> None:
    web_login(desktop, "1000000006")
    enter_and_confirm(desktop, "07 98 76 54 32")
    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    desktop.get_by_role("button", name="Annuler").click()
    expect(desktop.get_by_role("heading", name="Demande annulée. Votre numéro n'a pas changé.")).to_be_visible()
    desktop.get_by_role("button", name="Activer Sécur'Pass sur mon nouveau smartphone").click()
    expect(desktop.get_by_role("heading", name="Activer Sécur'Pass sur votre nouveau smartphone")).to_be_visible()
    expect(desktop.get_by_text("06 •• •• •• 23")).to_be_visible()
    desktop.get_by_role("button", name="Je n'ai plus accès à ce numéro").click()
    ask_callback(desktop)
    [request] = contact_requests(server, "1000000006")
    assert request.reason == "changed_phone" and request.last_request_id


def test_chloe_on_a_new_phone_cannot_approve_and_reaches_the_advisor(phone: Page, desktop: Page, server: dict) -> None:
    pick_phone(phone, "Nouveau smartphone")
    login(phone, "1000000006")
    expect(phone.get_by_role("heading", name="Activez Sécur'Pass sur ce smartphone")).to_be_visible()
    expect(phone.get_by_text("06 •• •• •• 23")).to_be_visible()
    # A request started on the web never reaches this phone.
    web_login(desktop, "1000000006")
    enter_and_confirm(desktop, "07 98 76 54 32")
    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    phone.wait_for_timeout(1500)
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_have_count(0)
    phone.get_by_role("button", name="Ce n'est plus mon numéro").click()
    ask_callback(phone)
    [request] = contact_requests(server, "1000000006")
    assert request.reason == "not_my_number" and request.channel == "app"


def test_j4_activation_on_a_new_phone_moves_securpass(phone: Page, inbox: Page, browser, server: dict) -> None:
    old = browser.new_context(base_url=server["base_url"], viewport={"width": 390, "height": 844}).new_page()
    pick_phone(old, "Smartphone de Camille Martin")
    pick_phone(phone, "Nouveau smartphone")
    login(phone, "1000000001")
    phone.get_by_role("button", name="Recevoir le code par SMS").click()
    expect(phone.get_by_role("heading", name="Saisissez le code reçu par SMS")).to_be_visible()
    code = sms_code(inbox, "06 12 34 56 78")
    phone.get_by_label("Code reçu par SMS").fill("00000000")
    phone.get_by_label("Choisissez votre code Sécur'Pass").fill("1357")
    phone.get_by_role("button", name="Activer Sécur'Pass").click()
    expect(phone.get_by_role("alert")).to_contain_text("n'est pas le bon")
    phone.get_by_label("Code reçu par SMS").fill(code)
    phone.get_by_label("Choisissez votre code Sécur'Pass").fill("1357")
    phone.get_by_role("button", name="Activer Sécur'Pass").click()
    expect(phone.get_by_text("Sécur'Pass est activé sur ce smartphone")).to_be_visible()
    # For 72 hours no online change: told why, routed to the advisor.
    expect(phone.get_by_text("pendant 72 heures")).to_be_visible()
    expect(phone.get_by_role("button", name="Modifier le téléphone mobile sécurisé")).to_have_count(0)
    inbox.goto("/demo/messages")
    expect(inbox.get_by_role("region", name="camille.martin@example.fr")).to_contain_text("nouveau smartphone")
    # The old phone's binding is revoked: logging in there is no longer Sécur'Pass.
    old.reload()
    expect(old.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
    old.context.close()


def test_paul_is_asked_to_confirm_his_number_first(desktop: Page, inbox: Page) -> None:
    desktop.goto("/connexion")
    login(desktop, "1000000007")
    expect(desktop.get_by_role("heading", name=re.compile("Votre numéro de mobile sécurisé est-il toujours le"))) \
        .to_be_visible()
    expect(desktop.get_by_text("06 •• •• •• 34")).to_be_visible()
    desktop.get_by_role("button", name="Oui, c'est mon numéro").click()
    code = sms_code(inbox, "06 78 90 12 34")
    desktop.get_by_label("Code reçu par SMS").fill(code)
    desktop.get_by_role("button", name="Confirmer mon numéro").click()
    expect(desktop.get_by_text("votre numéro de mobile sécurisé est confirmé")).to_be_visible()
    desktop.get_by_role("button", name="Se déconnecter").click()
    login(desktop, "1000000007")
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


def test_paul_may_say_later_three_times_in_the_app(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Paul Laurent")
    for _ in range(3):
        login(phone, "1000000007")
        phone.get_by_role("button", name="Plus tard").click()
        expect(phone.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
        phone.get_by_role("button", name="Se déconnecter").click()
    login(phone, "1000000007")
    expect(phone.get_by_role("button", name="Oui, c'est mon numéro")).to_be_visible()
    expect(phone.get_by_role("button", name="Plus tard")).to_have_count(0)
    phone.get_by_role("button", name="Non, je le modifie").click()
    expect(phone.get_by_role("heading", name="Quel est votre nouveau numéro de mobile ?")).to_be_visible()


def test_three_wrong_codes_block_securpass_and_lead_to_the_advisor(desktop: Page, phone: Page, server: dict) -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, "1000000001")
    web_login(desktop, "1000000001")
    enter_and_confirm(desktop, "07 98 76 54 32")
    approval_shown(phone, "07 98 76 54 32")
    approve(phone, "1111")
    expect(phone.get_by_role("alert")).to_contain_text("Validation impossible")
    approve(phone, "2222")
    expect(phone.get_by_role("alert")).to_contain_text("un seul essai")
    approve(phone, "3333")
    expect(phone.get_by_role("heading", name=re.compile("Sécur'Pass est bloqué"))).to_be_visible()
    expect(desktop.get_by_role("heading", name=re.compile("Sécur'Pass est bloqué"))).to_be_visible(timeout=5000)
    desktop.get_by_role("button", name="Contacter mon conseiller").click()
    ask_callback(desktop)
    assert [r.reason for r in contact_requests(server, "1000000001")] == ["securpass_blocked"]
    desktop.get_by_role("button", name="Retour à mes coordonnées").click()
    expect(desktop.get_by_text("Votre Sécur'Pass est bloqué")).to_be_visible()
