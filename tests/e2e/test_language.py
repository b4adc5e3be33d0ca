"""English is complete and the switch is on every screen."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.journeys import pick_phone


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


def test_the_approval_text_follows_the_language(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Camille Martin")
    phone.get_by_role("button", name="Switch to English").click()
    expect(phone.get_by_role("heading", name="Sign in to your customer area")).to_be_visible()
