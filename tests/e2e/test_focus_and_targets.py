"""WCAG 2.2's focus not obscured (2.4.11) and target size (2.5.8), by walking the keyboard's way through a screen: at
every Tab, the focused element (in whichever framed page it is) must be the element found at its own centre — no
sticky header, footer or overlay on it, and every frame on the way not covered either — and, unless it is a link
inline in a sentence, at least 24×24 CSS pixels. On ``/demo`` at 1280×800 (its panes included), and on the phone-sized
``/app`` and web pages."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.journeys import login
from tests.e2e.test_demo_page import choose, demo_page

MAX_STOPS = 250
MIN_TARGET = 24

FOCUSED = """() => {
  const describe = (el) => {
    if (!el) return 'nothing';
    const label = (el.getAttribute('aria-label') || el.innerText || el.value || el.name || '').trim().slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} «${label}»`;
  };
  const frames = [];
  let doc = document, el = doc.activeElement;
  while (el && el.tagName === 'IFRAME' && el.contentDocument) {
    frames.push(el);
    doc = el.contentDocument;
    el = doc.activeElement;
  }
  if (!el || el === doc.body || el === doc.documentElement) return null;
  const path = [];
  for (let node = el; node && node.parentElement; node = node.parentElement) {
    path.unshift(Array.prototype.indexOf.call(node.parentElement.children, node));
  }
  const box = el.getBoundingClientRect();
  let x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = doc.elementFromPoint(x, y);
  const problems = [];
  if (!(hit && (hit === el || el.contains(hit)))) problems.push(`covered by ${describe(hit)}`);
  for (let i = frames.length - 1; i >= 0; i--) {  // the point, in each parent document: the frame itself there
    const frame = frames[i], outer = frame.getBoundingClientRect();
    x += outer.left + frame.clientLeft;
    y += outer.top + frame.clientTop;
    const over = frame.ownerDocument.elementFromPoint(x, y);
    if (over !== frame) problems.push(`frame ${frame.name} covered by ${describe(over)}`);
  }
  const style = getComputedStyle(el);
  const text = Array.from(el.parentElement ? el.parentElement.childNodes : [])
    .some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const inline = el.tagName === 'A' && style.display === 'inline' && text;
  return {key: frames.map((f) => f.name).join('/') + ':' + path.join('.'), what: describe(el),
          where: frames.map((f) => f.name).join('/') || 'top', problems,
          width: box.width, height: box.height, inline};
}"""


def walk(page: Page, screen: str) -> list[str]:
    """Tab through the whole screen once; what was focused, and every element whose focus was obscured or whose
    target is too small (the assertion's message)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: list[str] = []
    failures: list[str] = []
    first = None
    nothing = 0
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:  # the browser's own stops, between the end of the page and its start again
            nothing += 1
            if nothing > 3:
                break
            continue
        nothing = 0
        if focused["key"] == first:
            break
        first = first or focused["key"]
        seen.append(f"{focused['where']}: {focused['what']}")
        for problem in focused["problems"]:
            failures.append(f"{focused['where']}: {focused['what']} {problem}")
        if not focused["inline"] and min(focused["width"], focused["height"]) < MIN_TARGET:
            failures.append(f"{focused['where']}: {focused['what']} is {focused['width']:.0f}×"
                            f"{focused['height']:.0f} px")
    assert seen, f"{screen}: nothing took the focus"
    assert not failures, f"{screen}: " + "; ".join(failures)
    return seen


def test_on_the_demo_page_every_focused_element_is_in_view_and_big_enough(browser: Browser, server: dict) -> None:
    page = demo_page(browser, server, DESKTOP)
    page.goto("/demo")
    web, phone, inbox = (page.frame_locator(f"iframe[name=demo-{n}]") for n in ("web", "phone", "inbox"))
    expect(web.get_by_label("Identifiant")).to_be_visible()
    expect(phone.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
    expect(inbox.get_by_role("heading", name="SMS et e-mails reçus")).to_be_visible()
    choose(page, "j1", "1000000001")
    expect(page.get_by_role("button", name="Étape suivante")).to_be_visible()
    seen = walk(page, "demo at 1280×800, J1 chosen")
    # The walk went through the page's own controls and into every pane.
    assert any("Étape suivante" in s for s in seen)
    for pane in ("demo-web", "demo-phone", "demo-inbox"):
        assert any(s.startswith(pane) for s in seen), (pane, seen)
    page.context.close()


def test_on_the_phone_sized_app_and_web_pages_every_focused_element_is_in_view(browser: Browser,
                                                                                server: dict) -> None:
    page = demo_page(browser, server, PHONE)
    page.goto("/app")
    expect(page.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_visible()
    walk(page, "/app, the phone picker, 390×844")
    page.get_by_role("button", name="Smartphone de Camille Martin").click()
    expect(page.get_by_label("Identifiant")).to_be_visible()
    walk(page, "/app, the login, 390×844")
    login(page, "1000000001")
    expect(page.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    walk(page, "/app, Mes coordonnées, 390×844")

    web = demo_page(browser, server, PHONE)
    web.goto("/connexion")
    expect(web.get_by_label("Identifiant")).to_be_visible()
    walk(web, "/connexion, 390×844")
    login(web, "1000000001")
    expect(web.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    walk(web, "Mes coordonnées on the web, 390×844")
    web.get_by_role("button", name="Modifier le téléphone mobile sécurisé").click()
    expect(web.get_by_label("Nouveau numéro de mobile sécurisé")).to_be_visible()
    walk(web, "the new number on the web, 390×844")
    page.context.close()
    web.context.close()


def test_a_pane_that_changes_by_itself_does_not_take_the_focus_from_the_presenter(browser: Browser,
                                                                                  server: dict) -> None:
    """The screens move the focus to their new title when the old screen took it away: in a pane of /demo, only
    when the focus was in that pane — not from the chooser or from another pane."""
    page = demo_page(browser, server, DESKTOP)
    page.goto("/demo")
    web, phone = page.frame_locator("iframe[name=demo-web]"), page.frame_locator("iframe[name=demo-phone]")
    expect(web.get_by_label("Identifiant")).to_be_visible()
    picker = phone.get_by_role("button", name="Smartphone de Camille Martin")
    expect(picker).to_be_visible()
    web.get_by_label("Identifiant").focus()
    picker.evaluate("button => button.click()")  # the phone's screen changes, the focus is in the web pane
    expect(phone.get_by_label("Identifiant")).to_be_visible()
    page.wait_for_timeout(300)
    expect(web.get_by_label("Identifiant")).to_be_focused()
    # Within the pane that holds the focus, the new screen's title still takes it.
    phone.get_by_role("button", name="Changer de smartphone").click()
    expect(phone.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_be_focused()
    page.context.close()
