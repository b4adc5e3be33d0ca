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


def enter_and_confirm(page: Page, number: str) -> None:
    """Steps 1–3: « Modifier », the new number, « Continuer », « Confirmer »."""
    page.get_by_role("button", name=re.compile("^Modifier")).click()
    page.get_by_label("Nouveau numéro de mobile sécurisé").fill(number)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_visible()
    page.get_by_role("button", name="Confirmer").click()


def approval_shown(phone: Page, national: str) -> None:
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    expect(phone.locator("#approval-number")).to_have_text(national)


def approve(phone: Page, code: str = CODE) -> None:
    phone.get_by_label("Code Sécur'Pass").fill(code)
    phone.get_by_role("button", name="Valider").click()
