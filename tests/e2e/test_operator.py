"""§12.4, the operator's fraud signals, as people meet them: Emma Leroy, whose SIM was changed 2 h ago, cannot change
her number online — she is told why and sent to her advisor; Sophie sees the SIM change on Emma's sheet with the
operator's answer; on Lucas Fournier's sheet, the check before calling him back warns that his calls are forwarded;
the demo control makes the operator report a forwarding on any number."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.journeys import enter_and_confirm, web_login
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.test_advisor import advisor_login, open_sheet, search


def test_emma_is_told_why_and_sent_to_her_advisor_whose_sheet_shows_the_sim_swap(
        browser: Browser, server: dict, desktop: Page) -> None:
    web_login(desktop, "1000000010")
    enter_and_confirm(desktop, "07 98 76 54 32", prove=False)
    expect(desktop.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
    expect(desktop.get_by_role("alert")).to_contain_text("la carte SIM de votre numéro sécurisé a été changée")
    expect(desktop.get_by_text("carte SIM du numéro sécurisé changée récemment (opérateur)")).to_be_visible()
    desktop.get_by_role("button", name="Être rappelé par mon conseiller").click()
    expect(desktop.get_by_text("C'est noté : votre conseiller vous rappellera.", exact=False)).to_be_visible()
    assert_accessible(desktop, "sent to the advisor by the operator's signal")

    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    expect(sophie.get_by_text("carte SIM du numéro sécurisé changée récemment (opérateur)")).to_be_visible()
    search(sophie, "1000000010")
    open_sheet(sophie, "Emma Leroy")
    signals = sophie.get_by_role("region", name="Signaux de l'opérateur mobile")
    expect(signals).to_contain_text("SIM changée il y a 2 h")
    expect(signals).to_contain_text("Opérateur simulé (CAMARA)")
    expect(signals).to_contain_text("changement en ligne")
    expect(sophie.locator("#vigilance")).to_contain_text("L'opérateur mobile a signalé un risque")
    # « Être rappelé » is open: the sheet checked call forwarding on her number before Sophie calls back.
    expect(signals).to_contain_text("Pas de renvoi d'appel sur ce numéro.")
    assert_accessible(sophie, "sheet with the operator's signals")
    sophie.context.close()


def test_lucas_sheet_warns_that_calls_to_his_number_are_forwarded(browser: Browser, server: dict) -> None:
    sophie = browser.new_context(base_url=server["base_url"], viewport=DESKTOP).new_page()
    advisor_login(sophie, "sophie.lambert")
    search(sophie, "1000000011")
    open_sheet(sophie, "Lucas Fournier")
    expect(sophie.locator("#callback-forwarded")).to_have_count(0)
    sophie.get_by_role("button", name="Vérifier le renvoi d'appel").click()
    warning = sophie.locator("#callback-forwarded")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("les appels vers ce numéro sont renvoyés")
    expect(sophie.get_by_role("region", name="Signaux de l'opérateur mobile")).to_contain_text(
        "Renvoi d'appel inconditionnel actif")
    # The demo control: a forwarding on Camille's number, then the same warning on her sheet.
    sophie.get_by_role("button", name="Retour à la recherche").click()
    search(sophie, "1000000001")
    open_sheet(sophie, "Camille Martin")
    sophie.get_by_text("Démo : signaux de l'opérateur").click()
    sophie.get_by_label("Numéro de mobile", exact=True).fill("06 12 34 56 78")
    sophie.get_by_label("Signal", exact=True).select_option("forwarding")
    sophie.get_by_role("button", name="Appliquer").click()
    expect(sophie.get_by_text("C'est fait : l'opérateur simulé le dira désormais.", exact=False)).to_be_visible()
    sophie.get_by_role("button", name="Vérifier le renvoi d'appel").click()
    expect(sophie.locator("#callback-forwarded")).to_contain_text("les appels vers ce numéro sont renvoyés")
    sophie.context.close()
