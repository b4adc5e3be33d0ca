"""English is complete and the switch is on every screen."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.journeys import code_received, pick_phone


def test_switch_to_english_and_back(desktop: Page) -> None:
    desktop.goto("/connexion")
    desktop.get_by_role("button", name="Switch to English").click()
    expect(desktop.get_by_role("heading", name="Sign in to your customer area")).to_be_visible()
    expect(desktop.locator("html")).to_have_attribute("lang", "en")
    desktop.get_by_label("Identifier").fill("1000000001")
    desktop.get_by_label("Password").fill("Demo1234!")
    desktop.get_by_role("button", name="Sign in").click()
    expect(desktop.get_by_role("heading", name="My details")).to_be_visible()
    desktop.get_by_role("button", name="Change the secure mobile phone").click()
    expect(desktop.get_by_role("heading", name="What is your new mobile number?")).to_be_visible()
    desktop.get_by_role("button", name="Passer en français").click()
    expect(desktop.get_by_role("heading", name="Quel est votre nouveau numéro de mobile ?")).to_be_visible()


def test_an_approval_signed_in_english(phone: Page) -> None:
    """The phone signs the text it shows, in the language it shows it."""
    pick_phone(phone, "Smartphone de Julien Petit")
    phone.get_by_role("button", name="Switch to English").click()
    phone.get_by_label("Identifier").fill("1000000002")
    phone.get_by_label("Password").fill("Demo1234!")
    phone.get_by_role("button", name="Sign in").click()
    phone.get_by_role("button", name="Change the secure mobile phone").click()
    phone.get_by_label("New secure mobile number").fill("07 81 22 33 44")
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("button", name="Confirm").click()
    phone.get_by_label("6-digit code").fill(code_received(phone, "07 81 22 33 44"))  # §12.3, in English too
    phone.get_by_role("button", name="Confirm the code").click()
    expect(phone.get_by_role("heading", name="Change of secure mobile number")).to_be_visible()
    expect(phone.locator("#securpass-challenge")).to_contain_text("New number: 07 81 22 33 44")
    # Switching language while the request is shown re-renders the text to sign.
    phone.get_by_role("button", name="Passer en français").click()
    expect(phone.locator("#securpass-challenge")).to_contain_text("Nouveau numéro : 07 81 22 33 44")
    phone.get_by_role("button", name="Switch to English").click()
    expect(phone.locator("#securpass-challenge")).to_contain_text("New number:")
    phone.get_by_label("Sécur'Pass code").fill("4827")
    phone.get_by_role("button", name="Approve").click()
    expect(phone.get_by_role("heading", name="Your new secure mobile number is registered.")).to_be_visible()
