"""Steps of the journeys as a customer does them, found by role and accessible name."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PASSWORD = "Demo1234!"
CODE = "4827"
SUCCESS = "Votre nouveau numéro de mobile sécurisé est enregistré."
APPROVAL_TITLE = "Changement de numéro de mobile sécurisé"


def pick_phone(phone: Page, label: str) -> None:
    """Demo shortcut: this browser becomes the persona's enrolled phone (or a new one)."""
    phone.goto("/app")
    phone.get_by_role("button", name=label).click()
    expect(phone.get_by_label("Identifiant")).to_be_visible()


def login(page: Page, identifier: str, password: str = PASSWORD) -> None:
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def web_login(desktop: Page, identifier: str) -> None:
    desktop.goto("/connexion")
    login(desktop, identifier)
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


def app_login(phone: Page, identifier: str) -> None:
    login(phone, identifier)
    expect(phone.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


PROOF_TITLE = re.compile("^Saisissez le code reçu au")
CODE_LINE = re.compile(r"@[\w.-]+ #(\d{6})")


def enter_and_confirm(page: Page, number: str, prove: bool = True) -> None:
    """Steps 1–3: « Modifier », the new number, « Continuer », « Confirmer »; then (``prove``) the code the
    new number received, read in the demo inbox as its holder would (§12.3)."""
    page.get_by_role("button", name=re.compile("^Modifier")).click()
    page.get_by_label("Nouveau numéro de mobile sécurisé").fill(number)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_visible()
    page.get_by_role("button", name="Confirmer").click()
    if prove:
        prove_number(page, number)


BRANCH_CODE_LINE = re.compile(r"numéro de mobile sécurisé est (\d{6})\. Donnez-le")
"""The in-branch proof SMS: the customer reads the code out to the advisor (no origin line: no browser fills it)."""


def code_received(page: Page, number: str, newer_than: str | None = None, line: re.Pattern = CODE_LINE) -> str:
    """The code of the newest SMS that ``number`` (as typed, national) received, read on /demo/messages in
    another tab of the same browser (``newer_than``: wait for a code other than that one; ``line``: the
    pattern of the code's line)."""
    national = " ".join(re.sub(r"\D", "", number)[i:i + 2] for i in range(0, 10, 2))
    inbox = page.context.new_page()
    try:
        inbox.goto("/demo/messages")
        box = inbox.get_by_role("region", name=national)
        for _ in range(100):
            texts = box.locator(".message").all_inner_texts() if box.count() else []
            codes = [m[1] for m in (line.search(t) for t in texts) if m]
            if codes and codes[0] != newer_than:
                return codes[0]
            inbox.wait_for_timeout(100)
        raise AssertionError(f"no code received on {national}")
    finally:
        inbox.close()


def prove_number(page: Page, number: str, code: str | None = None) -> None:
    """§12.3: type the code the new number received, « Valider le code »."""
    expect(page.get_by_role("heading", name=PROOF_TITLE)).to_be_visible()
    page.get_by_label("Code à 6 chiffres").fill(code or code_received(page, number))
    page.get_by_role("button", name="Valider le code").click()


def approval_shown(phone: Page, national: str) -> None:
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    expect(phone.locator("#approval-number")).to_have_text(national)


def approve(phone: Page, code: str = CODE) -> None:
    phone.get_by_label("Code Sécur'Pass").fill(code)
    phone.get_by_role("button", name="Valider").click()
