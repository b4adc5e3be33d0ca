"""J2: the whole change in the app alone, at 390×844 (no step 4: the approval opens in the app)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.journeys import SUCCESS, app_login, approval_shown, approve, enter_and_confirm, pick_phone


def test_j2_change_in_the_app(phone: Page, inbox: Page) -> None:
    pick_phone(phone, "Smartphone de Julien Petit")
    app_login(phone, "1000000002")
    expect(phone.get_by_text("06 •• •• •• 89")).to_be_visible()
    enter_and_confirm(phone, "07 81 22 33 44")
    approval_shown(phone, "07 81 22 33 44")
    approve(phone)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()
    expect(phone.get_by_text("07 •• •• •• 44").first).to_be_visible()
    inbox.goto("/demo/messages")
    old = inbox.get_by_role("region", name="06 23 45 67 89")
    expect(old).to_contain_text("l'application mobile", timeout=5000)
    expect(inbox.get_by_role("region", name="julien.petit@example.fr")).to_contain_text("a été modifié")


def test_the_phone_choice_sticks_until_changed(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Julien Petit")
    phone.reload()
    expect(phone.get_by_text("Smartphone de Julien Petit")).to_be_visible()
    expect(phone.get_by_label("Identifiant")).to_be_visible()
    phone.get_by_role("button", name="Changer de smartphone").click()
    expect(phone.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()


def test_another_customers_phone_cannot_approve(phone: Page) -> None:
    """Camille's phone with Julien's login is not Julien's Sécur'Pass device."""
    pick_phone(phone, "Smartphone de Camille Martin")
    from tests.e2e.journeys import login

    login(phone, "1000000002")
    expect(phone.get_by_role("heading", name="Sécur'Pass n'est pas activé sur ce smartphone")).to_be_visible()


def test_wrong_password_is_refused_without_saying_which_field(phone: Page) -> None:
    pick_phone(phone, "Smartphone de Julien Petit")
    from tests.e2e.journeys import login

    login(phone, "1000000002", "wrong-password")
    expect(phone.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect")
