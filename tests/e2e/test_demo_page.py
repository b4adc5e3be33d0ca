"""``/demo`` tells the story by itself (issue 14): at 1280×800 a presenter chooses Camille and J1 and follows the
hints through the panes — the real pages, framed — to the end, without a reload anywhere; the « behind the scenes »
pane shows what MySys holds, live. At 390×844 the page sends to ``/app``. axe (WCAG 2.2 AA tags) finds nothing
serious; with ``SECURE_PHONE_DEMO=0`` the page does not exist (PRODUCT.md §12.1)."""

from __future__ import annotations

import re

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Frame, FrameLocator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.journeys import APPROVAL_TITLE, CODE, CODE_LINE, PASSWORD, PROOF_TITLE, SUCCESS

CAMILLE = "1000000001"
NEW = "07 98 76 54 32"
OLD = "06 12 34 56 78"
MARKER = "window.__demo_marker"
WCAG22 = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def assert_accessible_22(page: Page, screen: str) -> None:
    """axe with the WCAG 2.2 AA tags on the page and on every page it frames (axe in each frame: the top one's
    run asks them and reports their nodes as ``[iframe, selector]``): no serious or critical violation, and the
    rules that must run did — 2.5.8's target size (off by default in axe, on with its tag), each visible frame
    scanned."""
    script = Axe().axe_script
    for target in page.frames:
        target.evaluate(script)
    results = page.evaluate("options => axe.run(document, options)",
                            {"runOnly": {"type": "tag", "values": WCAG22}, "iframes": True})
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{screen}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results[kind]}
    assert "target-size" in ran, f"{screen}: axe did not run target-size"
    framed = {n["target"][0] for kind in ("passes", "violations", "incomplete") for r in results[kind]
              for n in r["nodes"] if len(n["target"]) > 1}
    visible = page.locator("iframe:visible").count()
    assert len(framed) == visible, f"{screen}: axe scanned {sorted(framed)}, not the {visible} visible frames"


def demo_page(browser: Browser, server: dict, viewport: dict) -> Page:
    context = browser.new_context(base_url=server["base_url"], viewport=viewport, locale="fr-FR")
    context.set_default_timeout(15_000)
    return context.new_page()


def frame(page: Page, name: str) -> Frame:
    found = page.frame(name=f"demo-{name}")
    assert found is not None, name
    return found


def mark(page: Page) -> None:
    """A marker in the page and in every pane: a reload anywhere would lose it."""
    for target in (page.main_frame, *(frame(page, n) for n in ("web", "phone", "inbox"))):
        target.evaluate(f"{MARKER} = 'kept'")


def unreloaded(page: Page) -> list[str]:
    return [name for name, target in (("demo", page.main_frame), *((n, frame(page, n)) for n in ("web", "phone",
                                                                                                   "inbox")))
            if target.evaluate(MARKER) != "kept"]


def panes(page: Page) -> tuple[FrameLocator, FrameLocator, FrameLocator]:
    """``/demo`` opened, its three panes (the web area, the phone, the inbox) shown: their frames."""
    page.goto("/demo")
    web, phone, inbox = (page.frame_locator(f"iframe[name=demo-{n}]") for n in ("web", "phone", "inbox"))
    expect(web.get_by_label("Identifiant")).to_be_visible()
    expect(phone.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
    expect(inbox.get_by_role("heading", name="SMS et e-mails reçus")).to_be_visible()
    return web, phone, inbox


def choose(page: Page, scenario: str, persona: str) -> None:
    """The scenario chooser suggests its persona (a round trip to the server: the page is live), then « Commencer »."""
    other = "j7" if scenario != "j7" else "j1"
    page.get_by_label("Scénario").select_option(other)
    expect(page.get_by_label("Personne")).not_to_have_value(persona)
    page.get_by_label("Scénario").select_option(scenario)
    expect(page.get_by_label("Personne")).to_have_value(persona)
    page.get_by_role("button", name="Commencer", exact=True).click()  # not « Recommencer le scénario »


def look_at(page: Page, pane: str, hint: str | re.Pattern) -> None:
    """The hint says what to do, and its pane is the one highlighted."""
    expect(page.locator("#demo-hint")).to_contain_text(hint)
    expect(page.locator(f"#pane-{pane}")).to_have_class(re.compile(r"\bdemo-pane-current\b"))
    expect(page.locator(".demo-pane-current")).to_have_count(1)


def test_camille_j1_told_by_the_demo_page_without_a_reload(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)
    choose(page, "j1", CAMILLE)
    mark(page)

    look_at(page, "phone", "« Smartphone de Camille Martin »")
    expect(page.locator(".demo-credentials")).to_have_text(
        re.compile(f"Identifiant {CAMILLE} · mot de passe Demo1234! · code Sécur'Pass {CODE}"))
    phone.get_by_role("button", name="Smartphone de Camille Martin").click()
    look_at(page, "phone", "Dans le smartphone, connectez-vous")
    phone.get_by_label("Identifiant").fill(CAMILLE)
    phone.get_by_label("Mot de passe").fill(PASSWORD)
    phone.get_by_role("button", name="Se connecter").click()
    expect(phone.get_by_role("heading", name="Mes coordonnées")).to_be_visible()

    look_at(page, "web", "Dans l'espace web, connectez-vous")
    web.get_by_label("Identifiant").fill(CAMILLE)
    web.get_by_label("Mot de passe").fill(PASSWORD)
    web.get_by_role("button", name="Se connecter").click()
    expect(web.get_by_role("heading", name="Mes coordonnées")).to_be_visible()

    look_at(page, "web", f"saisissez {NEW}")
    web.get_by_role("button", name=re.compile("^Modifier")).click()
    web.get_by_label("Nouveau numéro de mobile sécurisé").fill(NEW)
    web.get_by_role("button", name="Continuer").click()
    web.get_by_role("button", name="Confirmer").click()
    expect(web.get_by_role("heading", name=PROOF_TITLE)).to_be_visible()

    # §12.3: the code the new number received, read in the inbox pane (pushed there: nobody reloads it).
    look_at(page, "inbox", f"reçu par SMS au {NEW}")
    received = inbox.get_by_role("region", name=NEW).locator(".message").first
    expect(received).to_contain_text(CODE_LINE)
    code = CODE_LINE.search(received.inner_text())[1]  # type: ignore[index]
    web.get_by_label("Code à 6 chiffres").fill(code)
    web.get_by_role("button", name="Valider le code").click()

    look_at(page, "phone", f"code Sécur'Pass {CODE}")
    expect(web.get_by_role("heading", name="Validez sur votre smartphone")).to_be_visible()
    expect(phone.get_by_role("heading", name=APPROVAL_TITLE)).to_be_visible()
    expect(phone.locator("#approval-number")).to_have_text(NEW)
    expect(page.locator("#mysys-number")).to_have_text(OLD)
    phone.get_by_label("Code Sécur'Pass").fill(CODE)
    phone.get_by_role("button", name="Valider").click()

    # The web pane changes by itself; MySys holds the new number at once, behind the scenes.
    expect(web.get_by_role("heading", name=SUCCESS)).to_be_visible()
    look_at(page, "web", "L'espace web a changé de lui-même")
    expect(page.locator("#mysys-number")).to_have_text(NEW)
    expect(page.locator("#mysys-history")).to_contain_text(f"{OLD} remplacé par {NEW}")
    expect(page.locator("#demo-audit")).to_contain_text("Changement enregistré dans MySys")
    expect(page.locator("#demo-vigilance")).to_contain_text("Numéro modifié récemment")
    page.get_by_role("button", name="Étape suivante").click()
    look_at(page, "behind", f"MySys contient maintenant {NEW}")
    page.get_by_role("button", name="Étape suivante").click()
    look_at(page, "inbox", f"le SMS à l'ancien numéro {OLD}")
    expect(page.get_by_role("button", name="Étape suivante")).to_be_disabled()

    # The inbox pane shows the email and the SMS to the old number.
    expect(inbox.get_by_role("region", name=OLD)).to_contain_text("remplacé par •• •• •• •• 32")
    expect(inbox.get_by_role("region", name="camille.martin@example.fr")).to_contain_text(
        "Votre numéro de mobile sécurisé a été modifié")
    # Its filter, a plain field: one number only.
    inbox.get_by_label("Filtrer par numéro ou adresse").fill("0612")
    expect(inbox.locator("section.inbox")).to_have_count(1)
    expect(inbox.get_by_role("region", name=OLD)).to_be_visible()
    inbox.get_by_label("Filtrer par numéro ou adresse").fill("")
    expect(inbox.get_by_role("region", name="camille.martin@example.fr")).to_be_visible()

    assert unreloaded(page) == []
    page.context.close()


def test_on_a_phone_sized_screen_the_demo_says_to_open_the_app(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, PHONE)
    page.goto("/demo")
    expect(page.get_by_role("heading", name="Cette démonstration demande un grand écran")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(3)
    for name in ("web", "phone", "inbox"):
        expect(page.locator(f"iframe[name=demo-{name}]")).to_be_hidden()
    assert_accessible_22(page, "demo at 390×844")
    page.get_by_role("link", name="Ouvrir l'application Ma Banque").click()
    expect(page).to_have_url(re.compile(r"/app/?$"))
    page.context.close()


def test_the_demo_page_is_accessible_at_1280(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    page.goto("/demo")
    expect(page.frame_locator("iframe[name=demo-web]").get_by_label("Identifiant")).to_be_visible()
    assert_accessible_22(page, "demo, nothing chosen")
    choose(page, "f1", CAMILLE)
    expect(page.locator("#demo-hint")).to_contain_text("Un escroc")
    page.get_by_text("Étapes", exact=True).click()
    expect(page.locator(".demo-steps li")).to_have_count(8)
    assert_accessible_22(page, "demo, F1 chosen, its steps open")
    # English, everywhere on the page.
    page.locator("#lang-switch").click()
    expect(page.get_by_role("heading", name="The demo, step by step")).to_be_visible()
    expect(page.locator("#demo-hint")).to_contain_text("A crook knows Camille Martin's credentials")
    page.context.close()


def test_without_demo_mode_there_is_no_demo_page(demo_off_server: dict) -> None:
    base = demo_off_server["base_url"]
    for path in ("/demo", "/demo/"):
        assert httpx.get(f"{base}{path}", timeout=10, follow_redirects=True).status_code == 404
    assert "/demo" not in httpx.get(f"{base}/", timeout=10).text.replace("/demo/messages", "")


def test_the_inbox_filter_at_390_is_a_plain_field_and_accessible(browser: Browser, server: dict) -> None:
    """/demo/messages on a phone: the filter narrows the inboxes as it is typed (no reload), axe-clean."""
    from tests.e2e.journeys import enter_and_confirm, web_login

    web = demo_page(browser, server, DESKTOP)
    web_login(web, CAMILLE)
    enter_and_confirm(web, NEW, prove=False)  # the proof code goes to the new number
    page = demo_page(browser, server, PHONE)
    page.goto("/demo/messages")
    expect(page.get_by_role("region", name=NEW)).to_be_visible()
    page.evaluate(f"{MARKER} = 'kept'")
    field = page.get_by_label("Filtrer par numéro ou adresse")
    field.fill("camille")
    expect(page.get_by_role("status")).to_have_text("Aucun message pour ce numéro ou cette adresse.")
    assert_accessible_22(page, "inbox, filtered to nothing, at 390×844")
    field.fill("0798")
    expect(page.get_by_role("region", name=NEW)).to_be_visible()
    assert_accessible_22(page, "inbox, filtered, at 390×844")
    assert page.evaluate(MARKER) == "kept"
    web.context.close()
    page.context.close()


def test_each_pane_keeps_its_own_reflex_token_across_reloads(browser: Browser, server: dict) -> None:
    """The panes are same-origin frames, which share the page's sessionStorage: each keeps its Reflex token under
    its own name (``routes.FRAME_TOKEN_JS``) rather than starting on the page's and being parted by Reflex's
    duplicate detection, which races when two workers see one token at once (the panes' events were then
    dropped). Four tokens, four tabs to the server, the same ones after a reload, and every pane live."""
    page = demo_page(browser, server, DESKTOP)
    web, phone, inbox = panes(page)

    def tokens() -> dict[str, str]:
        seen = {"demo": page.evaluate("sessionStorage.getItem('token')")}
        seen.update({n: frame(page, n).evaluate("sessionStorage.getItem('token')") for n in ("web", "phone", "inbox")})
        return seen

    first = tokens()
    assert all(first.values()) and len(set(first.values())) == 4, first
    stored = page.evaluate("Object.fromEntries(Object.entries(sessionStorage).filter(([k]) => k.startsWith('token')))")
    assert stored == {"token": first["demo"], **{f"token:demo-{n}": first[n] for n in ("web", "phone", "inbox")}}

    page.reload()
    expect(web.get_by_label("Identifiant")).to_be_visible()
    expect(inbox.get_by_role("heading", name="SMS et e-mails reçus")).to_be_visible()
    assert tokens() == first
    choose(page, "j1", CAMILLE)  # the page answers: its events reach the server
    look_at(page, "phone", "« Smartphone de Camille Martin »")
