"""J1 on the web with the phone in another browser context (J5), and its variants."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.journeys import (
    APPROVAL_TITLE,
    CODE,
    PROOF_TITLE,
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    code_received,
    enter_and_confirm,
    login,
    pick_phone,
    web_login,
)

CAMILLE = "1000000001"


def _camille_waiting(desktop: Page, phone: Page, number: str = "07 98 76 54 32") -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    web_login(desktop, CAMILLE)
    expect(desktop.get_by_text("06 •• •• •• 78")).to_be_visible()
    enter_and_confirm(desktop, number)
    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    approval_shown(phone, number)


def test_j1_change_on_the_web_approved_on_the_phone(desktop: Page, phone: Page, inbox: Page) -> None:
    _camille_waiting(desktop, phone)
    expect(desktop.get_by_text("Temps restant")).to_be_visible()
    expect(desktop.locator("[data-countdown-until]")).not_to_have_text("5:00", timeout=4000)  # it counts down
    approve(phone)
    # The web page changes by itself (no reload) when the phone answers.
    expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_visible(timeout=5000)
    expect(desktop.get_by_text("07 •• •• •• 32").first).to_be_visible()
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()
    desktop.get_by_role("button", name="Retour à mes coordonnées").click()
    expect(desktop.get_by_text("07 •• •• •• 32")).to_be_visible()
    desktop.reload()
    expect(desktop.get_by_text("07 •• •• •• 32")).to_be_visible()
    # The email to Camille and the SMS to the OLD number arrive within 5 s (plus the welcome SMS).
    inbox.goto("/demo/messages")
    old = inbox.get_by_role("region", name="06 12 34 56 78")
    expect(old).to_contain_text("remplacé par •• •• •• •• 32", timeout=5000)
    expect(old).to_contain_text("l'espace client web")
    mail = inbox.get_by_role("region", name="camille.martin@example.fr")
    expect(mail).to_contain_text("Votre numéro de mobile sécurisé a été modifié")
    # It crossed SMTP: the local receiver filed it with its session (text and HTML parts).
    expect(mail).to_contain_text("Arrivé par SMTP, session")
    expect(mail).to_contain_text("(texte et HTML)")
    expect(mail).to_contain_text("RCPT TO <camille.martin@example.fr>")
    expect(inbox.get_by_role("region", name="07 98 76 54 32")).to_contain_text("désormais votre numéro")


def test_wrong_code_then_right_code(desktop: Page, phone: Page) -> None:
    _camille_waiting(desktop, phone)
    approve(phone, "1111")
    expect(phone.get_by_role("alert")).to_contain_text("Validation impossible")
    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    approval_shown(phone, "07 98 76 54 32")
    approve(phone, CODE)
    expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_visible(timeout=5000)


def test_two_wrong_codes_warn_before_the_last_try(desktop: Page, phone: Page) -> None:
    _camille_waiting(desktop, phone)
    approve(phone, "1111")
    expect(phone.get_by_role("alert")).to_contain_text("Validation impossible")
    approve(phone, "2222")
    expect(phone.get_by_role("alert")).to_contain_text("un seul essai")


def test_refusal_not_me(desktop: Page, phone: Page) -> None:
    _camille_waiting(desktop, phone)
    phone.get_by_role("button", name="Refuser").click()
    phone.get_by_label("Je ne suis pas à l'origine de cette demande").check()
    phone.get_by_role("button", name="Refuser la demande").click()
    expect(phone.get_by_role("heading", name=re.compile("Votre conseiller est alerté"))).to_be_visible()
    expect(phone.get_by_role("heading", name=re.compile("vos autres sessions ont été fermées"))).to_be_visible()
    # The session that asked for the change is a fraudster's: it ends, and the page says why (§12.2).
    expect(desktop.get_by_role("alert")).to_contain_text("Je ne suis pas à l'origine de cette demande",
                                                         timeout=5000)
    expect(desktop.get_by_label("Identifiant")).to_be_visible()
    # Logging in again, no change can be started online until an advisor clears it.
    login(desktop, CAMILLE)
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    expect(desktop.get_by_text("Les changements en ligne sont suspendus")).to_be_visible()
    expect(desktop.get_by_role("button", name=re.compile("^Modifier"))).to_have_count(0)


def test_refusal_changed_mind(desktop: Page, phone: Page) -> None:
    _camille_waiting(desktop, phone)
    phone.get_by_role("button", name="Refuser").click()
    phone.get_by_label("J'ai changé d'avis").check()
    phone.get_by_role("button", name="Refuser la demande").click()
    expect(phone.get_by_role("heading", name="Demande refusée. Votre numéro n'a pas changé.")).to_be_visible()
    expect(desktop.get_by_role("heading", name=re.compile("refusée sur votre smartphone"))).to_be_visible(timeout=5000)


def test_cancel_at_step_4_kills_the_request_on_the_phone(desktop: Page, phone: Page) -> None:
    _camille_waiting(desktop, phone)
    phone.get_by_label("Code Sécur'Pass").fill(CODE)
    desktop.get_by_role("button", name="Annuler").click()
    expect(desktop.get_by_role("heading", name="Demande annulée. Votre numéro n'a pas changé.")).to_be_visible()
    # The phone's approval screen is withdrawn by itself: the request can no longer be approved.
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_have_count(0, timeout=5000)
    expect(phone.get_by_text("06 •• •• •• 78")).to_be_visible()


def test_j1_with_the_keyboard_alone(desktop: Page, phone: Page) -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    desktop.goto("/connexion")
    desktop.locator("body").focus()

    def tab_to(name: str) -> None:
        for _ in range(25):
            desktop.keyboard.press("Tab")
            focused = desktop.evaluate("() => { const a = document.activeElement; return a && (a.getAttribute("
                                       "'aria-label') || a.innerText || a.labels?.[0]?.innerText || '').trim(); }")
            if focused.startswith(name):
                return
        raise AssertionError(f"{name!r} not reachable with Tab")

    tab_to("Identifiant")
    desktop.keyboard.type(CAMILLE)
    tab_to("Mot de passe")
    desktop.keyboard.type("Demo1234!")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    tab_to("Modifier")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Quel est votre nouveau numéro de mobile ?")).to_be_focused()
    tab_to("Nouveau numéro")
    desktop.keyboard.type("0798765432")
    expect(desktop.get_by_label("Nouveau numéro de mobile sécurisé")).to_have_value("07 98 76 54 32")
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_focused()
    tab_to("Confirmer")
    desktop.keyboard.press("Space")
    expect(desktop.get_by_role("heading", name=PROOF_TITLE)).to_be_focused()
    code = code_received(desktop, "07 98 76 54 32")
    desktop.get_by_role("heading", name=PROOF_TITLE).focus()
    tab_to("Code à 6 chiffres")
    desktop.keyboard.type(code)
    desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", name="Validez sur votre smartphone")).to_be_focused()
    approval_shown(phone, "07 98 76 54 32")
    approve(phone)
    expect(desktop.get_by_role("heading", name=SUCCESS)).to_be_focused(timeout=5000)


def test_invalid_numbers_get_a_message_that_says_how_to_fix(desktop: Page) -> None:
    web_login(desktop, CAMILLE)
    desktop.get_by_role("button", name=re.compile("^Modifier")).click()
    field = desktop.get_by_label("Nouveau numéro de mobile sécurisé")
    cases = [
        ("01 42 68 00 00", "ligne fixe"),
        ("09 12 34 56 78", "09"),
        ("06 12 34 56 78", "C'est déjà votre numéro de mobile sécurisé"),
        ("bonjour", "Saisissez un numéro de téléphone"),
        ("06 23 45 67 89", "ne peut pas être enregistré"),  # Julien's secure number: generic message
        ("+1 202 555 0143", "pays n'est pas accepté"),
    ]
    for value, message in cases:
        field.fill(value)
        desktop.get_by_role("button", name="Continuer").click()
        expect(desktop.locator("#error-summary")).to_contain_text(message)
        expect(desktop.locator("#error-summary")).to_be_focused()
        expect(field).to_have_attribute("aria-invalid", "true")
    # Réunion mobile typed as its owner types it, France selected.
    field.fill("0692 12 34 56")
    desktop.get_by_role("button", name="Continuer").click()
    expect(desktop.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_visible()
    expect(desktop.locator("#confirm-number")).to_have_text("06 92 12 34 56")
