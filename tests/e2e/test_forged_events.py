"""Forged Reflex events and swapped client tokens cannot act on another session (spec §6, §10).

The browser speaks to the app over Reflex's websocket (socket.io at ``/_event/``, see the notes on the
event protocol). Anything a page sends there can be forged: these tests open *raw* websockets from a
page's JavaScript and send the app's real events (full names taken from the state classes, proven
live by a login sent the same way) with hostile payloads, then read the bank's rows directly.

The session secret is a backend-only var (``_secret``), so what the browser holds must never be
enough to act as someone: the tests also read every frame the logged-in pages receive and check
that neither the session secret, nor a Sécur'Pass code, nor the full current number reaches the
browser.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import AuditEntry, ChangeRequest, Customer, Device, MySysContact, UserSession
from secure_phone.domain.change_request import Channel
from secure_phone.services import change
from secure_phone.ui.i18n import LangState
from secure_phone.ui.states.advisor import AdvisorState
from secure_phone.ui.states.app import AppState
from secure_phone.ui.states.web import WebState
from tests.e2e.journeys import (
    CODE,
    PASSWORD,
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    enter_and_confirm,
    pick_phone,
    web_login,
)
from tests.integration.helpers import customer_actor, number_forms

CAMILLE = "1000000001"
JULIEN = "1000000002"
SARL = "1000000008"  # Lyon Bellecour, Karim's agency
CAMILLE_OLD = "+33612345678"
CAMILLE_MASKED = "06 •• •• •• 78"
NEW_RAW = "07 98 76 54 32"
WRONG_CODE = "1357"

WEB = WebState.get_full_name()
APP = AppState.get_full_name()
ADV = AdvisorState.get_full_name()
LANG = LangState.get_full_name()
UPDATE_VARS = "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal"
PATHS = {WEB: "/espace-client/telephone-securise/", APP: "/app/", ADV: "/conseiller/"}

LOGGED_IN = '"logged_in_rx_state_":true'

# A raw socket.io client in the page: the handshake of Reflex's own client, without its hydrate.
RAW_CLIENT = """
async ({id, token}) => {
  window.__raw = window.__raw || {};
  const url = location.origin.replace(/^http/, 'ws') + '/_event/?EIO=4&transport=websocket&token='
    + encodeURIComponent(token);
  const client = {frames: [], ws: new WebSocket(url)};
  window.__raw[id] = client;
  await new Promise((resolve, reject) => {
    client.ws.onmessage = (message) => {
      const frame = String(message.data);
      client.frames.push(frame);
      if (frame.startsWith('0{')) client.ws.send('40/_event,');
      else if (frame === '2') client.ws.send('3');
      else if (frame.startsWith('40/_event,')) resolve();
    };
    client.ws.onerror = () => reject(new Error('websocket error'));
    client.ws.onclose = () => reject(new Error('websocket closed'));
    setTimeout(() => reject(new Error('no socket.io connect acknowledgement')), 10000);
  });
  return true;
}
"""


class RawClient:
    """A hand-made Reflex client on its own websocket, driven from ``page``'s JavaScript."""

    def __init__(self, page: Page, token: str | None = None) -> None:
        self.page = page
        self.id = uuid.uuid4().hex
        self.token = token or str(uuid.uuid4())
        page.evaluate(RAW_CLIENT, {"id": self.id, "token": self.token})

    def send(self, name: str, payload: dict | None = None) -> None:
        state = name.rsplit(".", 1)[0]
        path = PATHS.get(state, "/connexion/")
        event = {"name": name, "payload": payload or {}, "router_data": {"pathname": path, "asPath": path}}
        self.page.evaluate(
            "([id, event]) => window.__raw[id].ws.send('42/_event,' + JSON.stringify(['event', event]))",
            [self.id, event],
        )

    @property
    def frames(self) -> list[str]:
        return self.page.evaluate("id => window.__raw[id].frames.slice()", self.id)

    def settle(self, quiet: float = 0.8, timeout: float = 15.0) -> list[str]:
        """Send a probe event, wait for its answer, then until no frame has come for ``quiet`` seconds."""
        probes = sum("documentElement.lang" in f for f in self.frames)
        self.send(f"{LANG}.sync_html_lang")
        deadline = time.monotonic() + timeout
        while sum("documentElement.lang" in f for f in self.frames) <= probes:
            assert time.monotonic() < deadline, "the server never answered the probe event"
            time.sleep(0.05)
        count, since = len(self.frames), time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "the server never went quiet"
            time.sleep(0.1)
            if len(self.frames) != count:
                count, since = len(self.frames), time.monotonic()
        return self.frames

    def close(self) -> None:
        self.page.evaluate("id => window.__raw[id].ws.close()", self.id)


# --- what the bank holds ------------------------------------------------------------------------


def snapshot(db_url: str) -> dict:
    with read_only(db_url) as s:
        camille = s.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
        return {
            "number": camille.secure_phone_e164,
            "changed_at": camille.number_changed_at,
            "mysys": s.get(MySysContact, CAMILLE).secure_phone_e164,  # type: ignore[union-attr]
            "requests": sorted((r.id, r.status) for r in s.exec(select(ChangeRequest))),
            "sessions": len(s.exec(select(UserSession)).all()),
            "devices": sorted((d.id, d.status, d.public_jwk or "", d.code_hash or "") for d in s.exec(select(Device))),
            "reveals": len(s.exec(select(AuditEntry).where(AuditEntry.action == "advisor_reveal_number")).all()),
        }


def camille_pending_request(db_url: str) -> str:
    """Camille (web) asks for a new number: a live request a forger would like to approve or cancel."""
    with read_only(db_url) as s:
        cid = s.exec(select(Customer.id).where(Customer.identifier == CAMILLE)).one()
    now = datetime.now(timezone.utc)
    actor = customer_actor(cid)
    number = change.check_new_number(cid, NEW_RAW, "FR", actor=actor, now=now, url=db_url)
    view = change.start_request(cid, number.e164, channel=Channel.WEB, actor=actor, now=now, url=db_url)
    assert view.status == "pending_approval"
    return view.id


def device_of(db_url: str, identifier: str) -> str:
    with read_only(db_url) as s:
        cid = s.exec(select(Customer.id).where(Customer.identifier == identifier)).one()
        return s.exec(select(Device.id).where(Device.customer_id == cid, Device.status == "enrolled")).one()


def session_ids(db_url: str) -> set[str]:
    with read_only(db_url) as s:
        return {row.id for row in s.exec(select(UserSession))}


# --- what the browser holds ---------------------------------------------------------------------


def assert_no_session_secret(text: str, ids: set[str]) -> None:
    """No string the browser received is a live session secret (nor its hash, the session id)."""
    assert ids, "no session to look for"
    for session_id in ids:
        assert session_id not in text
    # token_urlsafe(32) is 43 URL-safe characters: try every 43-character window of every such run.
    for run in re.findall(r"[A-Za-z0-9_\-]{43,}", text):
        for start in range(len(run) - 42):
            assert hashlib.sha256(run[start:start + 43].encode()).hexdigest() not in ids, \
                "a session secret reached the browser"


def assert_no_full_number(text: str, e164: str = CAMILLE_OLD) -> None:
    for form in number_forms(e164):
        assert form not in text, f"the full number {form!r} reached the browser"


def assert_no_code(text: str, code: str) -> None:
    assert not re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text), f"the code {code} reached the browser"


def record_frames(page: Page) -> list[str]:
    """Every websocket frame the page receives from now on."""
    received: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: received.append(
            payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

    page.on("websocket", on_socket)
    return received


def browser_storage(page: Page) -> str:
    storage = page.evaluate(
        "() => JSON.stringify({session: {...sessionStorage}, local: {...localStorage}, cookie: document.cookie})"
    )
    return storage + json.dumps(page.context.cookies()) + page.content()


@pytest.fixture
def attacker(browser: Browser, server: dict) -> Iterator[Page]:
    """Another browser, on the app's origin (any page will do: the forger only needs the websocket)."""
    context = browser.new_context(base_url=server["base_url"], locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/connexion")
    expect(page.get_by_label("Identifiant")).to_be_visible()
    yield page
    context.close()


def test_the_forged_event_names_are_the_apps_handlers() -> None:
    """The names below are real handlers: a refusal is the app's, not a typo's."""
    for cls, handlers in (
        (WebState, ["confirm", "submit_number", "cancel_request", "start_change", "load_home", "login_and_go"]),
        (AppState, ["validate", "approval_signed", "refusal_signed", "refuse", "activate", "app_login"]),
        (AdvisorState, ["reveal", "change", "open_sheet", "validate", "login"]),
    ):
        for handler in handlers:
            assert handler in cls.event_handlers, f"{cls.__name__}.{handler}"


# --- (a) a client that never logged in ------------------------------------------------------------


def forged_events(request_id: str, camille_device: str) -> list[tuple[str, dict]]:
    signature = "A" * 86  # base64url of 64 bytes, the shape of a WebCrypto P-256 signature
    return [
        # Client storage is the only thing update_vars may set; try the session and login flags anyway.
        (UPDATE_VARS, {"vars": {f"{WEB}._secret": "forged", f"{WEB}.logged_in": True, f"{APP}._secret": "forged",
                                f"{APP}.logged_in": True, f"{APP}._code": CODE, f"{ADV}._secret": "forged",
                                f"{APP}.device_id": camille_device}}),
        (f"{WEB}.setvar", {"var_name": "logged_in", "value": True}),
        (f"{WEB}.setvar", {"var_name": "request_id", "value": request_id}),
        (f"{APP}.setvar", {"var_name": "approval_request_id", "value": request_id}),
        (f"{WEB}.load_home", {}),
        (f"{WEB}.start_change", {}),
        (f"{WEB}.submit_number", {"form": {"number": "07 81 22 33 44"}}),
        (f"{WEB}.confirm", {}),
        (f"{WEB}.cancel_request", {}),
        (f"{APP}.validate", {"form": {"code": CODE}}),
        (f"{APP}.approval_signed", {"result": {"ok": True, "signature": signature}}),
        (f"{APP}.refuse", {"form": {"reason": "not_me"}}),
        (f"{APP}.refusal_signed", {"result": {"ok": True, "signature": signature}}),
        (f"{APP}.activate", {"form": {"code": "123456", "pin": CODE}}),
        (f"{APP}.load", {}),
        (f"{ADV}.open_sheet", {"identifier": CAMILLE}),
        (f"{ADV}.reveal", {}),
        (f"{ADV}.change", {"form": {"number": "07 81 22 33 44", "country": "FR", "document_type": "cni",
                                    "document_number": "X1234567", "in_branch": True}}),
        (f"{ADV}.validate", {"request_id": request_id}),
    ]


def test_a_client_that_never_logged_in_changes_nothing(server: dict, attacker: Page) -> None:
    db_url = server["db_url"]
    request_id = camille_pending_request(db_url)
    before = snapshot(db_url)
    assert before["number"] == CAMILLE_OLD and before["sessions"] == 0

    forger = RawClient(attacker)
    for name, payload in forged_events(request_id, device_of(db_url, CAMILLE)):
        forger.send(name, payload)
    # Forgers do not stop at one try: the approval again, straight away.
    forger.send(f"{APP}.approval_signed", {"result": {"ok": True, "signature": "A" * 86}})
    received = "\n".join(forger.settle())

    after = snapshot(db_url)
    assert after == before
    assert after["number"] == CAMILLE_OLD and after["mysys"] == CAMILLE_OLD and after["changed_at"] is None
    assert after["requests"] == [(request_id, "pending_approval")]
    # Nothing about any customer came back either.
    assert LOGGED_IN not in received
    # (The phone's label, "Smartphone de Camille Martin", is public: the /app picker lists it.)
    for leaked in ('"first_name_rx_state_":"Camille"', '"last_name_rx_state_":"Martin"', "••", NEW_RAW, "Agence"):
        assert leaked not in received
    assert_no_full_number(received)

    # Positive control, on the same socket: the same protocol and names do reach the handlers.
    forger.send(f"{WEB}.login_and_go", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    received = "\n".join(forger.settle())
    assert LOGGED_IN in received and '"first_name_rx_state_":"Julien"' in received
    assert snapshot(db_url)["requests"] == [(request_id, "pending_approval")]


# --- (a') logged in, but as someone else ----------------------------------------------------------


def test_another_customers_and_another_agencys_sessions_cannot_touch_camilles_request(
    server: dict, attacker: Page
) -> None:
    """Julien (web and app) and Karim (Lyon advisor) forge events against Camille's live request."""
    db_url = server["db_url"]
    request_id = camille_pending_request(db_url)

    julien_web = RawClient(attacker)
    julien_web.send(f"{WEB}.login_and_go", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    julien_app = RawClient(attacker)
    julien_app.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": device_of(db_url, CAMILLE)}})  # Camille's phone id
    julien_app.send(f"{APP}.app_login", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    karim = RawClient(attacker)
    karim.send(f"{ADV}.login", {"form": {"login": "karim.haddad", "password": PASSWORD}})
    for client in (julien_web, julien_app, karim):
        assert LOGGED_IN in "\n".join(client.settle()), "the forger's own login is the positive control"
    before = snapshot(db_url)

    julien_web.send(f"{WEB}.setvar", {"var_name": "request_id", "value": request_id})
    julien_web.send(f"{WEB}.cancel_request", {})
    julien_app.send(f"{APP}.setvar", {"var_name": "approval_request_id", "value": request_id})
    julien_app.send(f"{APP}.validate", {"form": {"code": CODE}})
    julien_app.send(f"{APP}.approval_signed", {"result": {"ok": True, "signature": "A" * 86}})
    julien_app.send(f"{APP}.refusal_signed", {"result": {"ok": True, "signature": "A" * 86}})
    karim.send(f"{ADV}.open_sheet", {"identifier": SARL})  # his own agency's customer: screen = sheet
    karim.send(f"{ADV}.open_sheet", {"identifier": CAMILLE})
    karim.send(f"{ADV}.reveal", {})
    karim.send(f"{ADV}.change", {"form": {"number": "07 81 22 33 44", "country": "FR", "document_type": "cni",
                                          "document_number": "X1234567", "in_branch": True}})
    karim.send(f"{ADV}.validate", {"request_id": request_id})
    received = {client: "\n".join(client.settle()) for client in (julien_web, julien_app, karim)}

    after = snapshot(db_url)
    assert after["number"] == CAMILLE_OLD and after["mysys"] == CAMILLE_OLD and after["changed_at"] is None
    assert (request_id, "pending_approval") in after["requests"]
    assert not [status for _, status in after["requests"] if status == "completed"]
    assert after["reveals"] == before["reveals"]
    for text in received.values():
        assert '"first_name_rx_state_":"Camille"' not in text and CAMILLE_MASKED not in text
        assert_no_full_number(text)


# --- (b) copying what a logged-in tab holds is not enough -------------------------------------------


def test_the_web_page_never_receives_the_secret_nor_the_full_number(server: dict, desktop: Page) -> None:
    received = record_frames(desktop)
    web_login(desktop, CAMILLE)
    expect(desktop.get_by_text(CAMILLE_MASKED).first).to_be_visible()
    enter_and_confirm(desktop, NEW_RAW)
    expect(desktop.get_by_text("Temps restant")).to_be_visible()

    text = "\n".join(received)
    assert LOGGED_IN in text and CAMILLE_MASKED in text, "the frames recorded are the logged-in page's"
    assert_no_session_secret(text + browser_storage(desktop), session_ids(server["db_url"]))
    assert_no_full_number(text + browser_storage(desktop))
    assert_no_code(text + browser_storage(desktop), CODE)


def test_a_copied_client_token_does_not_reach_a_live_tab_session(server: dict, desktop: Page, attacker: Page) -> None:
    """The victim's tab is open: a second socket with its token is given a fresh token and state."""
    web_login(desktop, JULIEN)
    token = desktop.evaluate("() => sessionStorage.getItem('token')")
    assert token

    thief = RawClient(attacker, token)
    thief.send(f"{WEB}.load_home", {})
    thief.send(f"{WEB}.start_change", {})
    received = "\n".join(thief.settle())
    assert '["new_token",' in received
    assert LOGGED_IN not in received and "Julien" not in received and "••" not in received
    assert '"path":"/connexion"' in received  # load_home found no session: back to the login page
    expect(desktop.get_by_role("heading", name="Mes coordonnées")).to_be_visible()


def test_a_copied_client_token_cannot_resume_a_closed_tabs_session(
    server: dict, browser: Browser, attacker: Page
) -> None:
    """The victim closes the tab without logging out; someone who copied its client token (visible in
    the tab's sessionStorage and in the websocket URL) connects from another browser with it.

    Correct behaviour: that other browser is not logged in as the victim.
    """
    victim_context = browser.new_context(base_url=server["base_url"], locale="fr-FR")
    victim = victim_context.new_page()
    web_login(victim, JULIEN)
    token = victim.evaluate("() => sessionStorage.getItem('token')")
    victim_context.close()
    time.sleep(1.5)  # the server notices the disconnect

    before = snapshot(server["db_url"])["requests"]

    thief = RawClient(attacker, token)
    for name, payload in ((f"{WEB}.load_home", {}), (f"{WEB}.start_change", {}),
                          (f"{WEB}.submit_number", {"form": {"number": "07 81 22 33 44"}}), (f"{WEB}.confirm", {})):
        thief.send(name, payload)
        thief.settle(quiet=0.3)  # one step after the other, as the page would
    received = "\n".join(thief.frames)
    started = [r for r in snapshot(server["db_url"])["requests"] if r not in before]
    assert started == [], \
        f"another browser holding only the closed tab's client token started a change in Julien's name: {started}"
    assert '"first_name_rx_state_":"Julien"' not in received and "06 •• •• •• 89" not in received, \
        "another browser holding only the closed tab's client token resumed Julien's logged-in session"


# --- (c) the Sécur'Pass code never comes back ---------------------------------------------------


def test_the_phone_never_receives_the_code_the_secret_nor_the_full_number(server: dict, phone: Page) -> None:
    received = record_frames(phone)
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    expect(phone.get_by_text(CAMILLE_MASKED).first).to_be_visible()
    enter_and_confirm(phone, NEW_RAW)
    approval_shown(phone, NEW_RAW)
    approve(phone, WRONG_CODE)
    expect(phone.get_by_role("alert")).to_be_visible()
    approve(phone, CODE)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()

    text = "\n".join(received)
    assert LOGGED_IN in text and '"approval_text_rx_state_"' in text, "the frames recorded are the app's"
    everything = text + browser_storage(phone)
    for code in (CODE, WRONG_CODE):
        assert_no_code(everything, code)
    assert_no_session_secret(everything, session_ids(server["db_url"]))
    assert_no_full_number(everything)
    assert snapshot(server["db_url"])["number"] == "+33798765432"
