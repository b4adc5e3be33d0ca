"""axe scan of every screen of J1, J2 and J5 at both viewports: no serious or critical violation."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.journeys import (
    APPROVAL_TITLE,
    PROOF_TITLE,
    app_login,
    approve,
    enter_and_confirm,
    pick_phone,
    prove_number,
    web_login,
)

AXE = Axe()
WCAG22_AA = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]}}
"""axe's options: WCAG 2.0, 2.1 and 2.2 A and AA (target size 2.5.8 included) and axe's best practices."""


def assert_accessible(page: Page, screen: str) -> None:
    results = AXE.run(page, options=WCAG22_AA)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{screen}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_j1_screens(browser: Browser, server: dict, phone: Page, viewport: dict) -> None:
    context = browser.new_context(base_url=server["base_url"], viewport=viewport)
    web = context.new_page()
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, "1000000001")
    for path in ("/", "/connexion", "/demo/messages"):
        web.goto(path)
        web.wait_for_load_state("networkidle")
        assert_accessible(web, path)
    web_login(web, "1000000001")
    assert_accessible(web, "overview")
    web.get_by_role("button", name="Modifier le téléphone mobile sécurisé").click()
    web.get_by_label("Nouveau numéro de mobile sécurisé").fill("01 42 68 00 00")
    web.get_by_role("button", name="Continuer").click()
    expect(web.locator("#error-summary")).to_be_visible()
    assert_accessible(web, "number with error")
    web.get_by_role("button", name="Annuler").click()
    enter_and_confirm(web, "07 98 76 54 32", prove=False)
    expect(web.get_by_role("heading", name=PROOF_TITLE)).to_be_visible()
    assert_accessible(web, "new number's code")
    prove_number(web, "07 98 76 54 32", "000000")
    expect(web.locator("#error-summary")).to_be_visible()
    assert_accessible(web, "new number's code with error")
    prove_number(web, "07 98 76 54 32")
    expect(web.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    assert_accessible(web, "wait")
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    approve(phone)
    expect(web.get_by_role("heading", name="Votre nouveau numéro de mobile sécurisé est enregistré.")).to_be_visible()
    assert_accessible(web, "success")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_j2_and_j5_screens(browser: Browser, server: dict, viewport: dict) -> None:
    context = browser.new_context(base_url=server["base_url"], viewport=viewport)
    app = context.new_page()
    app.goto("/app")
    expect(app.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
    assert_accessible(app, "picker")
    pick_phone(app, "Smartphone de Julien Petit")
    assert_accessible(app, "app login")
    app_login(app, "1000000002")
    assert_accessible(app, "app overview")
    app.get_by_role("button", name="Modifier le téléphone mobile sécurisé").click()
    assert_accessible(app, "app number")
    app.get_by_role("button", name="Annuler").click()
    enter_and_confirm(app, "07 81 22 33 44")
    expect(app.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    assert_accessible(app, "approval")
    approve(app, "0000")
    expect(app.get_by_role("alert")).to_be_visible()
    assert_accessible(app, "approval with error")
    app.get_by_role("button", name="Refuser").click()
    assert_accessible(app, "refusal reasons")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_ways_out_screens(browser: Browser, server: dict, viewport: dict) -> None:
    """J3, J4, J6, J7 and the ineligible overview."""
    from tests.e2e.journeys import login

    context = browser.new_context(base_url=server["base_url"], viewport=viewport)
    page = context.new_page()
    web_login(page, "1000000004")
    assert_accessible(page, "ineligible overview")
    page.get_by_role("button", name="Contacter mon conseiller").click()
    expect(page.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
    assert_accessible(page, "advisor")
    page.get_by_role("button", name="Se déconnecter").click()
    login(page, "1000000007")
    expect(page.get_by_role("button", name="Oui, c'est mon numéro")).to_be_visible()
    assert_accessible(page, "stale prompt")
    page.get_by_role("button", name="Oui, c'est mon numéro").click()
    expect(page.get_by_label("Code reçu par SMS")).to_be_visible()
    assert_accessible(page, "stale code")
    app = context.new_page()
    pick_phone(app, "Nouveau smartphone")
    login(app, "1000000006")
    expect(app.get_by_role("heading", name="Activez Sécur'Pass sur ce smartphone")).to_be_visible()
    assert_accessible(app, "activation")
    app.get_by_role("button", name="Recevoir le code par SMS").click()
    expect(app.get_by_label("Code reçu par SMS")).to_be_visible()
    assert_accessible(app, "activation code")
    context.close()
