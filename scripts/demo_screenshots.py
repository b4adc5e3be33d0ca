"""Screenshots of ``/demo`` for docs/screenshots/: the chooser at 1280×800 and 390×844, then Camille's J1 followed
through the panes (at the Sécur'Pass approval, and at its end), then Emma's SIM swap refused.

    .venv/bin/python scripts/demo_screenshots.py [BASE_URL]      (default http://localhost:3000)

Runs against a running app in demo mode (``make run``), with Debian's chromium. It changes Camille's number: run
``make clean run`` first for the seeded state.
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
CODE_LINE = re.compile(r"@[\w.-]+ #(\d{6})")


def shot(page: Page, name: str) -> None:
    page.wait_for_timeout(600)
    page.screenshot(path=str(OUT / f"{name}.png"))


def login(frame, identifier: str) -> None:  # noqa: ANN001  (a FrameLocator)
    frame.get_by_label("Identifiant").fill(identifier)
    frame.get_by_label("Mot de passe").fill("Demo1234!")
    frame.get_by_role("button", name="Se connecter").click()
    expect(frame.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        small = browser.new_context(base_url=BASE, viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = small.new_page()
        page.goto("/demo")
        expect(page.get_by_role("heading", name="Cette démonstration demande un grand écran")).to_be_visible()
        shot(page, "60-demo-start-phone")
        small.close()

        context = browser.new_context(base_url=BASE, viewport={"width": 1280, "height": 800}, locale="fr-FR")
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/demo")
        web, phone, inbox = (page.frame_locator(f"iframe[name=demo-{n}]") for n in ("web", "phone", "inbox"))
        expect(web.get_by_label("Identifiant")).to_be_visible()
        page.get_by_label("Scénario").select_option("j1")
        page.get_by_role("button", name="Commencer", exact=True).click()
        expect(page.locator("#demo-hint")).to_contain_text("Smartphone de Camille Martin")
        shot(page, "60-demo-start-desktop")
        phone.get_by_role("button", name="Smartphone de Camille Martin").click()
        login(phone, "1000000001")
        login(web, "1000000001")
        web.get_by_role("button", name=re.compile("^Modifier")).click()
        web.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 98 76 54 32")
        web.get_by_role("button", name="Continuer").click()
        web.get_by_role("button", name="Confirmer").click()
        received = inbox.get_by_role("region", name="07 98 76 54 32").locator(".message").first
        expect(received).to_contain_text(CODE_LINE)
        web.get_by_label("Code à 6 chiffres").fill(CODE_LINE.search(received.inner_text())[1])  # type: ignore[index]
        web.get_by_role("button", name="Valider le code").click()
        expect(phone.locator("#approval-number")).to_have_text("07 98 76 54 32")
        shot(page, "61-demo-j1-approval-desktop")
        phone.get_by_label("Code Sécur'Pass").fill("4827")
        phone.get_by_role("button", name="Valider").click()
        expect(page.locator("#mysys-number")).to_have_text("07 98 76 54 32")
        page.get_by_role("button", name="Étape suivante").click()
        page.get_by_role("button", name="Étape suivante").click()
        expect(inbox.get_by_role("region", name="06 12 34 56 78")).to_be_visible()
        shot(page, "62-demo-j1-end-desktop")

        # Emma's SIM swap, on the same page: the operator's signal refuses the change, behind the scenes too.
        page.get_by_label("Scénario").select_option("sim")
        expect(page.get_by_label("Personne")).to_have_value("1000000010")
        page.get_by_role("button", name="Commencer", exact=True).click()
        web.get_by_role("button", name="Se déconnecter").click()
        login(web, "1000000010")
        web.get_by_role("button", name=re.compile("^Modifier")).click()
        web.get_by_label("Nouveau numéro de mobile sécurisé").fill("07 98 76 54 33")
        web.get_by_role("button", name="Continuer").click()
        web.get_by_role("button", name="Confirmer").click()
        expect(web.get_by_role("heading", name="Contacter votre conseiller")).to_be_visible()
        expect(page.locator("#demo-vigilance")).to_contain_text("L'opérateur mobile a signalé un risque")
        shot(page, "64-demo-sim-swap-refused-desktop")
        context.close()

        small = browser.new_context(base_url=BASE, viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = small.new_page()
        page.goto("/demo/messages")
        expect(page.get_by_role("region", name="06 12 34 56 78")).to_be_visible()
        page.get_by_label("Filtrer par numéro ou adresse").fill("06 12")
        expect(page.get_by_role("region", name="07 98 76 54 32")).to_have_count(0)
        shot(page, "63-demo-messages-filter-phone")
        small.close()
        browser.close()


if __name__ == "__main__":
    main()
