"""WCAG 2.2.1 (timing adjustable): one minute before the approval or the session runs out, the screen says so,
as an alert, with the way to extend where the rules allow one (issue 14).

The browsers' clocks are moved forward (Playwright's clock), the server's are not: what the page is told (the
end of the request, the end of the idle session) comes from the server, the warning is the page's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.journeys import app_login, approval_shown, enter_and_confirm, pick_phone, web_login

CAMILLE = "1000000001"
NUMBER = "07 98 76 54 32"


def test_a_minute_before_the_approval_expires_both_screens_warn(desktop: Page, phone: Page) -> None:
    # Both browsers' clocks run 3 min 40 s ahead from the start (no jump later: a jump trips socket.io's ping
    # timeout, and the reconnection in the scale-out mode is not what this test is about): the request's last
    # minute comes 20 s after « Confirmer ».
    ahead = datetime.now() + timedelta(minutes=3, seconds=40)
    desktop.clock.install(time=ahead)
    phone.clock.install(time=ahead)
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    web_login(desktop, CAMILLE)
    enter_and_confirm(desktop, NUMBER)
    approval_shown(phone, NUMBER)
    web_warning = desktop.locator(".expiry-warning").filter(has_text="Moins d'une minute pour valider")
    phone_warning = phone.locator(".expiry-warning").filter(has_text="Moins d'une minute pour valider")
    expect(web_warning).to_be_hidden()
    expect(phone_warning).to_be_hidden()
    for warning in (web_warning, phone_warning):
        expect(warning).to_be_visible(timeout=40_000)
        expect(warning).to_have_attribute("role", "alert")
    expect(desktop.get_by_role("alert").filter(has_text="vous pourrez en faire une nouvelle")).to_be_visible()


def test_a_minute_before_the_session_idles_out_stay_signed_in_moves_the_timer(desktop: Page) -> None:
    # The browser's clock runs 3 min 45 s ahead from the start (no jump: see above): the idle session's last
    # minute comes 15 s after the login, and the session itself ends 75 s after it, on this clock.
    desktop.clock.install(time=datetime.now() + timedelta(minutes=3, seconds=45))
    web_login(desktop, CAMILLE)
    warning = desktop.locator(".expiry-warning").filter(has_text="vous serez déconnecté")
    expect(warning).to_be_hidden()
    until = int(warning.get_attribute("data-warn-until") or 0)
    assert until > 0
    expect(warning).to_be_visible(timeout=30_000)
    expect(desktop.get_by_role("alert").filter(has_text="vous serez déconnecté")).to_be_visible()
    desktop.wait_for_timeout(16_000)  # the server writes activity at most every 15 s
    desktop.get_by_role("button", name="Rester connecté").click()
    # The server moved the session's idle timer: the page's deadline is later than the one it had.
    expect(warning).not_to_have_attribute("data-warn-until", str(until))
    assert int(warning.get_attribute("data-warn-until") or 0) > until
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
