"""Forged Reflex events and copied client tokens cannot act on another session (spec §6, §10, §12.1, §12.2).

The browser speaks to the app over Reflex's websocket (socket.io at ``/_event/``, see the notes on the
event protocol). Anything a page sends there can be forged, by anyone, before or without a login, in any
order and with any arguments: these tests open *raw* websockets from a page's JavaScript and send the
app's real events — every event handler of every state of the app, found from the app itself and mapped in
:data:`COVERAGE` to how it is forged — with hostile payloads, then read the bank's rows directly.

Three situations, as an attacker meets them:

* **(a)** a client that never logged in;
* **(b)** logged in, but as someone else: another customer (Julien, web and app) or another agency's
  advisor (Karim) against Camille's live request, her contact request, her sheet, and Paris Opéra's
  in-branch operations waiting for a second advisor;
* **(c)** a copied client token of a closed tab (it is in the tab's sessionStorage and in the websocket
  URL, hence in proxy logs): the thief's socket lands on the closed tab's state, which still names the
  victim's session.

In each, nothing the bank holds changes (:func:`snapshot`), nothing personal comes back, and positive
controls prove that the names reach the handlers (:func:`assert_reach`: an argument a handler does not
take is refused by its signature, where an unknown name is silently dropped) and that the same protocol
does act for the right party.

A session is only a reference in Reflex's state (``_session_id``), bound to the socket that logged in or
that redeemed a one-time ticket (secure_phone.ui.binding). The tests also read every frame the logged-in
pages receive for the session references, codes and full numbers, and every pickled state the server
keeps on disk for the binding cookies, Sécur'Pass and SMS codes and passwords.

Beyond the three situations: hostile arguments never raise in the app's own code; the demo phone picker
re-keys no device enrolled by the real procedure (§12.1, §12.2); ``resume`` rejoins only with a ticket of
the state's own session; the Sécur'Pass steps sent in any order approve nothing.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import os
import pickle
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from playwright.sync_api import Browser, Page, WebSocket, expect
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import (
    Advisor,
    AdvisorOperation,
    AuditEntry,
    BankCall,
    ChangeRequest,
    ContactRequest,
    Customer,
    DemoMessage,
    Device,
    MySysContact,
    OperatorLine,
    Outbox,
    SessionTicket,
    SmsCode,
    UserSession,
)
from secure_phone.domain.change_request import Channel
from secure_phone.services import activation, auth, calls, change, contact
from secure_phone.services import advisor as advisor_service
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.ui.i18n import LangState
from secure_phone.ui.pages.demo_messages import MessagesState
from secure_phone.ui.states.advisor import AdvisorState
from secure_phone.ui.states.app import AppState
from secure_phone.ui.states.demo import DemoState
from secure_phone.ui.states.web import WebState
from tests.e2e.conftest import ROOT
from tests.e2e.journeys import (
    CODE,
    PASSWORD,
    SUCCESS,
    app_login,
    approval_shown,
    approve,
    enter_and_confirm,
    login,
    pick_phone,
    web_login,
)
from tests.e2e.test_ways_out import sms_code
from tests.integration.helpers import SEED_JOURNEY, b64url, customer_actor, number_forms

CAMILLE = "1000000001"
JULIEN = "1000000002"
INES = "1000000003"
HUGO = "1000000005"  # no Sécur'Pass: no phone the picker could give
PAUL = "1000000007"
SARL = "1000000008"  # Lyon Bellecour, Karim's agency
CAMILLE_OLD = "+33612345678"
CAMILLE_MASKED = "06 •• •• •• 78"
NEW_RAW = "07 98 76 54 99"  # not one the demo page suggests by itself (07 98 76 54 32…51): seeing it is a leak
NEW_E164 = "+33798765499"
OTHER_RAW = "07 81 22 33 44"  # what the forgers ask for
INES_ADVISOR_RAW = "07 55 44 33 22"  # Inès's in-branch change, waiting for a second advisor
WRONG_CODE = "1357"
NEW_PIN = "2580"  # the Sécur'Pass code a new phone chooses (J4)

WEB = WebState.get_full_name()
APP = AppState.get_full_name()
ADV = AdvisorState.get_full_name()
LANG = LangState.get_full_name()
MESSAGES = MessagesState.get_full_name()
DEMO = DemoState.get_full_name()
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
UPDATE_VARS = f"{ROOT_STATE}.reflex___state____update_vars_internal_state.update_vars_internal"
PATHS = {WEB: "/espace-client/telephone-securise/", APP: "/app/", ADV: "/conseiller/", MESSAGES: "/demo/messages/",
         DEMO: "/demo/"}

LOGGED_IN = '"logged_in_rx_state_":true'
TICKET_ASKED = "/api/session/ticket"  # what a state holding a session answers an unbound socket
BACKEND_ERROR = "backend_error"  # the toast Reflex shows when a handler raised
MARKER = f"{LANG}.sync_html_lang"  # answered by one `documentElement.lang` frame, in order
MARK = "documentElement.lang"

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

    @staticmethod
    def frame(name: str, payload: dict | None = None, router: dict | None = None) -> str:
        state = name.rsplit(".", 1)[0]
        path = PATHS.get(state, "/connexion/")
        router_data = {"pathname": path, "asPath": path, **(router or {})}
        return "42/_event," + json.dumps(["event", {"name": name, "payload": payload or {},
                                                    "router_data": router_data}])

    def send(self, name: str, payload: dict | None = None, router: dict | None = None) -> None:
        self.send_frames([self.frame(name, payload, router)])

    def send_frames(self, frames: list[str]) -> None:
        self.page.evaluate("([id, frames]) => { for (const f of frames) window.__raw[id].ws.send(f); }",
                           [self.id, frames])

    @property
    def frames(self) -> list[str]:
        return self.page.evaluate("id => window.__raw[id].frames.slice()", self.id)

    def count(self) -> int:
        return self.page.evaluate("id => window.__raw[id].frames.length", self.id)

    def since(self, start: int) -> list[str]:
        return self.page.evaluate("([id, start]) => window.__raw[id].frames.slice(start)", [self.id, start])

    def settle(self, quiet: float = 0.8, timeout: float = 15.0) -> list[str]:
        """Send a probe event, wait for its answer, then until no frame has come for ``quiet`` seconds."""
        start = self.count()
        self.send(MARKER)
        deadline = time.monotonic() + timeout
        while self.marks(start) < 1:
            assert time.monotonic() < deadline, "the server never answered the probe event"
            time.sleep(0.05)
        count, since = self.count(), time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "the server never went quiet"
            time.sleep(0.05)
            if self.count() != count:
                count, since = self.count(), time.monotonic()
        return self.frames

    def marks(self, start: int) -> int:
        """How many marker answers came since frame ``start``."""
        return self.page.evaluate("([id, start, mark]) => window.__raw[id].frames.slice(start)"
                                  ".filter(f => f.includes(mark)).length", [self.id, start, MARK])

    def forge(self, events: list[tuple[str, dict]], timeout: float = 90.0) -> list[tuple[str, dict, str]]:
        """Send every event, each followed by the marker; each event with the frames it was answered with.

        One socket's events are handled one after the other, so the frames between two markers are the
        answer to the event between them (events a handler chains on the server come a little later).
        No event sent here may itself answer with the marker's frame (LangState's handlers are sent apart).
        """
        self.settle(quiet=0.1)
        start = self.count()
        frames = []
        for name, payload in events:
            frames += [self.frame(name, payload), self.frame(MARKER)]
        for chunk in range(0, len(frames), 200):
            self.send_frames(frames[chunk:chunk + 200])
        deadline = time.monotonic() + timeout
        while self.marks(start) < len(events):
            assert time.monotonic() < deadline, "the server stopped answering the forged events"
            time.sleep(0.05)
        answers, current = [], []
        for f in self.since(start):
            if MARK in f:
                answers.append("\n".join(current))
                current = []
            else:
                current.append(f)
        return [(name, payload, text) for (name, payload), text in zip(events, answers, strict=True)]

    @property
    def sid(self) -> str:
        """The socket id the server gave this socket (socket.io's connect acknowledgement)."""
        ack = next(f for f in self.frames if f.startswith("40/_event,"))
        return json.loads(ack[len("40/_event,"):])["sid"]

    def close(self) -> None:
        self.page.evaluate("id => window.__raw[id].ws.close()", self.id)


# --- what the bank holds ------------------------------------------------------------------------

DONE = ("ok", "requested", "raised")
"""Audit outcomes of something done (not refused): the entries a forged event must never add."""


def snapshot(db_url: str, identifiers: tuple[str, ...] | None = None) -> dict:
    """What the bank holds about ``identifiers`` (every customer when None): numbers, Sécur'Pass, freeze,
    sessions, requests, devices and their keys, contact requests, advisor operations, bank calls (§12.5), SMS
    codes, notifications and the audit entries of things done."""
    with read_only(db_url) as s:
        customers = {c.id: c for c in s.exec(select(Customer))}
        ids = {cid for cid, c in customers.items() if identifiers is None or c.identifier in identifiers}
        who = {cid: customers[cid].identifier for cid in ids}
        camille = next(c for c in customers.values() if c.identifier == CAMILLE)
        return {
            "number": camille.secure_phone_e164,
            "changed_at": camille.number_changed_at,
            "mysys": s.get(MySysContact, CAMILLE).secure_phone_e164,  # type: ignore[union-attr]
            "customers": sorted(
                (c.identifier, c.secure_phone_e164, c.number_changed_at, c.number_confirmed_at, c.cooling_off_until,
                 c.stale_prompt_later_count, c.securpass_status, c.securpass_wrong_codes, c.securpass_moved_at,
                 c.frozen_at, c.frozen_reason, c.failed_logins, c.locked_until)
                for cid, c in customers.items() if cid in ids),
            "mysys_contacts": sorted((m.customer_ref, m.secure_phone_e164,
                                      m.version) for m in s.exec(select(MySysContact))
                                     if m.customer_ref in who.values()),
            "requests": sorted((r.id, r.status) for r in s.exec(select(ChangeRequest)) if r.customer_id in ids),
            "sessions": sorted((u.id, u.principal_kind, u.principal_id, u.ended_at, u.end_reason, u.device_id)
                               for u in s.exec(select(UserSession))
                               if identifiers is None or (u.principal_kind == "customer" and u.principal_id in ids)),
            "devices": sorted((d.id, d.customer_id or 0, d.status, d.public_jwk or "", d.code_hash or "", d.demo)
                              for d in s.exec(select(Device)) if identifiers is None or d.customer_id in ids),
            "contacts": sorted((c.id, c.status, c.advisor_id or 0, c.note or "") for c in s.exec(select(ContactRequest))
                               if c.customer_id in ids),
            "operations": sorted((o.id, o.status, o.validator_id or 0) for o in s.exec(select(AdvisorOperation))
                                 if o.customer_id in ids),
            "calls": sorted((c.id, c.advisor_id, c.ended_at, c.end_reason, c.reported_at)
                            for c in s.exec(select(BankCall)) if c.customer_id in ids),
            "sms_codes": sorted((c.id, c.used_at, c.revoked_at, c.failures) for c in s.exec(select(SmsCode))
                                if c.customer_id in ids),
            "outbox": sorted(o.key for o in s.exec(select(Outbox)) if identifiers is None or o.customer_id in ids),
            "audit": sorted(Counter((who.get(e.customer_id or 0, ""), e.action) for e in s.exec(select(AuditEntry))
                                    if e.outcome in DONE and (identifiers is None or e.customer_id in ids)
                                    and e.action != "audit_checkpoint").items()),  # the dispatcher's, each minute
            "reveals": len([e for e in s.exec(select(AuditEntry).where(AuditEntry.action == "advisor_reveal_number"))
                            if e.customer_id in ids]),
        }


def differences(before: dict, after: dict) -> dict:
    """What changed, aspect by aspect (rows gone, rows new)."""
    changed = {}
    for aspect in before:
        if before[aspect] != after[aspect]:
            if isinstance(before[aspect], list):
                changed[aspect] = {"gone": [r for r in before[aspect] if r not in after[aspect]],
                                   "new": [r for r in after[aspect] if r not in before[aspect]]}
            else:
                changed[aspect] = (before[aspect], after[aspect])
    return changed


def customer_ids(db_url: str) -> dict[str, int]:
    with read_only(db_url) as s:
        return {c.identifier: c.id for c in s.exec(select(Customer))}  # type: ignore[misc]


def advisor_id(db_url: str, login_name: str) -> int:
    with read_only(db_url) as s:
        return s.exec(select(Advisor.id).where(Advisor.login == login_name)).one()  # type: ignore[return-value]


def camille_pending_request(db_url: str) -> str:
    """Camille (web) asks for a new number: a live request a forger would like to approve or cancel (made as
    the seed's journey makes it, straight to the phone: as it stands once its new number is proven)."""
    cid = customer_ids(db_url)[CAMILLE]
    now = datetime.now(UTC)
    actor = customer_actor(cid)
    number = change.check_new_number(UnitOfWork(db_url, now=now, policy=SEED_JOURNEY), cid, NEW_RAW, "FR", actor=actor)
    view = change.start_request(UnitOfWork(db_url, now=now, policy=SEED_JOURNEY), cid, number.e164,
                                channel=Channel.WEB, actor=actor)
    assert view.status == "pending_approval"
    return view.id


def device_of(db_url: str, identifier: str) -> str:
    with read_only(db_url) as s:
        cid = s.exec(select(Customer.id).where(Customer.identifier == identifier)).one()
        return s.exec(select(Device.id).where(Device.customer_id == cid, Device.status == "enrolled")).one()


def session_ids(db_url: str) -> set[str]:
    with read_only(db_url) as s:
        return {row.id for row in s.exec(select(UserSession))}


class PhoneKey:
    """A P-256 key pair the forger holds, as a phone's browser would (WebCrypto's r‖s signatures)."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def jwk(self) -> dict[str, str]:
        numbers = self._key.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big"))}

    def sign(self, text: str) -> str:
        r, s = decode_dss_signature(self._key.sign(text.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
        return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def raw_app_login(client: RawClient, identifier: str, key: PhoneKey | None = None, password: str = PASSWORD) -> None:
    """The app's login over the raw socket: ``app_login``, then ``app_login_signed`` with the phone's signature of
    the login text the server gave (``key``: a phone key the forger holds; without one, as a browser whose phone
    has no key, the session is then nobody's phone)."""
    client.send(f"{APP}.app_login", {"form": {"identifier": identifier, "password": password}})
    frames = "\n".join(client.settle(quiet=0.2))
    found = re.findall(r'"login_challenge_rx_state_":("(?:[^"\\]|\\.)*")', frames)
    challenge = json.loads(found[-1]) if found else ""
    result = {"ok": True, "signature": key.sign(challenge)} if key and challenge else {"ok": False}
    client.send(f"{APP}.app_login_signed", {"result": result})


def advisor_actor(db_url: str, login_name: str = "sophie.lambert") -> Actor:
    return Actor(kind="advisor", id=str(advisor_id(db_url, login_name)), channel="advisor", ip="192.0.2.30",
                 user_agent="pytest")


@dataclass(frozen=True)
class Targets:
    """What the forgers aim at: the victims' live things."""

    request: str  # Camille's live request (web), waiting for her phone
    contact: str  # Camille's open contact request
    validation: str  # Inès's in-branch change of number, waiting for a second advisor of Paris Opéra
    operation: str  # Inès's in-branch unblock of Sécur'Pass, waiting for a second advisor
    device: str  # Camille's phone (a seeded demo device)
    choice: str  # what the forged picker asks for (see COVERAGE[AppState, pick_phone])
    jwk: dict = field(default_factory=lambda: PhoneKey().jwk)  # a key the forger holds


VICTIMS = (CAMILLE, INES)


def victims(db_url: str, choice: str = HUGO) -> Targets:
    """Camille: a live web session, a live request, an open contact request, Sophie's call in progress (§12.5).
    Inès: an in-branch change and an in-branch unblock entered by Sophie, each waiting for a second advisor (she
    said « Ce n'est plus mon numéro », a risk signal)."""
    ids = customer_ids(db_url)
    now = datetime.now(UTC)
    request = camille_pending_request(db_url)
    auth.login_customer(UnitOfWork(db_url, now=now), CAMILLE, PASSWORD, channel="web",
                        actor=customer_actor(ids[CAMILLE]))
    contact_id = contact.request_callback(UnitOfWork(db_url, now=now), ids[CAMILLE], "other", channel="web",
                                          actor=customer_actor(ids[CAMILLE]))
    activation.not_my_number(UnitOfWork(db_url, now=now), ids[INES], actor=customer_actor(ids[INES], "app"))
    with transaction(db_url) as s:
        ines = s.get(Customer, ids[INES])
        ines.securpass_status = "blocked"  # type: ignore[union-attr]
        s.add(ines)
    sophie, actor = advisor_id(db_url, "sophie.lambert"), advisor_actor(db_url)
    in_branch = dict(document_type="cni", document_number="X1234567", in_branch=True, actor=actor)
    # The seed's journey (§12.3's switch off): the change waits for the second advisor straight away, not for the
    # code the new number received.
    validation = advisor_service.advisor_change(UnitOfWork(db_url, now=now, policy=SEED_JOURNEY), sophie, INES,
                                                raw_number=INES_ADVISOR_RAW, region="FR", **in_branch)
    operation = advisor_service.request_operation(UnitOfWork(db_url, now=now), sophie, INES, kind="unblock_securpass",
                                                  **in_branch)
    assert validation.status == operation.status == "pending_validation"
    calls.start_call(UnitOfWork(db_url, now=now), sophie, CAMILLE, actor=actor)  # §12.5: Sophie on the phone with her
    return Targets(request=request, contact=contact_id, validation=validation.request_id,
                   operation=operation.operation_id, device=device_of(db_url, CAMILLE), choice=choice)


# --- what the browser holds ---------------------------------------------------------------------


def assert_no_session_secret(frames: list[str], page: Page, db_url: str) -> None:
    """No live session's reference reaches the browser, and its binding value (whose SHA-256 the session
    keeps) reaches it only where it must: the login's cookie-binding script, and the HttpOnly cookie that
    script makes, which page scripts cannot read."""
    with read_only(db_url) as s:
        rows = s.exec(select(UserSession)).all()
    ids, bindings = {r.id for r in rows}, {r.binding_hash for r in rows if r.binding_hash}
    assert ids and bindings, "no session to look for"
    scripts = page.evaluate("() => JSON.stringify({session: {...sessionStorage}, local: {...localStorage}, "
                            "cookie: document.cookie})") + page.content()
    everything = "\n".join(frames) + scripts + json.dumps(page.context.cookies())
    for session_id in ids:
        assert session_id not in everything, "a session reference reached the browser"
    outside_bind = "\n".join(f for f in frames if "/api/session/bind" not in f) + scripts
    assert any("/api/session/bind" in f for f in frames), "the login's binding script was recorded"
    # token_urlsafe(32) is 43 URL-safe characters: try every 43-character window of every such run.
    for run in re.findall(r"[A-Za-z0-9_\-]{43,}", outside_bind):
        for start in range(len(run) - 42):
            assert hashlib.sha256(run[start:start + 43].encode()).hexdigest() not in bindings, \
                "a binding value reached the browser outside its HttpOnly cookie"


def assert_no_full_number(text: str, e164: str = CAMILLE_OLD) -> None:
    for form in number_forms(e164):
        assert form not in text, f"the full number {form!r} reached the browser"


def assert_no_code(text: str, code: str) -> None:
    assert not re.search(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])", text), f"the code {code} reached the browser"


# The picker's phones (a label and its holder's name, for the page to say it in its language): public in demo mode.
PUBLIC_LABELS = re.compile(r"Smartphone de [A-Z][^\"\\]*|\"holder\":\"[^\"\\]*\"")


def personal(text: str, t: Targets | None = None, nobody: bool = True) -> list[str]:
    """What of the victims (Camille, Inès) the text holds; with ``nobody``, also any sign of a logged-in
    customer or advisor (for a client that should be nobody). The picker's labels are public."""
    text = PUBLIC_LABELS.sub("", text)
    markers = ['"first_name_rx_state_":"Camille"', '"last_name_rx_state_":"Martin"', "Camille Martin",
               "camille.martin@", "•• 78", '"masked_last_two_rx_state_":"78"', "07 •• •• •• 99", NEW_RAW,
               "Inès Garnier", "ines.garnier@", "•• 90", INES_ADVISOR_RAW, "07 •• •• •• 22",
               # §12.5: Sophie's call to Camille, as her app and Sophie's sheet show it
               '"call_advisor_rx_state_":"Sophie', '"call_by_rx_state_":"Sophie']
    if t is not None:
        markers += [t.request, t.contact, t.validation, t.operation]
    if nobody:
        markers += [LOGGED_IN, "••", "Agence ", "Lambert", "Benali", "Haddad"]
    found = [m for m in markers if m in text]
    for e164 in (CAMILLE_OLD, NEW_E164, "+33634567890", "+33755443322"):
        found += [form for form in number_forms(e164) if form in text]
    return found


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


@pytest.fixture
def victim(browser: Browser, server: dict) -> Iterator[Page]:
    """The victim's own browser (its tabs are raw sockets of this page)."""
    context = browser.new_context(base_url=server["base_url"], locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/connexion")
    expect(page.get_by_label("Identifiant")).to_be_visible()
    yield page
    context.close()


# --- every handler of every state, and how it is forged -------------------------------------------

SIGNATURE = "A" * 86  # base64url of 64 bytes, the shape of a WebCrypto P-256 signature
HUGE = "9" * 100_000
HOSTILE: tuple[Any, ...] = (None, 0, True, [CAMILLE], {"$ne": ""}, HUGE, f"{CAMILLE}\x00", "\x00",
                            "' OR '1'='1' --", "<img src=x onerror=alert(1)>")
"""Every parameter of every handler gets each of these in turn: wrong types, huge, NUL bytes, injections."""
IN_FORM: tuple[Any, ...] = (None, [CAMILLE], {"$ne": ""}, HUGE, "\x00")
"""Every field a dict argument is read for gets each of these in turn."""
NO_LOGIN = {"identifier": "", "password": ""}  # the hostile fields then never reach a password check


def in_branch_form(**more: Any) -> dict:
    return {"document_type": "cni", "document_number": "X1234567", "in_branch": True, **more}


def hostile_logins(id_field: str) -> Callable[[Targets], list[dict]]:
    """Logins that reach the password check with hostile identifiers (each counts as one failure from
    this address: two per login handler stay under the per-address throttle)."""
    return lambda t: [{"form": {id_field: [CAMILLE], "password": PASSWORD}},
                      {"form": {id_field: HUGE, "password": HUGE}}]


@dataclass(frozen=True)
class Forge:
    """How one handler is forged in every situation, and what must hold then (in words: the situation
    tests hold the assertions).

    Beyond ``aimed`` (payloads aimed at the victims), every parameter gets every :data:`HOSTILE` value, and
    every field of a dict argument listed in ``fields`` every :data:`IN_FORM` value.
    """

    expect: str
    aimed: Callable[[Targets], list[dict]] = lambda t: []
    fields: Callable[[Targets], dict[str, dict]] = lambda t: {}
    prelude: Callable[[Targets], list[tuple[str, dict]]] = lambda t: []  # sent before, every time
    public: bool = False  # public by design: answers anyone (hostile arguments still change nothing)
    ends: bool = False  # may end or forget the session it runs in: sent last, and on its own closed tab in (c)


GUARDED = "refused (a ticket is asked for, at most) without this socket's own live session"
FLOW = f"{GUARDED}; then touches only the session's own flow on screen"
ACTS = f"{GUARDED}; then acts only on the session's own customer"
ADVISOR_ACTS = "refused without this socket's own advisor session; then only on the open sheet of the advisor's agency"


def _shared(state: str) -> dict[str, Forge]:
    """The handlers WebState and AppState share (CustomerAuth and ChangeFlow)."""
    login_field = {"form": NO_LOGIN}
    return {
        "login": Forge("public: opens a session only with the right password", hostile_logins("identifier"),
                       lambda t: login_field, public=True),
        "logout": Forge("ends only this socket's own session; a copied token's socket is nobody's", ends=True),
        "resume": Forge(
            "public: rejoins only with an unused ticket issued for the session the state names",
            lambda t: [{"result": {"ok": True, "ticket": "A" * 43}}, {"result": {"ticket": t.request}}],
            lambda t: {"result": {"ok": True, "ticket": "A" * 43}}, public=True, ends=True),
        "start_change": Forge(ACTS),
        "stay_signed_in": Forge(f"{GUARDED}; then only moves this session's own idle timer"),
        "set_region": Forge("public: sets only a listed region of the tab's own form",
                            lambda t: [{"value": "XX"}, {"value": "FR"}], public=True),
        "submit_number": Forge(ACTS, lambda t: [{"form": {"number": OTHER_RAW}}],
                               lambda t: {"form": {"number": OTHER_RAW}}),
        "edit_number": Forge(FLOW),
        "confirm": Forge(f"{ACTS} (with the number this session entered)"),
        "cancel_flow": Forge(FLOW),
        "back_to_overview": Forge(FLOW),
        "watch_expiry": Forge(f"{GUARDED}; then only re-reads the session's own request"),
        "activation_help": Forge(FLOW),
        "show_advisor": Forge(FLOW, lambda t: [{"reason": "securpass_blocked"}]),
        "show_advisor_for_eligibility": Forge(FLOW),
        "request_callback": Forge(ACTS),
        "stale_yes": Forge(ACTS),
        "stale_confirm": Forge(ACTS, lambda t: [{"form": {"code": "12345678"}}],
                               lambda t: {"form": {"code": "12345678"}}),
        "stale_later": Forge(ACTS),
        "prove_number": Forge(f"{ACTS}: proves only the request this session started, with its code",
                              lambda t: [{"form": {"code": "123456"}}], lambda t: {"form": {"code": "123456"}}),
        "resend_proof": Forge(f"{ACTS}: a code only for the request this session started"),
        "cancel_request": Forge(f"{ACTS}: cancels only the request this session started"),
        "stale_change": Forge(ACTS),
        "report_call": Forge(f"{ACTS}: reports a call to the session's own customer only"),
        "watch_call": Forge(f"{GUARDED}; then only re-reads the session's own customer's bank call, one watcher per "
                            "session however often it is sent (test_watch_call_runs_at_most_once_per_session…)"),
        "setvar": Forge(
            "public: sets only what has a setter (the region); never the login flag, a request or the session",
            lambda t: [{"var_name": name, "value": value} for name, value in (
                ("logged_in", True), ("request_id", t.request), ("_session_id", t.request),
                ("_bound_sid", "x"), ("_new_e164", "+33781223344"), ("region", "XX"), ("screen", "wait"))],
            public=True),
    }


COVERAGE: dict[tuple[str, str], Forge] = {
    **{("WebState", name): forge for name, forge in _shared("web").items()},
    ("WebState", "login_and_go"): Forge("public: opens a session only with the right password",
                                        hostile_logins("identifier"), lambda t: {"form": NO_LOGIN}, public=True),
    ("WebState", "load_home"): Forge("public (on load): the page of a live session, else a ticket or the login page",
                                     public=True),
    ("WebState", "load_login"): Forge("public (on load): a ticket for a session the state names, at most", public=True),
    ("WebState", "logout_and_leave"): Forge("ends only this socket's own session", ends=True),

    **{("AppState", name): forge for name, forge in _shared("app").items()},
    ("AppState", "app_login"): Forge("public: holds the credentials (in memory) for this socket's own signed login",
                                     hostile_logins("identifier"), lambda t: {"form": NO_LOGIN}, public=True),
    ("AppState", "app_login_signed"): Forge(
        "public: completes only this socket's own app_login; a session is the phone's only when the phone signed",
        lambda t: [{"result": {"ok": True, "signature": "A" * 86}}, {"result": {"ok": False}}],
        lambda t: {"result": {"ok": True, "signature": "A" * 86}},
        prelude=lambda t: [(f"{APP}.app_login", {"form": NO_LOGIN})],
        public=True),
    ("AppState", "load"): Forge(
        "public (on load): which phone this is; logs out only a session this socket holds",
        prelude=lambda t: [(UPDATE_VARS, {"vars": {f"{APP}.device_id": "not-a-phone"}})], public=True, ends=True),
    ("AppState", "pick_phone"): Forge(
        "public in demo mode: re-keys only a demo device, never when logged in (choice: HUGO, who has no "
        "phone, in (a); Camille's own demo phone where the forger is logged in, (b) and (c))",
        lambda t: [{"choice": t.choice}], public=True),
    ("AppState", "phone_key_made"): Forge(
        "public in demo mode: completes only this socket's own pick_phone, never when logged in",
        lambda t: [{"result": {"ok": True, "jwk": t.jwk}}], lambda t: {"result": {"ok": True, "jwk": t.jwk}},
        prelude=lambda t: [(f"{APP}.pick_phone", {"choice": t.choice})], public=True),
    ("AppState", "change_phone"): Forge("public in demo mode: forgets this browser's phone; logs out only a "
                                        "session this socket holds", public=True, ends=True),
    ("AppState", "refresh_approval"): Forge(f"{GUARDED}; then re-reads the session's own request"),
    ("AppState", "send_activation_code"): Forge(f"{ACTS}: a code only for the session's own new phone"),
    ("AppState", "check_new_phone"): Forge(f"{ACTS}: asks the operator only when the landing left its J4 check due"),
    ("AppState", "activate"): Forge(f"{ACTS}: the codes wait in memory for this socket's signature",
                                    lambda t: [{"form": {"code": "12345678", "pin": CODE}}],
                                    lambda t: {"form": {"code": "12345678", "pin": CODE}}),
    ("AppState", "activation_signed"): Forge(
        f"{ACTS}: only after this socket's own activate, with the new phone's signature",
        lambda t: [{"result": {"ok": True, "signature": SIGNATURE}}],
        lambda t: {"result": {"ok": True, "signature": SIGNATURE}},
        prelude=lambda t: [(f"{APP}.activate", {"form": {"code": "12345678", "pin": CODE}})]),
    ("AppState", "not_my_number"): Forge(ACTS),
    ("AppState", "validate"): Forge(f"{ACTS}: the code waits in memory for this socket's signature",
                                    lambda t: [{"form": {"code": CODE}}], lambda t: {"form": {"code": CODE}}),
    ("AppState", "approval_signed"): Forge(
        f"{ACTS}: approves only after this socket's own validate, with the enrolled phone's signature",
        lambda t: [{"result": {"ok": True, "signature": SIGNATURE}}],
        lambda t: {"result": {"ok": True, "signature": SIGNATURE}},
        prelude=lambda t: [(f"{APP}.validate", {"form": {"code": CODE}})]),
    ("AppState", "start_refusal"): Forge(FLOW),
    ("AppState", "stop_refusal"): Forge(FLOW),
    ("AppState", "refuse"): Forge(f"{ACTS}: the reason waits for this socket's signature",
                                  lambda t: [{"form": {"reason": "not_me"}}], lambda t: {"form": {"reason": "not_me"}}),
    ("AppState", "refusal_signed"): Forge(
        f"{ACTS}: refuses only after this socket's own refuse, with the enrolled phone's signature",
        lambda t: [{"result": {"ok": True, "signature": SIGNATURE}}],
        lambda t: {"result": {"ok": True, "signature": SIGNATURE}},
        prelude=lambda t: [(f"{APP}.refuse", {"form": {"reason": "not_me"}})]),
    ("AppState", "refused_seen"): Forge(FLOW),

    ("AdvisorState", "login"): Forge("public: opens a session only with the right password",
                                     hostile_logins("login"), lambda t: {"form": {"login": "", "password": ""}},
                                     public=True),
    ("AdvisorState", "logout"): Forge("ends only this socket's own session", ends=True),
    ("AdvisorState", "resume"): Forge(
        "public: rejoins only with an unused ticket issued for the session the state names",
        lambda t: [{"result": {"ok": True, "ticket": "A" * 43}}, {"result": {"ticket": t.validation}}],
        lambda t: {"result": {"ok": True, "ticket": "A" * 43}}, public=True, ends=True),
    ("AdvisorState", "load"): Forge("public (on load): the home of a live session, else a ticket at most", public=True),
    ("AdvisorState", "search"): Forge(
        "refused without this socket's own advisor session; finds only the advisor's agency's customers",
        lambda t: [{"form": {"query": "Martin"}}, {"form": {"query": CAMILLE}}, {"form": {"query": "%"}}],
        lambda t: {"form": {"query": "Martin"}}),
    ("AdvisorState", "open_sheet"): Forge(
        "refused without this socket's own advisor session; opens only a sheet of the advisor's agency",
        lambda t: [{"identifier": CAMILLE}, {"identifier": INES}]),
    ("AdvisorState", "back"): Forge(GUARDED),
    ("AdvisorState", "stay_signed_in"): Forge(f"{GUARDED}; then only moves this session's own idle timer"),
    ("AdvisorState", "reveal"): Forge(f"{ADVISOR_ACTS} (audited)"),
    ("AdvisorState", "take"): Forge("refused without this socket's own advisor session; takes only the agency's "
                                    "contact requests", lambda t: [{"contact_id": t.contact}]),
    ("AdvisorState", "close"): Forge("refused without this socket's own advisor session; closes only the agency's "
                                     "contact requests", lambda t: [{"form": {"contact": t.contact, "note": "forged"}}],
                                     lambda t: {"form": {"contact": t.contact, "note": "forged"}}),
    ("AdvisorState", "change"): Forge(f"{ADVISOR_ACTS}, with an in-branch identity check",
                                      lambda t: [{"form": in_branch_form(number=OTHER_RAW, country="FR")}],
                                      lambda t: {"form": in_branch_form(number=OTHER_RAW, country="FR")}),
    ("AdvisorState", "operate"): Forge(
        f"{ADVISOR_ACTS}, with an in-branch identity check",
        lambda t: [{"form": in_branch_form(kind="unblock_securpass")}, {"form": in_branch_form(kind="clear_freeze")}],
        lambda t: {"form": in_branch_form(kind="unblock_securpass")}),
    ("AdvisorState", "end_sessions"): Forge(ADVISOR_ACTS),
    ("AdvisorState", "start_call"): Forge(f"{ADVISOR_ACTS}: one open call per customer (audited)"),
    ("AdvisorState", "end_call"): Forge(f"{ADVISOR_ACTS}: hangs up only the call this advisor started (audited)"),
    ("AdvisorState", "prove_change"): Forge(f"{ADVISOR_ACTS}: proves only the change this advisor entered",
                                            lambda t: [{"form": {"code": "123456"}}],
                                            lambda t: {"form": {"code": "123456"}}),
    ("AdvisorState", "resend_change_proof"): Forge(f"{ADVISOR_ACTS}: a code only for the change this advisor entered"),
    ("AdvisorState", "validate"): Forge(
        "refused without this socket's own advisor session; validates only the agency's changes, never one's own",
        lambda t: [{"request_id": t.validation}, {"request_id": t.request}]),
    ("AdvisorState", "validate_operation"): Forge(
        "refused without this socket's own advisor session; validates only the agency's operations, never one's own",
        lambda t: [{"operation_id": t.operation}]),
    ("AdvisorState", "check_forwarding"): Forge(
        f"{ADVISOR_ACTS}: asks the operator about the open sheet's customer only (stored and audited)"),
    ("AdvisorState", "demo_signal"): Forge(
        f"{ADVISOR_ACTS}; demo mode only, refused when it is off "
        "(test_the_demo_operator_control_is_refused_without_demo_mode): the simulated operator's state, never the "
        "bank's", lambda t: [{"form": {"number": OTHER_RAW, "signal": "sim_swap"}}],
        lambda t: {"form": {"number": OTHER_RAW, "signal": "forwarding"}}),
    ("AdvisorState", "setvar"): Forge(
        "public: no var of the advisor state has a setter",
        lambda t: [{"var_name": name, "value": value} for name, value in (
            ("logged_in", True), ("identifier", CAMILLE), ("screen", "sheet"), ("_session_id", "x"),
            ("_customer_id", 1))], public=True),

    ("LangState", "toggle"): Forge("public: the interface language only", public=True),
    ("LangState", "sync_html_lang"): Forge("public: the page's lang attribute only", public=True),
    ("LangState", "setvar"): Forge("public: no setter (the language is browser storage)",
                                   lambda t: [{"var_name": "lang", "value": "en"}], public=True),

    ("MessagesState", "refresh"): Forge(
        "public in demo mode only (§12.1: the demo inboxes, empty in these situations); nothing else", public=True),
    ("MessagesState", "setvar"): Forge("public: no setter", lambda t: [{"var_name": "inboxes", "value": []}],
                                       public=True),
    ("MessagesState", "filter"): Forge(
        "public in demo mode only: this tab's filter of the demo inboxes (any text, bounded); nothing else",
        lambda t: [{"value": "06 12"}], public=True),

    # /demo (§12.1: demo mode only). A seeded persona's story is demo data, shown to anyone in demo mode as the
    # inboxes are; the forgers tell Hugo's (no victim's), and nothing of the bank's is written.
    ("DemoState", "load"): Forge("public in demo mode only (on load): this tab's own choosers and story", public=True),
    ("DemoState", "suggest"): Forge("public in demo mode only: this tab's scenario chooser (a known scenario)",
                                    lambda t: [{"value": "j4"}], public=True),
    ("DemoState", "pick_persona"): Forge("public in demo mode only: this tab's persona chooser (a seeded persona)",
                                         lambda t: [{"value": HUGO}], public=True),
    ("DemoState", "start"): Forge(
        "public in demo mode only: this tab's story of a seeded persona; writes this tab's live subscription, "
        "nothing of the bank's", lambda t: [{"form": {"scenario": "j4", "persona": HUGO}}],
        lambda t: {"form": {"scenario": "j4", "persona": HUGO}}, public=True),
    ("DemoState", "next_step"): Forge("public in demo mode only: moves this tab's own story", public=True),
    ("DemoState", "previous_step"): Forge("public in demo mode only: moves this tab's own story", public=True),
    ("DemoState", "restart"): Forge("public in demo mode only: restarts this tab's own story", public=True),
    ("DemoState", "setvar"): Forge(
        "public: no setter (neither the persona, the scenario nor the step)",
        lambda t: [{"var_name": name, "value": value} for name, value in (
            ("persona", CAMILLE), ("scenario", "j1"), ("position", 3), ("since", ""), ("version", 1))],
        public=True),
}

STATES: dict[str, type] = {"WebState": WebState, "AppState": AppState, "AdvisorState": AdvisorState,
                           "LangState": LangState, "MessagesState": MessagesState, "DemoState": DemoState}


def app_states() -> dict[str, type]:
    """Every state of the app: the subclasses of Reflex's BaseState once the app is imported, but Reflex's
    own (by module) and mixins (which only lend their handlers to the states that use them)."""
    from reflex.state import BaseState

    import secure_phone.secure_phone  # noqa: F401  (the app, and through it every page and state)

    found: dict[str, type] = {}
    pending: list[type] = [BaseState]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.split(".")[0].startswith("reflex") or getattr(sub, "_mixin", False):
                continue
            found[sub.__name__] = sub
    return found


def params(key: tuple[str, str]) -> list[str]:
    handler = STATES[key[0]].event_handlers[key[1]]  # type: ignore[attr-defined]
    return [p for p in inspect.signature(handler.fn).parameters if p != "self"]


def full_name(key: tuple[str, str]) -> str:
    return f"{STATES[key[0]].get_full_name()}.{key[1]}"  # type: ignore[attr-defined]


def payloads(key: tuple[str, str], t: Targets) -> list[dict]:
    """The aimed payloads, then every parameter with every hostile value, then every listed field of a
    dict argument with every hostile value (the other arguments plausible)."""
    forge, names = COVERAGE[key], params(key)
    aimed = forge.aimed(t)
    out = list(aimed) if aimed or names else [{}]
    plausible = {name: (aimed[0] if aimed else {}).get(name, "x") for name in names}
    for name in names:
        out += [{**plausible, name: value} for value in HOSTILE]
        base = forge.fields(t).get(name)
        if base:
            out += [{**plausible, name: {**base, field_name: value}} for field_name in base for value in IN_FORM]
    return out


def events(key: tuple[str, str], t: Targets) -> list[tuple[str, dict]]:
    forge, name = COVERAGE[key], full_name(key)
    out: list[tuple[str, dict]] = []
    for payload in payloads(key, t):
        out += forge.prelude(t) + [(name, payload)]
    return out


def keys_of(*state_names: str, ends: bool | None = False) -> list[tuple[str, str]]:
    """The table's keys for these states, in the table's order (the flows' order): the handlers that may
    end the session they run in after the others (``ends=None``), or without them (``False``), or only them."""
    keys = [k for k in COVERAGE if k[0] in state_names]
    if ends is None:
        return [k for k in keys if not COVERAGE[k].ends] + [k for k in keys if COVERAGE[k].ends]
    return [k for k in keys if COVERAGE[k].ends == ends]


FORGED_STORAGE = [
    # Client storage is all update_vars may set (the phone's id, the language); try the session anyway.
    (UPDATE_VARS, {"vars": {f"{WEB}._session_id": "forged", f"{WEB}._bound_sid": "forged", f"{WEB}.logged_in": True,
                            f"{APP}._session_id": "forged", f"{APP}.logged_in": True, f"{ADV}._session_id": "forged",
                            f"{ADV}.logged_in": True, f"{ADV}.screen": "sheet", f"{ADV}.identifier": CAMILLE,
                            f"{WEB}.request_id": "forged", f"{LANG}.lang": HUGE}}),
]


def forge_all(client: RawClient, keys: list[tuple[str, str]], t: Targets) -> list[tuple[str, dict, str]]:
    """Every payload of every handler of ``keys`` on one socket; LangState's apart (they answer with the
    marker's own frame), after the others. The socket must still answer at the end."""
    answers = client.forge(FORGED_STORAGE + [e for key in keys if key[0] != "LangState" for e in events(key, t)])
    lang = [e for key in keys if key[0] == "LangState" for e in events(key, t)]
    if not lang:
        return answers
    start = client.count()
    for name, payload in lang:
        client.send(name, payload)
    client.settle(quiet=0.2)
    return answers + [(f"{LANG}.*", {}, "\n".join(client.since(start)))]  # LangState's, answered together


def assert_reach(client: RawClient, keys: list[tuple[str, str]]) -> None:
    """Positive control: each name reaches its handler. Sent with an argument the handler does not take,
    it is refused by the handler's signature (Reflex's error toast), while a made-up name is silently dropped."""
    probe = {"forged_probe_argument": 1}
    foreground = [k for k in keys if not STATES[k[0]].event_handlers[k[1]].is_background]  # type: ignore[attr-defined]
    background = [k for k in keys if k not in foreground]
    answers = client.forge([(full_name(k), probe) for k in foreground] + [(f"{WEB}.no_such_handler", probe)])
    missed = [name for name, _, text in answers[:-1] if BACKEND_ERROR not in text]
    assert not missed, f"these names reached no handler: {missed}"
    assert BACKEND_ERROR not in answers[-1][2], "a made-up name is answered like a handler: the control proves nothing"
    for key in background:  # a background task answers when it runs, not in the socket's order
        start = client.count()
        client.send(full_name(key), probe)
        deadline = time.monotonic() + 10
        while not any(BACKEND_ERROR in f for f in client.since(start)):
            assert time.monotonic() < deadline, f"{full_name(key)} reached no handler"
            time.sleep(0.1)


def label(name: str) -> str:
    """``web_state.login`` for an event's full name."""
    state, handler = name.rsplit(".", 1)
    return f"{state.rsplit('.', 1)[-1].split('____')[-1]}.{handler}"


def leaks(answers: list[tuple[str, dict, str]], t: Targets | None, nobody: bool = True) -> dict[str, list[str]]:
    """What of the victims each event was answered with (see :func:`personal`)."""
    found: dict[str, list[str]] = {}
    for name, _, text in answers:
        for what in personal(text, t, nobody):
            if what not in found.setdefault(label(name), []):
                found[label(name)].append(what)
    return found


def test_every_event_handler_of_the_app_is_in_the_coverage_table() -> None:
    """The table is the app's handlers, no more, no less: a new handler is forged before it ships."""
    states = app_states()
    assert set(states) >= {"WebState", "AppState", "AdvisorState", "LangState", "MessagesState"}, sorted(states)
    assert set(states) == set(STATES), f"states of the app not in STATES (or gone): {set(states) ^ set(STATES)}"
    handlers = {(name, handler) for name, cls in states.items() for handler in cls.event_handlers}
    missing = sorted(handlers - set(COVERAGE))
    gone = sorted(set(COVERAGE) - handlers)
    assert not missing, f"handlers the forged-event suite does not cover (add them to COVERAGE): {missing}"
    assert not gone, f"COVERAGE entries that are no longer handlers of the app (remove them): {gone}"
    for cls in states.values():
        assert cls is STATES[cls.__name__], f"{cls.__name__} is not the class the tests forge"
    # Every aimed payload names the handler's own arguments: a forged call is the handler's, not a TypeError.
    t = Targets(request="r", contact="c", validation="v", operation="o", device="d", choice=HUGO)
    for key, forge in COVERAGE.items():
        names = set(params(key))
        for payload in forge.aimed(t):
            assert set(payload) == names, f"{key}: {sorted(payload)} is not the handler's arguments {sorted(names)}"
        assert set(forge.fields(t)) <= names, f"{key}: fields of arguments it does not take"


# --- (a) a client that never logged in ------------------------------------------------------------


def test_a_client_that_never_logged_in_changes_nothing(server: dict, attacker: Page) -> None:
    """Every handler of every state, every payload, on a socket that never logged in, against Camille's live
    session, request and contact request and Inès's in-branch operations waiting for a second advisor."""
    db_url = server["db_url"]
    t = victims(db_url)
    before = snapshot(db_url)
    assert before["number"] == CAMILLE_OLD and len(before["sessions"]) == 1

    forger = RawClient(attacker)
    assert_reach(forger, list(COVERAGE))
    answers = forge_all(forger, keys_of(*STATES, ends=None), t)
    # Forgers do not stop at one try: the approval again, straight away.
    forger.send(f"{APP}.approval_signed", {"result": {"ok": True, "signature": SIGNATURE}})
    received = "\n".join(forger.settle())

    after = snapshot(db_url)
    assert after == before, differences(before, after)
    assert after["number"] == CAMILLE_OLD and after["mysys"] == CAMILLE_OLD and after["changed_at"] is None
    assert (t.request, "pending_approval") in after["requests"]
    # Nothing about any customer came back either.
    assert not leaks(answers, t), leaks(answers, t)
    assert not personal(received, t)
    assert_no_full_number(received)

    # Positive control, on the same socket: the same protocol and names do reach the handlers.
    forger.send(f"{WEB}.login_and_go", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    received = "\n".join(forger.settle())
    assert LOGGED_IN in received and '"first_name_rx_state_":"Julien"' in received
    assert (t.request, "pending_approval") in snapshot(db_url)["requests"]


# --- (b) logged in, but as someone else -------------------------------------------------------------


def test_another_customers_and_another_agencys_sessions_cannot_touch_camilles_request(
    server: dict, attacker: Page
) -> None:
    """Julien (web and app, his app naming Camille's phone) and Karim (Lyon advisor, on a sheet of his own
    agency) forge every handler of their state against Camille's live request, session, contact request
    and sheet, and Inès's in-branch change and unblock waiting for a second Paris advisor."""
    db_url = server["db_url"]
    t = victims(db_url, choice=device_of(db_url, CAMILLE))

    julien_web = RawClient(attacker)
    julien_web.send(f"{WEB}.login_and_go", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    julien_app = RawClient(attacker)
    julien_app.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": t.device}})  # Camille's phone id
    raw_app_login(julien_app, JULIEN)
    karim = RawClient(attacker)
    karim.send(f"{ADV}.login", {"form": {"login": "karim.haddad", "password": PASSWORD}})
    for client in (julien_web, julien_app, karim):
        assert LOGGED_IN in "\n".join(client.settle(quiet=0.3)), "the forger's own login is the positive control"
    karim.send(f"{ADV}.open_sheet", {"identifier": SARL})  # his own agency's customer: screen = sheet
    assert '"name_rx_state_":"SARL Atelier Roux"' in "\n".join(karim.settle(quiet=0.3))
    before = snapshot(db_url, VICTIMS)

    forgers = ((julien_web, ("WebState", "LangState", "MessagesState", "DemoState")), (julien_app, ("AppState",)),
               (karim, ("AdvisorState",)))
    answers = {}
    for client, state_names in forgers:
        assert_reach(client, keys_of(*state_names, ends=None))
        answers[client] = forge_all(client, keys_of(*state_names, ends=None), t)

    after = snapshot(db_url, VICTIMS)
    assert after == before, differences(before, after)
    assert after["number"] == CAMILLE_OLD and after["mysys"] == CAMILLE_OLD and after["changed_at"] is None
    assert (t.request, "pending_approval") in after["requests"]
    for client, _ in forgers:
        found = leaks(answers[client], t, nobody=False)
        assert not found, f"Camille's or Inès's data came back to another customer or agency: {found}"


# --- (c) a copied client token of a closed tab ----------------------------------------------------

CLOSED_TAB_LOGINS = {
    WEB: (f"{WEB}.login_and_go", {"identifier": CAMILLE, "password": PASSWORD}),
    APP: (f"{APP}.app_login", {"identifier": CAMILLE, "password": PASSWORD}),
    ADV: (f"{ADV}.login", {"login": "sophie.lambert", "password": PASSWORD}),
}
STATE_OF = {"WebState": WEB, "AppState": APP, "AdvisorState": ADV}


def bind_cookie(tab: RawClient, frames: list[str]) -> None:
    """Run the login's cookie-binding script, as Reflex's own client runs what the server sends."""
    for frame in frames:
        if not frame.startswith("42/_event,") or "/api/session/bind" not in frame:
            continue
        for event in json.loads(frame[len("42/_event,"):])[1].get("events", []):
            code = event.get("payload", {}).get("javascript_code", "")
            if "/api/session/bind" in code:
                status = tab.page.evaluate("code => Promise.resolve(eval(code)).then(r => r.status)", code)
                assert status == 204, f"the binding cookie was not set ({status})"
                return
    raise AssertionError("the login sent no cookie-binding script")


def proof_code(db_url: str, e164: str) -> str:
    """The §12.3 code the new number received last (its demo inbox, once the dispatcher delivered it)."""
    deadline = time.monotonic() + 10
    while True:
        with read_only(db_url) as s:
            bodies = s.exec(select(DemoMessage.body).where(DemoMessage.recipient == e164)
                            .order_by(DemoMessage.id.desc())).all()  # type: ignore[union-attr]
        found = [m.group(1) for body in bodies if (m := re.search(r"#(\d{6})\s*$", body))]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no proof code reached {e164}"
        time.sleep(0.1)


def closed_tab(page: Page, state: str, db_url: str, flow: bool = False, bind: bool = False) -> RawClient:
    """A tab of the victim's (Camille on the web or on her phone, Sophie) that logged in with the app's own
    login event — with ``bind``, its browser then holds the binding cookie, as the real page does — and,
    with ``flow``, went where the victim left it (Camille's web tab waiting for her phone, Sophie on
    Camille's sheet), then closed without logging out."""
    tab = RawClient(page)
    if state == APP:  # her phone: the demo phone picked up with a key of this tab's, the login signed by it
        key = PhoneKey()
        tab.send(f"{APP}.pick_phone", {"choice": CAMILLE})
        tab.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": key.jwk}})
        tab.settle(quiet=0.2)
        raw_app_login(tab, CAMILLE, key)
        frames = tab.settle(quiet=0.2)
    else:
        name, form = CLOSED_TAB_LOGINS[state]
        tab.send(name, {"form": form})
        frames = tab.settle(quiet=0.2)
    assert LOGGED_IN in "\n".join(frames), f"the victim's login on {state}"
    if bind:
        bind_cookie(tab, frames)
    if flow and state == WEB:
        for step, payload in ((f"{WEB}.start_change", {}), (f"{WEB}.submit_number", {"form": {"number": NEW_RAW}}),
                              (f"{WEB}.confirm", {})):
            tab.send(step, payload)
            tab.settle(quiet=0.1)
        if '"screen_rx_state_":"proof"' in "\n".join(tab.frames):  # §12.3: the code the new number received
            tab.send(f"{WEB}.prove_number", {"form": {"code": proof_code(db_url, NEW_E164)}})
            tab.settle(quiet=0.1)
        assert '"screen_rx_state_":"wait"' in "\n".join(tab.frames)
    elif flow and state == ADV:
        tab.send(f"{ADV}.open_sheet", {"identifier": CAMILLE})
        assert '"name_rx_state_":"Camille Martin"' in "\n".join(tab.settle(quiet=0.1))
        tab.send(f"{ADV}.start_call", {})  # §12.5: on the phone with Camille when the tab closed
        assert '"call_mine_rx_state_":true' in "\n".join(tab.settle(quiet=0.1))
    tab.close()
    return tab


def closed_tabs(page: Page, db_url: str, with_ends: bool) -> dict[str, RawClient]:
    """The main closed tab of each state ('WebState'…), and with ``with_ends`` one more closed tab for
    each handler that may end the session it runs in ('WebState.logout'…)."""
    tabs = {name: closed_tab(page, state, db_url, flow=True) for name, state in STATE_OF.items()}
    if with_ends:
        for key in keys_of(*STATE_OF, ends=True):
            tabs[".".join(key)] = closed_tab(page, STATE_OF[key[0]], db_url)
    time.sleep(1.5)  # the server notices the disconnects
    return tabs


IMPERSONATED = {  # guarded events sent with router data naming the closed tab's own socket, token and address
    "WebState": [(f"{WEB}.start_change", {}), (f"{WEB}.cancel_request", {})],
    "AppState": [(f"{APP}.start_change", {}), (f"{APP}.validate", {"form": {"code": CODE}}),
                 (f"{APP}.refuse", {"form": {"reason": "not_me"}})],
    "AdvisorState": [(f"{ADV}.reveal", {}), (f"{ADV}.end_sessions", {}), (f"{ADV}.end_call", {})],
}


def thief(page: Page, token: str) -> RawClient:
    """The thief connects with the copied token and hydrates, as any client does first."""
    client = RawClient(page, token)
    client.send(HYDRATE, {})
    client.settle(quiet=0.3)
    return client


def live_targets(db_url: str) -> Targets:
    with read_only(db_url) as s:
        request = s.exec(select(ChangeRequest.id).where(ChangeRequest.status == "pending_approval")).one()
    return Targets(request=request, contact="none", validation="none", operation="none",
                   device=device_of(db_url, CAMILLE), choice=device_of(db_url, CAMILLE))


def test_a_copied_token_of_a_closed_tab_changes_nothing(server: dict, victim: Page, attacker: Page) -> None:
    """Camille's web tab (waiting for her phone), her phone's app tab (showing the approval) and Sophie's
    back-office tab (on Camille's sheet) were closed without logging out; a thief who copied their client
    tokens forges every handler of their state. Each handler that may end the session it runs in gets a
    closed tab of its own, so that each is tried on a state that still names the victim's session.
    """
    db_url = server["db_url"]
    tabs = closed_tabs(victim, db_url, with_ends=True)
    t = live_targets(db_url)
    before = snapshot(db_url)
    assert len([row for row in before["sessions"] if row[3] is None]) == len(tabs), "one live session per tab"

    ended_by: dict[str, list[str]] = {}
    for tab, closed in tabs.items():
        live = {row[0] for row in snapshot(db_url)["sessions"] if row[3] is None}
        client = thief(attacker, closed.token)
        if "." in tab:
            keys = [tuple(tab.split("."))]
        else:
            keys = keys_of(tab, ends=False) + (keys_of("LangState", "MessagesState") if tab == "WebState" else [])
        answers = forge_all(client, keys, t)  # type: ignore[arg-type]
        if "." not in tab:
            # Positive control: the thief did land on a state that names the victim's session.
            assert any(TICKET_ASKED in text for _, _, text in answers), f"{tab}: the thief is not on the closed tab"
            # Router data naming the closed tab's own socket changes nothing: the server says which socket it is.
            for name, payload in IMPERSONATED[tab]:
                client.send(name, payload, router={"sid": closed.sid, "token": closed.token, "ip": "127.0.0.1"})
            assert '"screen_rx_state_":"number"' not in "\n".join(client.settle(quiet=0.2)[-40:])
        assert '["new_token",' not in "\n".join(client.frames), "the closed tab's token was taken as a live tab's"
        if ended := sorted(live - {row[0] for row in snapshot(db_url)["sessions"] if row[3] is None}):
            ended_by[tab] = ended

    after = snapshot(db_url)
    assert not ended_by, ("a copied client token of a closed tab ended the victim's session "
                          f"(handler → sessions ended): {ended_by}; {differences(before, after)}")
    assert after == before, differences(before, after)


def test_a_copied_token_of_a_closed_tab_gets_nothing_personal(server: dict, victim: Page, attacker: Page) -> None:
    """The thief's socket lands on the closed tab's state: what comes back, from the hydrate every client
    sends first to every forged handler, must hold nothing of Camille's (her name, her number even masked,
    her agency, her request)."""
    db_url = server["db_url"]
    tabs = closed_tabs(victim, db_url, with_ends=False)
    t = live_targets(db_url)

    found: dict[str, dict[str, list[str]]] = {}
    for tab, closed in tabs.items():
        client = RawClient(attacker, closed.token)
        client.send(HYDRATE, {})
        hydrated = "\n".join(client.settle(quiet=0.3))
        assert '["new_token",' not in hydrated, "the closed tab's token was taken as a live tab's"
        answers = [(HYDRATE, {}, hydrated)] + forge_all(client, keys_of(tab, ends=False), t)
        assert any(TICKET_ASKED in text for _, _, text in answers), f"{tab}: the thief is not on the closed tab"
        if what := leaks(answers, t):
            found[tab] = what
    assert not found, ("a copied client token of a closed tab got the victim's data back "
                       f"(state → event → what): {found}")


def test_a_copied_client_token_does_not_reach_a_live_tab_session(server: dict, desktop: Page, attacker: Page) -> None:
    """The victim's tab is open: a second socket with its token is given a fresh token and state."""
    web_login(desktop, JULIEN)
    token = desktop.evaluate("() => sessionStorage.getItem('token')")
    assert token

    thief_client = RawClient(attacker, token)
    thief_client.send(f"{WEB}.load_home", {})
    thief_client.send(f"{WEB}.start_change", {})
    received = "\n".join(thief_client.settle())
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
    victim_page = victim_context.new_page()
    web_login(victim_page, JULIEN)
    token = victim_page.evaluate("() => sessionStorage.getItem('token')")
    victim_context.close()
    time.sleep(1.5)  # the server notices the disconnect

    before = snapshot(server["db_url"])["requests"]

    thief_client = RawClient(attacker, token)
    for name, payload in ((f"{WEB}.load_home", {}), (f"{WEB}.start_change", {}),
                          (f"{WEB}.submit_number", {"form": {"number": "07 81 22 33 44"}}), (f"{WEB}.confirm", {})):
        thief_client.send(name, payload)
        thief_client.settle(quiet=0.3)  # one step after the other, as the page would
    received = "\n".join(thief_client.frames)
    started = [r for r in snapshot(server["db_url"])["requests"] if r not in before]
    assert started == [], \
        f"another browser holding only the closed tab's client token started a change in Julien's name: {started}"
    assert '"first_name_rx_state_":"Julien"' not in received and "06 •• •• •• 89" not in received, \
        "another browser holding only the closed tab's client token resumed Julien's logged-in session"


# --- hostile arguments never crash a handler --------------------------------------------------------

TRACEBACK_SPLIT = "[Reflex Backend Exception]"


def app_tracebacks(log: str) -> list[str]:
    """The exceptions of the server log raised in the app's own code (Reflex's refusals of an argument a
    handler does not take, or of a var without a setter, are Reflex's and name no app file)."""
    found = []
    for block in log.split(TRACEBACK_SPLIT)[1:]:
        flat = block.replace("\n", "")
        frames = re.findall(r'File "([^"]*secure_phone/[^"]*)", line (\d+), in (\w+)', flat)
        if frames:
            lines = [line for line in block.strip().splitlines() if line.strip()]
            error = next((line for line in reversed(lines) if re.match(r"^\w+(Error|Exception)\b", line)), lines[-1])
            found.append(" ← ".join(f"{Path(f).name}:{n} {fn}" for f, n, fn in reversed(frames)) + f": {error}")
    return found


def test_hostile_arguments_never_crash_a_handler(server: dict, attacker: Page) -> None:
    """Wrong types, huge strings, NUL bytes, lists and dicts where strings are expected, for every argument
    of every handler, on a socket nobody is logged in on and on sockets logged in on every channel (Julien
    on the web and in the app, Sophie on Camille's sheet: the deepest paths). Reflex answers an argument a
    handler does not take with its own refusal; the app's code never raises, the sockets live on."""
    if "log" not in server:
        pytest.skip("the server's log is needed (E2E_BASE_URL points at a server started elsewhere)")
    db_url = server["db_url"]
    t = victims(db_url)
    log = Path(server["log"])
    offset = len(log.read_text())

    nobody = RawClient(attacker)
    julien_web, julien_app, sophie = RawClient(attacker), RawClient(attacker), RawClient(attacker)
    julien_web.send(f"{WEB}.login_and_go", {"form": {"identifier": JULIEN, "password": PASSWORD}})
    julien_app.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": device_of(db_url, JULIEN)}})
    raw_app_login(julien_app, JULIEN)
    sophie.send(f"{ADV}.login", {"form": {"login": "sophie.lambert", "password": PASSWORD}})
    for client in (julien_web, julien_app, sophie):
        assert LOGGED_IN in "\n".join(client.settle(quiet=0.3))
    sophie.send(f"{ADV}.open_sheet", {"identifier": CAMILLE})
    sophie.settle(quiet=0.2)

    raised: dict[str, list[str]] = {}
    for client, state_names in ((nobody, tuple(STATES)), (julien_web, ("WebState",)), (julien_app, ("AppState",)),
                                (sophie, ("AdvisorState",))):
        for name, payload, text in forge_all(client, keys_of(*state_names, ends=None), t):
            if BACKEND_ERROR in text:
                short = {k: (v[:12] + "…" if isinstance(v, str) and len(v) > 12 else v) for k, v in payload.items()}
                raised.setdefault(label(name), []).append(json.dumps(short, ensure_ascii=False)[:100])
        assert MARK in "\n".join(client.settle(quiet=0.2)), "the socket died"
    assert httpx.get(f"{server['base_url']}/api/health", timeout=5).status_code == 200

    time.sleep(0.5)
    crashes = app_tracebacks(log.read_text()[offset:])
    handlers = {re.findall(r"\.py:\d+ (\w+)", crash)[-1] for crash in crashes}  # the outermost: the handler
    assert not crashes, (f"hostile arguments raised in the app's own code ({len(crashes)} tracebacks, distinct: "
                         f"{sorted(set(crashes))}); the events: "
                         f"{ {k: v[:5] for k, v in raised.items() if k.split('.')[-1] in handlers} }")


# --- the demo phone picker (§6, §12.1, §12.2) -------------------------------------------------------


def devices_now(db_url: str) -> dict[str, tuple]:
    with read_only(db_url) as s:
        return {d.id: (d.customer_id, d.status, d.public_jwk, d.demo) for d in s.exec(select(Device))}


def enrol_real_device(db_url: str, identifier: str, label: str, revoke_demo: bool = False) -> tuple[str, str]:
    """A phone enrolled by the real procedure (J4): ``demo`` False, its own key. With ``revoke_demo``,
    the customer's demo phone is revoked, as the activation does (Sécur'Pass moved). Its id and its key."""
    now = datetime.now(UTC)
    jwk = json.dumps(PhoneKey().jwk, sort_keys=True)
    with transaction(db_url) as s:
        customer = s.exec(select(Customer).where(Customer.identifier == identifier)).one()
        if revoke_demo:
            for old in s.exec(select(Device).where(Device.customer_id == customer.id, Device.status == "enrolled")):
                old.status, old.revoked_at = "revoked", now
                s.add(old)
            customer.securpass_moved_at = now
            s.add(customer)
        device = Device(label=label, customer_id=customer.id, status="enrolled", public_jwk=jwk, created_at=now,
                        enrolled_at=now, key_registered_at=now, demo=False)
        s.add(device)
        s.flush()
        return device.id, jwk


def other_customer(db_url: str) -> str:
    """A customer who is not a persona (a real one), with a phone enrolled by the real procedure."""
    with transaction(db_url) as s:
        agency_id = s.exec(select(Customer.agency_id).where(Customer.identifier == CAMILLE)).one()
        s.add(Customer(identifier="2000000001", first_name="Réel", last_name="Client", email="reel@example.fr",
                       person_type="natural", subscription="particulier", legal_protection="none", agency_id=agency_id,
                       password_hash=auth.hash_password("Not-the-demo-1!"), secure_phone_e164="+33699887766",
                       securpass_status="active"))
    device_id, _ = enrol_real_device(db_url, "2000000001", "Smartphone de Réel Client")
    return device_id


def pick(client: RawClient, choice: Any, jwk: Any) -> str:
    client.send(f"{APP}.pick_phone", {"choice": choice})
    client.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": jwk}})
    return "\n".join(client.settle(quiet=0.3))


def test_the_picker_never_rekeys_a_device_enrolled_by_the_real_procedure(server: dict, attacker: Page) -> None:
    """Knowing a device id is worth nothing (§12.2): forged pick_phone/phone_key_made with (i) the id of
    Camille's phone enrolled by the real procedure, (ii) another (non-persona) customer's phone, by id and
    by identifier, (iii) the identifier of a persona whose Sécur'Pass moved to a real phone, and her old,
    revoked demo phone — none re-keys anything. Positive control: the same events re-key a demo phone."""
    db_url = server["db_url"]
    real_camille, _ = enrol_real_device(db_url, CAMILLE, "Smartphone de Camille Martin")
    other = other_customer(db_url)
    chloe_demo = device_of(db_url, "1000000006")
    moved, _ = enrol_real_device(db_url, "1000000006", "Smartphone de Chloé Dubois", revoke_demo=True)
    before = devices_now(db_url)
    forger, key = RawClient(attacker), PhoneKey()

    answers = {choice: pick(forger, choice, key.jwk)
               for choice in (real_camille, other, "2000000001", "1000000006", chloe_demo, moved,
                              f"{real_camille}\x00", f" {real_camille}", real_camille.upper())}
    assert devices_now(db_url) == before, differences({"devices": before}, {"devices": devices_now(db_url)})
    for choice, text in answers.items():
        assert '"device_id_rx_state_":"' + choice[:36] not in text, f"{choice!r} became this browser's phone"
        assert "Réel" not in text and "Chloé" not in PUBLIC_LABELS.sub("", text)
    # The moved persona is no longer offered by the picker.
    forger.send(f"{APP}.load", {})
    offered = "\n".join(forger.settle(quiet=0.3))
    assert '"value":"1000000006"' not in offered and '"value":"1000000001"' in offered

    # Positive control: Julien's demo phone is re-keyed by the very same events.
    julien_phone = device_of(db_url, JULIEN)
    pick(forger, JULIEN, key.jwk)
    assert json.loads(devices_now(db_url)[julien_phone][2]) == key.jwk, "the forged picker events reach no handler"


def test_phone_key_made_without_pick_phone_or_after_login_does_nothing(server: dict, attacker: Page) -> None:
    """phone_key_made alone (no pick_phone on this socket), pick_phone from another socket, and the picker
    once logged in (before and after the pick) re-key nothing and register no phone."""
    db_url = server["db_url"]
    before = devices_now(db_url)
    key = PhoneKey()
    alone, other = RawClient(attacker), RawClient(attacker)
    alone.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": key.jwk}})
    other.send(f"{APP}.pick_phone", {"choice": CAMILLE})  # a pick made on another socket of the same browser
    other.settle(quiet=0.2)
    alone.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": key.jwk}})
    alone.settle(quiet=0.3)
    assert devices_now(db_url) == before

    julien = RawClient(attacker)
    julien.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": device_of(db_url, JULIEN)}})
    julien.send(f"{APP}.pick_phone", {"choice": CAMILLE})  # picked before logging in…
    raw_app_login(julien, JULIEN)
    assert LOGGED_IN in "\n".join(julien.settle(quiet=0.3))
    julien.send(f"{APP}.phone_key_made", {"result": {"ok": True, "jwk": key.jwk}})  # …completed after
    for choice in (CAMILLE, device_of(db_url, CAMILLE), "new"):
        pick(julien, choice, key.jwk)
    julien.settle(quiet=0.3)
    assert devices_now(db_url) == before, differences({"devices": before}, {"devices": devices_now(db_url)})

    # Positive control: the same socket, once logged out, picks up a phone (« Nouveau smartphone »).
    julien.send(f"{APP}.logout", {})
    pick(julien, "new", key.jwk)
    new = [d for d in devices_now(db_url) if d not in before]
    assert len(new) == 1 and json.loads(devices_now(db_url)[new[0]][2]) == key.jwk


# --- resume: only a ticket of the state's own session rejoins it ----------------------------------


def ticket(page: Page, channel: str) -> str:
    """A ticket, asked for as the page does, with the binding cookie of the page's browser."""
    answer = page.evaluate(
        "async (channel) => { const r = await fetch('/api/session/ticket', {method: 'POST', credentials: "
        "'same-origin', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({channel})});"
        " return r.ok ? (await r.json()).ticket : ''; }", channel)
    assert answer, f"no ticket for the {channel} session of this browser"
    return answer


def tickets(db_url: str) -> list[tuple[str, str, bool]]:
    with read_only(db_url) as s:
        return sorted((row.id, row.session_id, row.used_at is not None) for row in s.exec(select(SessionTicket)))


def rejoined(client: RawClient, state: str, value: Any) -> str:
    """resume with ``value``, then a guarded event: what came back."""
    client.send(f"{state}.resume", {"result": {"ok": True, "ticket": value}})
    client.send(f"{state}.start_change", {})
    return "\n".join(client.settle(quiet=0.3))


def test_resume_with_a_forged_or_another_sessions_ticket_rejoins_nothing(
    server: dict, victim: Page, attacker: Page
) -> None:
    """Camille's web and app tabs were closed without logging out; her browser keeps the binding cookies.
    On copied tokens of those tabs a thief sends resume with forged tickets (wrong types, huge, NUL, made
    up), his own session's ticket (he is Julien, logged in in his own browser), the ticket of Camille's
    session on the *other* channel, and a ticket her own reload already spent: none rejoins, none spends a
    ticket. Positive controls: her reload rejoins with her ticket, and a fresh ticket of a tab's own session
    rejoins it whoever sends it (the ticket is the proof)."""
    db_url = server["db_url"]
    web_login(attacker, JULIEN)  # the thief's own browser: its cookie gets him tickets of his own session
    julien_ticket = ticket(attacker, "web")
    forged = {(WEB, "made up"): "A" * 43, (WEB, "list"): ["A" * 43], (WEB, "NUL"): "A" * 42 + "\x00",
              (WEB, "Julien's own"): julien_ticket, (APP, "made up"): "A" * 43, (APP, "Julien's own"): julien_ticket}
    cases: dict[tuple[str, str], tuple[str, Any]] = {
        (state, name): (closed_tab(victim, state, db_url).token, value) for (state, name), value in forged.items()}
    web_tab = closed_tab(victim, WEB, db_url, bind=True)
    web_ticket = ticket(victim, "web")
    app_tab = closed_tab(victim, APP, db_url, bind=True)
    app_ticket = ticket(victim, "app")
    cases[(WEB, "her app session's")] = (web_tab.token, app_ticket)
    cases[(APP, "her web session's")] = (app_tab.token, web_ticket)
    spent_tab = closed_tab(victim, WEB, db_url, bind=True)
    spent = ticket(victim, "web")
    fresh_tab = closed_tab(victim, WEB, db_url, bind=True)
    time.sleep(1.0)  # the server notices the disconnects
    reload = RawClient(victim, spent_tab.token)  # her own reload spends her ticket…
    assert '"screen_rx_state_":"number"' in rejoined(reload, WEB, spent), "her reload rejoins with her ticket"
    reload.send(f"{WEB}.cancel_flow", {})
    reload.settle(quiet=0.2)
    reload.close()
    cases[(WEB, "spent")] = (spent_tab.token, spent)
    time.sleep(1.0)
    before, tickets_before = snapshot(db_url), tickets(db_url)

    joined = {}
    for (state, name), (token, value) in cases.items():
        client = RawClient(attacker, token)
        received = rejoined(client, state, value)
        assert '["new_token",' not in received, "the closed tab's token was taken as a live tab's"
        if '"screen_rx_state_":"number"' in received or '"first_name_rx_state_":"Camille"' in received:
            joined[f"{label(state + '.resume')} with {name} ticket"] = True
        client.close()
    assert not joined, f"resume rejoined Camille's session: {sorted(joined)}"
    assert snapshot(db_url) == before, differences(before, snapshot(db_url))
    assert tickets(db_url) == tickets_before, "a forged resume spent a ticket"

    # Positive control: a fresh ticket of the tab's own session (her browser's cookie) rejoins it.
    fresh = ticket(victim, "web")
    client = RawClient(attacker, fresh_tab.token)
    assert '"screen_rx_state_":"number"' in rejoined(client, WEB, fresh), "resume reaches no handler"


# --- the approval and the activation, in any order ---------------------------------------------------


def approval_text(db_url: str, device_id: str) -> tuple[str, str]:
    view = change.pending_approval(UnitOfWork(db_url, now=datetime.now(UTC)), customer_ids(db_url)[CAMILLE], device_id,
                                   lang="fr")
    assert view is not None, "no request waits for Camille's phone"
    return view.request_id, view.text


def test_the_approval_and_activation_steps_in_any_order_approve_nothing(
    server: dict, attacker: Page, victim: Page
) -> None:
    """Camille's phone holds a key the test holds too (picked up with it), so every forged signature below
    is *valid*: only the order of the steps and who sends them can stop an approval. validate (with the
    right code), approval_signed, activate and activation_signed, in every order, from a socket nobody is
    logged in on, from Julien's app, from a copied token of Camille's closed app tab; and on Camille's own
    phone, approval_signed without validate, and after activate: nothing is approved, activated or refused.
    Positive control: validate then approval_signed on her phone's socket approves."""
    db_url = server["db_url"]
    key = PhoneKey()
    phone = RawClient(victim)
    pick(phone, CAMILLE, key.jwk)
    device = device_of(db_url, CAMILLE)
    assert json.loads(devices_now(db_url)[device][2]) == key.jwk, "her phone holds the test's key"
    request = camille_pending_request(db_url)
    request_id, text = approval_text(db_url, device)
    assert request_id == request
    signed = {"result": {"ok": True, "signature": key.sign(text)}}
    steps = {
        "validate": (f"{APP}.validate", {"form": {"code": CODE}}),
        "approval_signed": (f"{APP}.approval_signed", signed),
        "activate": (f"{APP}.activate", {"form": {"code": "12345678", "pin": CODE}}),
        "activation_signed": (f"{APP}.activation_signed", signed),  # her phone's signature, of the approval
    }
    for client in (phone, closed := RawClient(victim)):
        client.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": device}})
        raw_app_login(client, CAMILLE, key)
        assert '"approval_text_rx_state_"' in "\n".join(client.settle(quiet=0.2)), "her phone shows the approval"
    closed.close()
    julien = RawClient(attacker)
    julien.send(UPDATE_VARS, {"vars": {f"{APP}.device_id": device}})
    raw_app_login(julien, JULIEN)
    assert LOGGED_IN in "\n".join(julien.settle(quiet=0.2))
    time.sleep(1.5)  # the server notices the closed tab's disconnect
    nobody, copied = RawClient(attacker), RawClient(attacker, closed.token)
    before = snapshot(db_url)

    every_order = [steps[name] for order in itertools.permutations(steps) for name in order]
    for client in (nobody, julien, copied):
        client.forge(every_order)
    # Her own phone: the signature without the code, after an activation, twice; the activation's
    # signature without the activation.
    phone.forge([steps["approval_signed"], steps["activation_signed"], steps["activate"], steps["approval_signed"],
                 steps["activation_signed"], steps["approval_signed"]])
    after = snapshot(db_url)
    assert after == before, differences(before, after)
    assert (request, "pending_approval") in after["requests"] and after["number"] == CAMILLE_OLD

    # Positive control: on her phone's socket, validate then her phone's signature approve the change.
    _, text = approval_text(db_url, device)
    phone.send(*steps["validate"])
    phone.settle(quiet=0.2)
    phone.send(f"{APP}.approval_signed", {"result": {"ok": True, "signature": key.sign(text)}})
    phone.settle(quiet=1.0)
    assert snapshot(db_url)["number"] == NEW_E164, "the forged steps reach no handler: the control fails"


# --- the state store holds no secret ------------------------------------------------------------


def states_folder() -> Path:
    """Where the e2e server's disk state manager writes: Reflex's REFLEX_STATES_WORKDIR (``.states``),
    relative to the server's working directory, the project root (reflex.utils.prerequisites.get_states_dir)."""
    folder = Path(os.environ.get("REFLEX_STATES_WORKDIR", ".states"))
    return folder if folder.is_absolute() else ROOT / folder


def stored_states() -> tuple[str, list[tuple[str, bytes]]]:
    """Every state the server keeps, as stored: the disk state manager's pickles (embedded), or every value of
    the server's Redis database (scale-out); with where they were read."""
    from tests.e2e.conftest import SCALE_OUT

    if SCALE_OUT:
        import redis

        from tests.conftest import REDIS_URL

        client = redis.Redis.from_url(REDIS_URL)
        found = []
        for key in client.scan_iter(count=500):
            if client.type(key) == b"string":
                value = client.get(key)
                if value:
                    found.append((key.decode("utf-8", "replace"), value))
        return REDIS_URL, found
    folder = states_folder()
    return str(folder), [(path.name, path.read_bytes()) for path in sorted(folder.glob("*.pkl"))]


def strings_in(obj: Any, seen: set[int] | None = None, depth: int = 0) -> Iterator[str]:
    """Every string (and bytes) reachable from an unpickled state: vars, backend vars, router data."""
    seen = seen if seen is not None else set()
    if id(obj) in seen or depth > 40:
        return
    seen.add(id(obj))
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, (bytes, bytearray)):
        yield bytes(obj).decode("latin-1")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings_in(k, seen, depth + 1)
            yield from strings_in(v, seen, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from strings_in(v, seen, depth + 1)
    elif is_dataclass(obj) and not isinstance(obj, type):
        for f in fields(obj):
            yield from strings_in(getattr(obj, f.name, None), seen, depth + 1)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from strings_in(vars(obj), seen, depth + 1)


def holds(text: str, secret: str) -> bool:
    """``secret`` as a token of its own (a 4-digit code inside an id does not count)."""
    return re.search(rf"(?<![0-9A-Za-z_-]){re.escape(secret)}(?![0-9A-Za-z_-])", text) is not None


def test_the_state_store_holds_no_cookie_code_or_password(server: dict, browser: Browser, inbox: Page) -> None:
    """Camille logs in on the web and in the app and approves on her phone with a wrong then the right
    Sécur'Pass code; Paul confirms his number with the SMS code he received (a wrong one first); Julien
    moves Sécur'Pass to a new phone with an SMS code and a new Sécur'Pass code; Sophie logs in to the
    back-office. Then every pickled state the server keeps on disk is read, raw and unpickled: no binding
    cookie value, no Sécur'Pass code, no SMS code, no password is in any of them."""
    db_url = server["db_url"]
    contexts = {name: browser.new_context(base_url=server["base_url"], locale="fr-FR", viewport=viewport)
                for name, viewport in (("desktop", {"width": 1280, "height": 800}), ("phone", {"width": 390,
                                                                                               "height": 844}),
                                       ("paul", {"width": 1280, "height": 800}), ("julien", {"width": 390,
                                                                                             "height": 844}),
                                       ("sophie", {"width": 1280, "height": 800}))}
    pages = {name: context.new_page() for name, context in contexts.items()}
    for page in pages.values():
        page.set_default_timeout(15_000)
    desktop, phone = pages["desktop"], pages["phone"]
    pick_phone(phone, "Smartphone de Camille Martin")
    app_login(phone, CAMILLE)
    web_login(desktop, CAMILLE)
    enter_and_confirm(desktop, NEW_RAW)
    approval_shown(phone, NEW_RAW)
    approve(phone, WRONG_CODE)
    expect(phone.get_by_role("alert")).to_be_visible()
    approve(phone, CODE)
    expect(phone.get_by_role("heading", name=SUCCESS)).to_be_visible()

    paul = pages["paul"]
    paul.goto("/connexion")
    login(paul, PAUL)
    paul.get_by_role("button", name="Oui, c'est mon numéro").click()
    paul_code = sms_code(inbox, "06 78 90 12 34")
    paul.get_by_label("Code reçu par SMS").fill("00000001")
    paul.get_by_role("button", name="Confirmer mon numéro").click()
    expect(paul.get_by_role("alert")).to_be_visible()
    paul.get_by_label("Code reçu par SMS").fill(paul_code)
    paul.get_by_role("button", name="Confirmer mon numéro").click()
    expect(paul.get_by_text("votre numéro de mobile sécurisé est confirmé")).to_be_visible()

    julien = pages["julien"]
    pick_phone(julien, "Nouveau smartphone")
    login(julien, JULIEN)
    julien.get_by_role("button", name="Recevoir le code par SMS").click()
    expect(julien.get_by_role("heading", name="Saisissez le code reçu par SMS")).to_be_visible()
    julien_code = sms_code(inbox, "06 23 45 67 89")
    julien.get_by_label("Code reçu par SMS").fill(julien_code)
    julien.get_by_label("Choisissez votre code Sécur'Pass").fill(NEW_PIN)
    julien.get_by_role("button", name="Activer Sécur'Pass").click()
    expect(julien.get_by_text("Sécur'Pass est activé sur ce smartphone")).to_be_visible()

    sophie = pages["sophie"]
    sophie.goto("/conseiller")
    sophie.get_by_label("Identifiant conseiller").fill("sophie.lambert")
    sophie.get_by_label("Mot de passe").fill(PASSWORD)
    sophie.get_by_role("button", name="Se connecter").click()
    expect(sophie.get_by_role("heading", name=re.compile("^Espace conseiller"))).to_be_visible()

    def binding_cookies() -> dict[str, str]:
        return {f"{name}'s {c['name']}": c["value"] for name, context in contexts.items() for c in context.cookies()
                if c["name"].removeprefix("__Host-").startswith("sp_bind_")}

    deadline = time.monotonic() + 10
    # Each login's page stores its binding (a fetch after the login).
    while len(cookies := binding_cookies()) < len(contexts):
        assert time.monotonic() < deadline, f"not every login set its binding cookie: {sorted(cookies)}"
        time.sleep(0.2)
    secrets_typed = {**{f"cookie {name}": value for name, value in cookies.items()},
                     "Sécur'Pass code": CODE, "wrong Sécur'Pass code": WRONG_CODE, "new Sécur'Pass code": NEW_PIN,
                     "Paul's SMS code": paul_code, "Paul's wrong SMS code": "00000001",
                     "Julien's SMS code": julien_code, "password": PASSWORD}
    assert len(set(cookies.values())) == len(cookies), "one binding per login"
    time.sleep(3.0)  # the disk state manager writes after a 2-second debounce

    sessions = session_ids(db_url)
    hits, unreadable, files, own_sessions = [], [], 0, set()
    folder, stored = stored_states()
    for name, data in stored:
        files += 1
        try:
            loaded = pickle.loads(data)  # what Reflex's BaseState._serialize writes: (schema, state)
            state = loaded[1] if isinstance(loaded, tuple) and len(loaded) == 2 else loaded
        except Exception as error:  # noqa: BLE001  (reported: a state the test cannot read is not checked)
            unreadable.append((name, f"{type(error).__name__}: {error}"[:100]))
            state = None
        holder = type(state).__name__ if state is not None else "?"
        strings = list(strings_in(state)) if state is not None else []
        own_sessions |= sessions & set(strings)
        raw = data.decode("latin-1")
        for what, secret in secrets_typed.items():
            where = [kind for kind, found in (("raw bytes", holds(raw, secret)),
                                              ("unpickled", any(holds(x, secret) for x in strings))) if found]
            if where:
                hits.append(f"{what} in {holder} ({name}, {' and '.join(where)})")
    assert files, f"no pickled state in {folder}"
    assert not unreadable, f"states the test could not unpickle: {unreadable[:5]}"
    # Positive control: these are this server's states: they name this test's sessions.
    assert len(own_sessions) >= 3, f"the states read ({folder}) are not those of this server's sessions"
    assert not hits, f"secrets in Reflex's state store: {hits}"
    for context in contexts.values():
        context.close()


# --- what the logged-in pages receive ------------------------------------------------------------


def test_the_web_page_never_receives_the_secret_nor_the_full_number(server: dict, desktop: Page) -> None:
    received = record_frames(desktop)
    web_login(desktop, CAMILLE)
    expect(desktop.get_by_text(CAMILLE_MASKED).first).to_be_visible()
    enter_and_confirm(desktop, NEW_RAW)
    expect(desktop.get_by_text("Temps restant")).to_be_visible()

    text = "\n".join(received)
    assert LOGGED_IN in text and CAMILLE_MASKED in text, "the frames recorded are the logged-in page's"
    assert_no_session_secret(received, desktop, server["db_url"])
    assert_no_full_number(text + browser_storage(desktop))
    assert_no_code(text + browser_storage(desktop), CODE)


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
    assert_no_session_secret(received, phone, server["db_url"])
    assert_no_full_number(everything)
    assert snapshot(server["db_url"])["number"] == NEW_E164


# --- the demo control of the operator's signals (§12.4), demo mode only (§12.1) -------------------------------


def _operator_line(db_url: str, e164: str) -> tuple | None:
    with read_only(db_url) as s:
        line = s.get(OperatorLine, e164)
        return None if line is None else (line.sim_changed_at, line.forwarding, line.subscribed_since)


def _forge_demo_signal(page: Page, db_url: str) -> list[str]:
    """Sophie, logged in on a raw socket with Camille's sheet open, forges the demo control on Camille's number."""
    sophie = RawClient(page)
    sophie.send(f"{ADV}.login", {"form": {"login": "sophie.lambert", "password": PASSWORD}})
    assert LOGGED_IN in "\n".join(sophie.settle(quiet=0.3))
    sophie.send(f"{ADV}.open_sheet", {"identifier": CAMILLE})
    assert '"name_rx_state_":"Camille Martin"' in "\n".join(sophie.settle(quiet=0.3))
    start = sophie.count()
    sophie.send(f"{ADV}.demo_signal", {"form": {"number": "06 12 34 56 78", "signal": "sim_swap"}})
    sophie.settle(quiet=0.3)
    return sophie.since(start)


def test_the_demo_operator_control_is_refused_without_demo_mode(
        browser: Browser, server: dict, demo_off_server: dict, attacker: Page) -> None:
    """Without demo mode the control is absent from the sheet and its handler, forged by a logged-in advisor on
    the open sheet, changes nothing at the simulated operator. Positive control: the same events in demo mode
    do set the SIM change."""
    from secure_phone.seed import seed

    off_url = demo_off_server["db_url"]
    seed(off_url)  # the people only (the server itself seeds nothing without demo mode)
    before = _operator_line(off_url, CAMILLE_OLD)
    context = browser.new_context(base_url=demo_off_server["base_url"], locale="fr-FR")
    page = context.new_page()
    page.goto("/conseiller")
    expect(page.get_by_label("Identifiant conseiller")).to_be_visible()
    frames = _forge_demo_signal(page, off_url)
    assert _operator_line(off_url, CAMILLE_OLD) == before
    assert "demo.op.invalid" in "\n".join(frames)
    # The page has no demo control without demo mode.
    page.get_by_label("Identifiant conseiller").fill("sophie.lambert")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Rechercher un client").fill(CAMILLE)
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("button", name="Ouvrir la fiche de Camille Martin").click()
    expect(page.get_by_role("region", name="Signaux de l'opérateur mobile")).to_be_visible()
    expect(page.get_by_text("Démo : signaux de l'opérateur")).to_have_count(0)
    context.close()

    # Positive control: in demo mode the very same events reach the handler and set the SIM change.
    demo_before = _operator_line(server["db_url"], CAMILLE_OLD)
    _forge_demo_signal(attacker, server["db_url"])
    after = _operator_line(server["db_url"], CAMILLE_OLD)
    assert after is not None and demo_before is not None and after[0] != demo_before[0]
