"""/app's first screen comes with the page itself, before the server answers; the picker offers the
demo personas' phones only, and any enrolled phone can still be picked up by its id.

Largest Contentful Paint: the page used to show a spinner until the websocket hydrate and
``AppState.load`` had answered (the phone picker came from the server). The picker is now in the
prerendered HTML (its choices do not depend on the database), the login form too for a tab of a
browser that already holds a phone, and a spinner only where the server must tell (a reload of a
tab that may be logged in).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, Page, expect

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Device
from tests.e2e.conftest import PHONE
from tests.e2e.journeys import pick_phone
from tests.e2e.test_forged_events import APP, RawClient, record_frames
from tests.integration.helpers import b64url
from tests.integration.test_devices import other_customers

PERSONA_PHONES = ["Smartphone de Camille Martin", "Smartphone de Julien Petit", "Smartphone de Inès Garnier",
                  "Smartphone de Léa Bernard", "Smartphone de Chloé Dubois", "Smartphone de Paul Laurent",
                  "Smartphone de SARL Atelier Roux", "Smartphone de Marc Lefèvre", "Smartphone de Emma Leroy",
                  "Smartphone de Lucas Fournier"]
CHOICES = [*PERSONA_PHONES, "Nouveau smartphone"]
PERSONA_PHONES_EN = [label.removeprefix("Smartphone de ") + "'s smartphone" for label in PERSONA_PHONES]


def hold_the_server(page: Page) -> None:
    """The page's websocket never opens: what shows is what the page drew by itself."""
    page.route_web_socket("**/_event/**", lambda ws: None)


def picker_buttons(page: Page) -> list[str]:
    return [name.strip() for name in page.locator("#phones button").all_inner_texts()]


def test_the_prerendered_page_is_the_phone_picker(server: dict) -> None:
    html = httpx.get(f"{server['base_url']}/app/", timeout=10).text
    assert "Quel smartphone tenez-vous" in html
    for label in CHOICES:
        assert f">{label}</button>" in html
    assert "data-sp-boot" in html  # the script that picks the first screen before the first paint


def test_each_page_is_served_at_its_address_without_a_redirect(server: dict) -> None:
    # A redirect to the slashed path (Reflex's static files) would cost a round trip before the first paint.
    for path in ("/app", "/connexion", "/conseiller", "/espace-client/telephone-securise"):
        response = httpx.get(f"{server['base_url']}{path}", timeout=10)
        assert response.status_code == 200 and not response.history, path
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Quel smartphone tenez-vous" in httpx.get(f"{server['base_url']}/app", timeout=10).text
    assert httpx.get(f"{server['base_url']}/app?x=1", timeout=10).status_code == 200


def test_the_first_screen_needs_no_server(browser: Browser, server: dict) -> None:
    context = browser.new_context(base_url=server["base_url"], viewport=PHONE, locale="fr-FR")
    context.set_default_timeout(15_000)
    try:
        # A new browser: the picker, and nothing else.
        fresh = context.new_page()
        hold_the_server(fresh)
        fresh.goto("/app")
        expect(fresh.get_by_role("button", name="Smartphone de Camille Martin")).to_be_enabled()
        assert picker_buttons(fresh) == CHOICES
        expect(fresh.get_by_label("Identifiant")).to_be_hidden()
        expect(fresh.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_have_count(1)
        fresh.close()

        # This browser becomes Camille's phone (for real).
        tab = context.new_page()
        pick_phone(tab, "Smartphone de Camille Martin")

        # Another tab of that browser: nobody can be logged in there yet, the login form at once.
        other = context.new_page()
        hold_the_server(other)
        other.goto("/app")
        expect(other.get_by_label("Identifiant")).to_be_visible()
        expect(other.get_by_label("Identifiant")).to_be_editable()
        expect(other.get_by_role("button", name="Nouveau smartphone")).to_have_count(0)
        expect(other.get_by_role("heading", name="Connexion à votre espace client")).to_have_count(1)
        other.close()

        # A reload of the tab that has a session (maybe logged in): neither screen until the server says.
        hold_the_server(tab)
        tab.reload()
        expect(tab.locator(".boot-wait")).to_be_visible()
        expect(tab.get_by_label("Identifiant")).to_be_hidden()
        expect(tab.get_by_role("button", name="Nouveau smartphone")).to_have_count(0)
    finally:
        context.close()


def test_the_picker_offers_the_personas_phones_only(server: dict, phone: Page) -> None:
    bench = other_customers(server["db_url"], 30, datetime.now(UTC))
    frames = record_frames(phone)
    phone.goto("/app")
    deadline = time.monotonic() + 15
    while '"device_checked_rx_state_":true' not in "".join(frames):  # AppState.load has answered
        assert time.monotonic() < deadline, "AppState.load never answered"
        phone.wait_for_timeout(100)
    expect(phone.get_by_role("button", name="Nouveau smartphone")).to_be_enabled()
    assert picker_buttons(phone) == CHOICES
    received = "".join(frames)
    assert "Smartphone bench" not in received
    assert not any(device_id in received for device_id in bench)  # the hydrate carried all of them


def test_an_enrolled_phone_can_still_be_picked_by_its_id(server: dict, phone: Page) -> None:
    """The benchmark's path (bench/journey.py): ``pick_phone(<device id>)``, then the key made."""
    (bench_device,) = other_customers(server["db_url"], 1, datetime.now(UTC))
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
           "y": b64url(numbers.y.to_bytes(32, "big"))}
    phone.goto("/")
    client = RawClient(phone)
    client.send(f"{APP}.pick_phone", {"choice": bench_device})
    client.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": jwk}})
    picked = "".join(client.settle())
    assert '"device_label_rx_state_":"Smartphone bench 0"' in picked
    # No hydrate, so no ``load`` before the pick (a click on the prerendered picker can come first): the
    # phone is known all the same, and the page leaves its first screen for the login form.
    assert '"device_checked_rx_state_":true' in picked
    with read_only(server["db_url"]) as session:
        assert json.loads(session.get(Device, bench_device).public_jwk) == jwk  # type: ignore[union-attr]

    # Another customer's identifier is no choice (only the personas' are): refused, nothing changes.
    forger = RawClient(phone)
    forger.send(f"{APP}.pick_phone", {"choice": "2000000000"})
    forger.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": jwk}})
    frames = "".join(forger.settle())
    assert '"picker_error_rx_state_":"error.generic"' in frames
    assert "device_label_rx_state_" not in frames


def test_in_english_the_first_screen_waits_for_the_server(browser: Browser, server: dict) -> None:
    """The prerendered texts are French: a browser set to English sees no French screen first."""
    context = browser.new_context(base_url=server["base_url"], viewport=PHONE, locale="fr-FR")
    context.set_default_timeout(15_000)
    context.add_init_script("localStorage.setItem('sp_lang', 'en')")
    try:
        held = context.new_page()
        hold_the_server(held)
        held.goto("/app")
        expect(held.locator(".boot-wait")).to_be_visible()
        expect(held.get_by_role("heading", name="Quel smartphone tenez-vous ?")).to_have_count(0)
        page = context.new_page()
        page.goto("/app")
        expect(page.get_by_role("heading", name="Which smartphone are you holding?")).to_be_visible()
        assert picker_buttons(page) == [*PERSONA_PHONES_EN, "New smartphone"]
    finally:
        context.close()
