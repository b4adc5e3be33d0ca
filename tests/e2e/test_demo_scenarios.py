"""``/demo`` tells J2, J3, J4, J7 and the SIM swap by itself (issue 14), as a presenter follows it at 1280×800: for
each step, the hint, the pane it highlights, the action in that pane (the real page, framed), then the next hint;
at the end, what « behind the scenes » shows — all without a reload anywhere (a marker in every document).

Every test starts from the seeded personas (the e2e ``fresh_data`` fixture), so the daily limits of one never meet
another's and the order does not matter. Personas: PRODUCT.md §3 and §12.4."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, FrameLocator, Page, expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.journeys import APPROVAL_TITLE, CODE, CODE_LINE, PASSWORD, PROOF_TITLE, SUCCESS
from tests.e2e.test_demo_page import assert_accessible_22, choose, demo_page, look_at, mark, panes, unreloaded

NEW = "07 98 76 54 32"
JULIEN, JULIEN_OLD = "1000000002", "06 23 45 67 89"
CHLOE, CHLOE_OLD = "1000000006", "06 67 89 01 23"
PAUL, PAUL_OLD = "1000000007", "06 78 90 12 34"
EMMA, EMMA_OLD = "1000000010", "06 11 22 33 44"
ACTIVATION_LINE = re.compile(r"code d'activation Sécur'Pass est (\d{8})")
CONFIRMATION_LINE = re.compile(r"code de confirmation est (\d{8})")


def sign_in(pane: FrameLocator, identifier: str) -> None:
    pane.get_by_label("Identifiant").fill(identifier)
    pane.get_by_label("Mot de passe").fill(PASSWORD)
    pane.get_by_role("button", name="Se connecter").click()


def enter_new_number(pane: FrameLocator) -> None:
    """« Modifier », the new number, « Continuer », « Confirmer » — as the hints say it."""
    pane.get_by_role("button", name=re.compile("^Modifier")).click()
    pane.get_by_label("Nouveau numéro de mobile sécurisé").fill(NEW)
    pane.get_by_role("button", name="Continuer").click()
    expect(pane.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_visible()
    pane.get_by_role("button", name="Confirmer").click()


def received(inbox: FrameLocator, national: str, line: re.Pattern) -> str:
    """The code in the newest message to ``national``, read in the inbox pane (pushed there: nobody reloads it)."""
    newest = inbox.get_by_role("region", name=national).locator(".message").first
    expect(newest).to_contain_text(line)
    return line.search(newest.inner_text())[1]  # type: ignore[index]


def next_step(page: Page) -> None:
    page.get_by_role("button", name="Étape suivante").click()


def at_the_end(page: Page) -> None:
    expect(page.get_by_role("button", name="Étape suivante")).to_be_disabled()
    expect(page.locator(".demo-now")).to_contain_text("Fin du scénario")
    assert unreloaded(page) == []


def test_julien_j2_changes_his_number_in_the_app_pane_alone(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)
    choose(page, "j2", JULIEN)
    mark(page)
    expect(page.locator(".demo-credentials")).to_have_text(
        re.compile(f"Identifiant {JULIEN} · mot de passe Demo1234! · code Sécur'Pass {CODE}"))

    look_at(page, "phone", "touchez « Smartphone de Julien Petit »")
    phone.get_by_role("button", name="Smartphone de Julien Petit").click()
    look_at(page, "phone", f"Dans le smartphone, connectez-vous : identifiant {JULIEN}")
    sign_in(phone, JULIEN)
    expect(phone.get_by_role("heading", name="Mes coordonnées")).to_be_visible()

    look_at(page, "phone", f"Dans le smartphone, touchez « Modifier », saisissez {NEW}")
    enter_new_number(phone)
    expect(phone.get_by_role("heading", name=PROOF_TITLE)).to_be_visible()

    look_at(page, "inbox", f"reçu par SMS au {NEW} dans les messages, saisissez-le dans le smartphone")
    phone.get_by_label("Code à 6 chiffres").fill(received(inbox, NEW, CODE_LINE))
    phone.get_by_role("button", name="Valider le code").click()

    # No step 4 in the app: the approval opens in the same pane.
    look_at(page, "phone", f"La validation Sécur'Pass s'ouvre dans l'application : saisissez le code {CODE}")
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    expect(phone.locator("#approval-number")).to_have_text(NEW)
    expect(page.locator("#mysys-number")).to_have_text(JULIEN_OLD)
    phone.get_by_label("Code Sécur'Pass").fill(CODE)
    phone.get_by_role("button", name="Valider").click()
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()

    # The story moved on by itself: behind the scenes, MySys holds the new number, the app as its source.
    look_at(page, "behind", f"MySys contient maintenant {NEW}, son historique garde l'ancien numéro {JULIEN_OLD}")
    expect(page.locator("#mysys-number")).to_have_text(NEW)
    expect(page.locator("#mysys-history")).to_contain_text(f"{JULIEN_OLD} remplacé par {NEW} · l'application mobile")
    audit = page.locator("#demo-audit")
    for line in ("Changement enregistré dans MySys", "Validation Sécur'Pass"):
        expect(audit).to_contain_text(line)
    expect(page.locator("#demo-vigilance")).to_contain_text("Numéro modifié récemment")
    next_step(page)

    look_at(page, "inbox", f"le SMS à l'ancien numéro {JULIEN_OLD} sont arrivés (et le SMS de bienvenue au {NEW})")
    expect(inbox.get_by_role("region", name=JULIEN_OLD)).to_contain_text("l'application mobile")
    expect(inbox.get_by_role("region", name="julien.petit@example.fr")).to_contain_text(
        "Votre numéro de mobile sécurisé a été modifié")
    expect(inbox.get_by_role("region", name=NEW)).to_contain_text("ce numéro est désormais votre numéro de mobile")
    at_the_end(page)
    # Told again, the story cannot ask for the number Julien holds now (« Continuer » would refuse it): the next one.
    page.get_by_role("button", name="Recommencer le scénario").click()
    look_at(page, "phone", "touchez « Smartphone de Julien Petit »")
    expect(page.locator(".demo-steps")).to_contain_text("saisissez 07 98 76 54 33")
    page.context.close()


def test_chloe_j3_cancels_on_the_web_then_j4_activates_her_new_phone(browser: Browser, server: dict) -> None:
    """One presenter, one page: J3 (the web request cancelled: her Sécur'Pass is on the old phone), then J4 (the
    new phone's activation), told with Chloé one after the other."""
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)
    choose(page, "j3", CHLOE)
    mark(page)

    look_at(page, "web", f"Dans l'espace web, connectez-vous : identifiant {CHLOE}")
    sign_in(web, CHLOE)
    expect(web.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    look_at(page, "web", f"Dans l'espace web, touchez « Modifier », saisissez {NEW}")
    enter_new_number(web)
    look_at(page, "inbox", f"reçu par SMS au {NEW} dans les messages, saisissez-le dans l'espace web")
    web.get_by_label("Code à 6 chiffres").fill(received(inbox, NEW, CODE_LINE))
    web.get_by_role("button", name="Valider le code").click()

    look_at(page, "web", "Le Sécur'Pass de Chloé Dubois est sur son ancien smartphone : dans l'espace web, "
                         "touchez « Annuler »")
    expect(web.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    web.get_by_role("button", name="Annuler").click()
    expect(web.get_by_role("heading", name="Demande annulée. Votre numéro n'a pas changé.")).to_be_visible()

    look_at(page, "web", "L'espace web propose deux issues")
    expect(web.get_by_role("button", name="Activer Sécur'Pass sur mon nouveau smartphone")).to_be_visible()
    expect(web.get_by_role("button", name="Je n'ai plus accès à ce numéro")).to_be_visible()
    assert_accessible_22(page, "demo, J3 cancelled, the two ways out framed")
    next_step(page)
    look_at(page, "behind", "la demande est annulée (journal d'audit) et MySys n'a pas changé")
    expect(page.locator("#demo-audit")).to_contain_text("Demande annulée")
    expect(page.locator("#mysys-number")).to_have_text(CHLOE_OLD)
    expect(page.locator("#pane-behind")).to_contain_text("Aucun changement depuis l'ouverture du dossier.")
    at_the_end(page)

    # J4, on the same page: the phone pane is a new smartphone.
    choose(page, "j4", CHLOE)
    look_at(page, "phone", "puis « Nouveau smartphone ». Connectez-vous : identifiant 1000000006")
    phone.get_by_role("button", name="Nouveau smartphone").click()
    sign_in(phone, CHLOE)
    expect(phone.get_by_role("heading", name="Activez Sécur'Pass sur ce smartphone")).to_be_visible()

    look_at(page, "phone", "Le smartphone demande d'activer Sécur'Pass : touchez « Recevoir le code par SMS »")
    expect(page.locator(".demo-steps li.done")).to_have_count(1)
    phone.get_by_role("button", name="Recevoir le code par SMS").click()
    expect(phone.get_by_role("heading", name="Saisissez le code reçu par SMS")).to_be_visible()

    look_at(page, "inbox", f"Lisez le code à 8 chiffres reçu au {CHLOE_OLD} dans les messages")
    expect(page.locator("#demo-hint")).to_contain_text(f"choisissez le code Sécur'Pass {CODE}")
    phone.get_by_label("Code reçu par SMS").fill(received(inbox, CHLOE_OLD, ACTIVATION_LINE))
    phone.get_by_label("Choisissez votre code Sécur'Pass").fill(CODE)
    phone.get_by_role("button", name="Activer Sécur'Pass").click()
    expect(phone.get_by_text("Sécur'Pass est activé sur ce smartphone")).to_be_visible()

    look_at(page, "behind", "le journal d'audit montre « Sécur'Pass activé sur un nouveau smartphone »")
    expect(page.locator("#demo-hint")).to_contain_text(
        "le conseiller voit « Sécur'Pass récemment transféré sur un nouveau smartphone »")
    expect(page.locator("#demo-audit")).to_contain_text("Sécur'Pass activé sur un nouveau smartphone")
    expect(page.locator("#demo-vigilance")).to_contain_text("Sécur'Pass récemment transféré sur un nouveau smartphone")
    expect(page.locator("#mysys-number")).to_have_text(CHLOE_OLD)
    # The activation ended her other sessions: the web pane, signed in for J3, says so by itself.
    expect(web.get_by_text("Par sécurité, cette session a été fermée")).to_be_visible()
    next_step(page)
    look_at(page, "inbox", f"l'e-mail et le SMS au {CHLOE_OLD} préviennent Chloé Dubois du nouveau smartphone")
    expect(inbox.get_by_role("region", name="chloe.dubois@example.fr")).to_contain_text(
        "Sécur'Pass activé sur un nouveau smartphone")
    expect(inbox.get_by_role("region", name=CHLOE_OLD).locator(".message").first).to_contain_text(
        "Sécur'Pass a été activé sur un nouveau smartphone")
    assert_accessible_22(page, "demo, J4 done, the activated phone framed")
    at_the_end(page)
    page.context.close()


def test_paul_j7_confirms_his_stale_number_on_the_web(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)
    choose(page, "j7", PAUL)
    mark(page)

    look_at(page, "web", f"Dans l'espace web, connectez-vous : identifiant {PAUL}")
    expect(page.locator("#demo-hint")).to_contain_text("la question vient avant tout le reste")
    sign_in(web, PAUL)
    expect(web.get_by_role("heading", name=re.compile("Votre numéro de mobile sécurisé est-il toujours le"))) \
        .to_be_visible()

    look_at(page, "web", f"touchez « Oui, c'est mon numéro » : un code part par SMS au {PAUL_OLD}")
    assert_accessible_22(page, "demo, J7's question framed")
    web.get_by_role("button", name="Oui, c'est mon numéro").click()

    look_at(page, "inbox", f"Lisez le code reçu au {PAUL_OLD} dans les messages, saisissez-le dans l'espace web")
    web.get_by_label("Code reçu par SMS").fill(received(inbox, PAUL_OLD, CONFIRMATION_LINE))
    web.get_by_role("button", name="Confirmer mon numéro").click()
    expect(web.get_by_text("votre numéro de mobile sécurisé est confirmé")).to_be_visible()

    look_at(page, "behind", "la confirmation est au journal d'audit")
    expect(page.locator("#demo-audit")).to_contain_text("Numéro confirmé")
    expect(page.locator("#demo-audit")).to_contain_text("Code de vérification envoyé")
    expect(page.locator("#mysys-number")).to_have_text(PAUL_OLD)
    at_the_end(page)
    page.context.close()


def test_emma_sim_swap_refuses_the_online_change(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)
    choose(page, "sim", EMMA)
    mark(page)
    expect(page.locator("#pane-behind")).to_contain_text("Aucun point de vigilance sur la fiche.")

    look_at(page, "web", f"Dans l'espace web, connectez-vous : identifiant {EMMA}")
    sign_in(web, EMMA)
    expect(web.get_by_role("heading", name="Mes coordonnées")).to_be_visible()

    look_at(page, "web", f"touchez « Modifier », saisissez {NEW}, « Continuer », puis « Confirmer »")
    expect(page.locator("#demo-hint")).to_contain_text(f"la carte SIM du {EMMA_OLD} vient d'être échangée")
    enter_new_number(web)
    expect(web.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
    expect(web.get_by_role("alert")).to_contain_text("la carte SIM de votre numéro sécurisé a été changée")

    # The refusal moved the story on by itself.
    look_at(page, "behind", f"le conseiller voit le signal de l'opérateur ; MySys garde {EMMA_OLD}")
    expect(page.locator("#demo-vigilance")).to_contain_text("L'opérateur mobile a signalé un risque")
    expect(page.locator("#demo-audit")).to_contain_text("Signaux de l'opérateur mobile · parcours en ligne arrêté")
    expect(page.locator("#mysys-number")).to_have_text(EMMA_OLD)
    # No code went anywhere: the refusal came before any SMS.
    expect(inbox.get_by_role("region", name=NEW)).to_have_count(0)
    assert_accessible_22(page, "demo, SIM swap refused, the advisor page framed")
    at_the_end(page)
    page.context.close()
