"""Screenshots of every screen of J1, J2 and J5 at 1280×800 and 390×844, for docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [BASE_URL]      (default http://localhost:3000)

Runs the real journeys against a running app (``make run``), with Debian's chromium. It changes
Camille's, Julien's and Inès's numbers: run ``make clean run`` first for the seeded state.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:3000"
OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def shot(page: Page, name: str, viewport: str) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(OUT / f"{name}-{viewport}.png"), full_page=True)


def login(page: Page, identifier: str) -> None:
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill("Demo1234!")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


def login_any(page: Page, identifier: str) -> None:
    """Log in without expecting « Mes coordonnées » (ineligible, stale number, new phone)."""
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill("Demo1234!")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_timeout(800)


def prove(page: Page, inbox: Page, national: str, name: str, viewport: str) -> None:
    """§12.3: the code the new number received (read in the demo inbox), typed on the proof screen."""
    expect(page.get_by_role("heading", name=re.compile("^Saisissez le code reçu au"))).to_be_visible()
    shot(page, name, viewport)
    inbox.goto("/demo/messages")
    text = inbox.get_by_role("region", name=national).locator(".message").first.inner_text()
    code = re.search(r"#(\d{6})", text)[1]  # type: ignore[index]
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name="Valider le code").click()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for vp_name, viewport in VIEWPORTS.items():
            ctx = lambda viewport=viewport: browser.new_context(base_url=BASE, viewport=viewport)  # noqa: E731
            web, phone, inbox = ctx().new_page(), ctx().new_page(), ctx().new_page()
            for page in (web, phone, inbox):
                page.set_default_timeout(15_000)
            web.goto("/")
            shot(web, "01-landing", vp_name)
            # The phone: picker, login, home.
            phone.goto("/app")
            expect(phone.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
            shot(phone, "10-app-picker", vp_name)
            phone.get_by_role("button", name="Smartphone de Camille Martin").click()
            expect(phone.get_by_label("Identifiant")).to_be_visible()
            shot(phone, "11-app-login", vp_name)
            login(phone, "1000000001")
            shot(phone, "12-app-home", vp_name)
            # J1 on the web.
            web.goto("/connexion")
            shot(web, "02-web-login", vp_name)
            login(web, "1000000001")
            shot(web, "03-web-details", vp_name)
            web.get_by_role("button", name="Modifier le téléphone mobile sécurisé").click()
            field = web.get_by_label("Nouveau numéro de mobile sécurisé")
            field.fill("01 42 68 00 00")
            web.get_by_role("button", name="Continuer").click()
            expect(web.locator("#error-summary")).to_be_visible()
            shot(web, "04-web-number-error", vp_name)
            field.fill("")
            field.press_sequentially("0798765432" if vp_name == "desktop" else "0766554433")
            shot(web, "05-web-number", vp_name)
            web.get_by_role("button", name="Continuer").click()
            expect(web.get_by_role("heading", name="Confirmez-vous ce numéro ?")).to_be_visible()
            shot(web, "06-web-confirm", vp_name)
            web.get_by_role("button", name="Confirmer").click()
            prove(web, inbox, "07 98 76 54 32" if vp_name == "desktop" else "07 66 55 44 33", "06b-web-proof", vp_name)
            expect(web.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
            shot(web, "07-web-securpass-wait", vp_name)
            # J5 on the phone.
            expect(phone.get_by_role("heading", name="Changement de numéro de mobile sécurisé")).to_be_visible()
            shot(phone, "13-securpass-approval", vp_name)
            phone.get_by_label("Code Sécur'Pass").fill("0000")
            phone.get_by_role("button", name="Valider").click()
            expect(phone.get_by_role("alert")).to_be_visible()
            shot(phone, "14-securpass-wrong-code", vp_name)
            phone.get_by_role("button", name="Refuser").click()
            shot(phone, "15-securpass-refusal-reasons", vp_name)
            phone.get_by_role("button", name="Retour").click()
            phone.get_by_label("Code Sécur'Pass").fill("4827")
            phone.get_by_role("button", name="Valider").click()
            expect(web.get_by_role("heading", name=re.compile("est enregistré"))).to_be_visible()
            shot(web, "08-web-success", vp_name)
            shot(phone, "16-app-success", vp_name)
            inbox.goto("/demo/messages")
            expect(inbox.get_by_text("remplacé par").first).to_be_visible()
            shot(inbox, "09-demo-messages", vp_name)
            # J2 in the app: Julien (Inès at 390×844: Julien's « not me » below froze his online changes).
            j2_id, j2_name = ("1000000002", "Julien Petit") if vp_name == "desktop" else ("1000000003", "Inès Garnier")
            phone.get_by_role("button", name="Se déconnecter").click()
            phone.get_by_role("button", name="Changer de smartphone").click()
            phone.get_by_role("button", name=f"Smartphone de {j2_name}").click()
            login(phone, j2_id)
            phone.get_by_role("button", name="Modifier le téléphone mobile sécurisé").click()
            phone.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 81 22 33 44" if vp_name == "desktop"
                                                                         else "07 81 22 33 55")
            phone.get_by_role("button", name="Continuer").click()
            shot(phone, "17-app-confirm", vp_name)
            phone.get_by_role("button", name="Confirmer").click()
            prove(phone, inbox, "07 81 22 33 44" if vp_name == "desktop" else "07 81 22 33 55", "17b-app-proof",
                  vp_name)
            expect(phone.get_by_role("heading", name="Changement de numéro de mobile sécurisé")).to_be_visible()
            phone.get_by_role("button", name="Switch to English").click()
            phone.wait_for_timeout(300)
            shot(phone, "18-securpass-approval-english", vp_name)
            phone.get_by_role("button", name="Passer en français").click()
            # Ways out (issue 3).
            other = ctx().new_page()
            other.goto("/connexion")
            login_any(other, "1000000004")
            shot(other, "20-ineligible", vp_name)
            other.get_by_role("button", name="Contacter mon conseiller").click()
            expect(other.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
            shot(other, "21-advisor-contact", vp_name)
            other.get_by_role("button", name="Se déconnecter").click()
            login_any(other, "1000000007")
            expect(other.get_by_role("button", name="Oui, c'est mon numéro")).to_be_visible()
            shot(other, "22-stale-number", vp_name)
            new = ctx().new_page()
            new.goto("/app")
            new.get_by_role("button", name="Nouveau smartphone").click()
            login_any(new, "1000000006")
            expect(new.get_by_role("heading", name="Activez Sécur'Pass sur ce smartphone")).to_be_visible()
            shot(new, "23-activation-new-phone", vp_name)
            # Julien refuses: « not me »; the advisor's sheet shows the warning (issue 4).
            julien = ctx().new_page()
            julien.goto("/app")
            julien.get_by_role("button", name=f"Smartphone de {j2_name}").click()
            login_any(julien, j2_id)  # the J2 request above is still pending: the app opens on it
            expect(julien.get_by_role("heading", name="Changement de numéro de mobile sécurisé")).to_be_visible()
            julien.get_by_role("button", name="Refuser").click()
            julien.get_by_label("Je ne suis pas à l'origine de cette demande").check()
            julien.get_by_role("button", name="Refuser la demande").click()
            advisor = ctx().new_page()
            advisor.goto("/conseiller")
            advisor.get_by_label("Identifiant conseiller").fill("sophie.lambert")
            advisor.get_by_label("Mot de passe").fill("Demo1234!")
            advisor.get_by_role("button", name="Se connecter").click()
            expect(advisor.get_by_role("heading", name=re.compile("^Espace conseiller"))).to_be_visible()
            shot(advisor, "30-advisor-home", vp_name)
            advisor.get_by_label("Rechercher un client").fill(j2_id)
            advisor.get_by_role("button", name="Rechercher").click()
            advisor.get_by_role("button", name=f"Ouvrir la fiche de {j2_name}").click()
            expect(advisor.locator("#vigilance")).to_be_visible()
            shot(advisor, "31-advisor-sheet-warning", vp_name)
            # §12.4: Emma's SIM was changed 2 h ago — sent to her advisor; her sheet shows the operator's answer.
            emma = ctx().new_page()
            emma.goto("/connexion")
            login(emma, "1000000010")
            emma.get_by_role("button", name=re.compile("^Modifier")).click()
            emma.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 98 76 54 11")
            emma.get_by_role("button", name="Continuer").click()
            emma.get_by_role("button", name="Confirmer").click()
            expect(emma.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
            shot(emma, "32-operator-sim-swap-refusal", vp_name)
            advisor.get_by_role("button", name="Retour à la recherche").click()
            advisor.get_by_label("Rechercher un client").fill("1000000010")
            advisor.get_by_role("button", name="Rechercher").click()
            advisor.get_by_role("button", name="Ouvrir la fiche de Emma Leroy").click()
            expect(advisor.get_by_role("region", name="Signaux de l'opérateur mobile")).to_contain_text("SIM changée")
            shot(advisor, "33-advisor-sheet-sim-swap", vp_name)
            advisor.get_by_role("button", name="Retour à la recherche").click()
            advisor.get_by_label("Rechercher un client").fill("1000000011")
            advisor.get_by_role("button", name="Rechercher").click()
            advisor.get_by_role("button", name="Ouvrir la fiche de Lucas Fournier").click()
            advisor.get_by_role("button", name="Vérifier le renvoi d'appel").click()
            expect(advisor.locator("#callback-forwarded")).to_be_visible()
            shot(advisor, "34-advisor-sheet-forwarding", vp_name)
            # §12.5: Sophie calls Camille; Camille's app says so, then that nobody from the bank is calling.
            camille = ctx().new_page()
            camille.goto("/app")
            camille.get_by_role("button", name="Smartphone de Camille Martin").click()
            login_any(camille, "1000000001")
            advisor.get_by_role("button", name="Retour à la recherche").click()
            advisor.get_by_label("Rechercher un client").fill("1000000001")
            advisor.get_by_role("button", name="Rechercher").click()
            advisor.get_by_role("button", name="Ouvrir la fiche de Camille Martin").click()
            advisor.get_by_role("button", name="Appeler le client").click()
            expect(camille.get_by_text("vous appelle en ce moment", exact=False)).to_be_visible()
            shot(camille, "35-app-bank-calling", vp_name)
            shot(advisor, "36-advisor-sheet-calling", vp_name)
            advisor.get_by_role("button", name="Raccrocher").click()
            expect(camille.get_by_role("button", name="Signaler cet appel")).to_be_visible()
            shot(camille, "37-app-nobody-calling", vp_name)
            for page in (web, phone, inbox, other, new, julien, advisor, emma, camille):
                page.context.close()
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
