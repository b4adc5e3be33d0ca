"""Security review of the takeover fixes (PRODUCT.md §6, §10, §12.1–§12.2): the attacks it found.

Every test here plays one attack through the services (the same calls the UI makes) and asserts what the
rules of §12.2 require. Each one failed on the reviewed code (the failure was the finding) and now guards
its fix. Run on SQLite and PostgreSQL like the rest of the integration suite.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from secure_phone.adapters.models import Outbox
from secure_phone.domain.change_request import RefusalReason
from secure_phone.services import activation, advisor, auth, change, devices
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import Refused
from secure_phone.ui import runtime
from secure_phone.ui.session import SessionMixin
from tests.integration.helpers import (
    CAMILLE,
    HUGO,
    INES,
    JULIEN,
    JULIEN_NUMBER,
    OTHER_RAW,
    PASSWORD,
    PAUL,
    THIRD_E164,
    SoftPhone,
    World,
    customer_actor,
    details,
    device_actor,
    world,  # noqa: F401  (fixture)
)

DOCUMENT = "ZX9Q7W3K8"
WRONG_CODE = "1111"
CAMILLE_OLD = "+33612345678"
THIRD_RAW = "07 55 44 33 21"


# --- helpers -------------------------------------------------------------------------------------------


def login(world: World, identifier: str = CAMILLE, channel: str = "web", device_id: str | None = None,
          ip: str = "192.0.2.10") -> str:
    actor = Actor(kind="customer", id=None, channel=channel, ip=ip, user_agent="pytest")
    return auth.login_customer(world.uow(), identifier, PASSWORD, channel=channel, actor=actor,
                               device_id=device_id).session_id


def live(world: World, session_id: str) -> bool:
    return auth.authenticate(world.uow(), session_id) is not None


def adv(login_name: str) -> Actor:
    return Actor(kind="advisor", id=login_name, channel="advisor", ip="192.0.2.30", user_agent="pytest-advisor")


def operate(world: World, login_name: str, kind: str, identifier: str = CAMILLE, **overrides: object):  # noqa: ANN201
    arguments: dict = dict(kind=kind, document_type="cni", document_number=DOCUMENT, in_branch=True,
                           actor=adv(login_name))
    arguments.update(overrides)
    return advisor.request_operation(world.uow(), world.advisor_id(login_name), identifier, **arguments)


def start(world: World, identifier: str, session_id: str | None = None, raw: str = "07 98 76 54 32"):  # noqa: ANN201
    cid = world.cid(identifier)
    number = change.check_new_number(world.uow(), cid, raw, "FR", actor=customer_actor(cid))
    return change.start_request(world.uow(), cid, number.e164, channel=change.Channel.WEB, actor=customer_actor(cid),
                                session_id=session_id)


def not_me(world: World, phone: SoftPhone, request_id: str, text: str, session_id: str | None = None):  # noqa: ANN201
    return change.refuse(world.uow(), phone.customer_id, phone.device_id, request_id, reason=RefusalReason.NOT_ME,  # type: ignore[arg-type]
                         signature=phone.sign(text + "\nnot_me"), lang="fr", actor=device_actor(phone.device_id),
                         session_id=session_id)


def new_phone(world: World) -> SoftPhone:
    """A fraudster's brand-new phone (« Nouveau smartphone »), with a key of its own."""
    phone = SoftPhone(world, devices.NEW_PHONE, None)
    phone.device_id = phone.pick_up().id
    return phone


def changed_number(world: World, identifier: str, raw: str) -> None:
    """The customer (talked into it by a fake adviser, say) approves a change of secure number."""
    phone = world.phone(identifier)
    start(world, identifier, raw=raw)
    assert phone.approve_pending().status == "completed"


# --- 1. Factor change: a session that merely *names* the phone survives ----------------------------------


def test_a_session_that_only_names_the_approving_phone_survives_a_change_of_number(world: World) -> None:
    """§12.2: after a number change the customer's other sessions end, but complete_change keeps every
    session whose ``device_id`` is the approving phone — and login_customer puts any enrolled device id of
    the customer into the session without asking for its key. Knowing a device id (§12.2: "worth nothing")
    and the password is enough to stay logged in through the change."""
    phone = world.phone(CAMILLE)
    asking = login(world)  # the customer's web session, that asks for the change
    victims_app = phone.login(CAMILLE)  # the app on her phone: its login signed by the phone's key
    # The fraudster has the password and the device id (localStorage item, audit actor id, support tool…),
    # not the phone's key: login takes the device anyway.
    fraudster = login(world, channel="app", device_id=phone.device_id, ip="203.0.113.99")
    principal = auth.authenticate(world.uow(), fraudster)
    assert principal is not None  # (a session of his own: since the fix, without the phone: he never signed)

    start(world, CAMILLE, asking)
    assert phone.approve_pending(session_id=victims_app).status == "completed"

    assert live(world, asking) and live(world, victims_app)
    assert not live(world, fraudster), (
        "a session that never proved the phone's key was kept as 'the approving phone's' through the change")


# --- 2. J4 refused after a change: the alert to the previous number is suppressible -----------------------


def _move_refused_rows(world: World, identifier: str) -> list[Outbox]:
    customer = world.customer(identifier)
    return [o for o in world.outbox() if o.key.startswith("move-refused:") and o.customer_id == customer.id]


def test_the_refused_move_alert_reaches_every_victim_not_only_the_first_one_on_that_phone(world: World) -> None:
    """§12.2: a J4 refused within 72 h of a number change is told to the previous number (SMS) and by email.
    The outbox key is ``move-refused:<device or 'unknown'>:…`` with no customer in it, and enqueue ignores a
    key already queued: once a fraudster's phone (or "no phone") was refused for one customer, every later
    victim refused on the same phone is told nothing."""
    changed_number(world, CAMILLE, "07 98 76 54 32")
    changed_number(world, JULIEN, OTHER_RAW)
    fraudster_phone = new_phone(world)
    for identifier in (CAMILLE, JULIEN):
        cid = world.cid(identifier)
        refusal = activation.on_new_phone(world.uow(), cid, fraudster_phone.device_id,
                                          actor=device_actor(fraudster_phone.device_id))
        assert refusal == "activation.refused.recent_number_change"
        assert world.audit(identifier, "securpass_move")  # refused and audited for both

    camille = {(o.channel, o.recipient) for o in _move_refused_rows(world, CAMILLE)}
    assert camille == {("email", "camille.martin@example.fr"), ("sms", CAMILLE_OLD)}
    julien = {(o.channel, o.recipient) for o in _move_refused_rows(world, JULIEN)}
    assert julien == {("email", "julien.petit@example.fr"), ("sms", JULIEN_NUMBER)}, (
        "the second victim's previous number and email were never told: the outbox key is shared")


def test_a_refused_move_without_a_phone_is_told_to_each_customer(world: World) -> None:
    """The same with no device at all (the app sends an unknown/revoked device id, so the session has
    none): the key is ``move-refused:unknown:…`` for everybody; a fraudster burns it once on any account."""
    changed_number(world, CAMILLE, "07 98 76 54 32")
    changed_number(world, JULIEN, OTHER_RAW)
    for identifier in (CAMILLE, JULIEN):
        cid = world.cid(identifier)
        with pytest.raises(Refused, match="recent_number_change"):
            activation.send_activation_code(world.uow(), cid, None, actor=customer_actor(cid, "app"))
    assert {o.recipient for o in _move_refused_rows(world, JULIEN)} == {"julien.petit@example.fr", JULIEN_NUMBER}, (
        "Julien was told nothing: Camille's refusal took the outbox keys move-refused:unknown:*")


# --- 3. A « not me » freeze cleared by ONE advisor once the not-me is 30 days old --------------------------


def test_a_not_me_freeze_always_takes_two_advisors_to_clear(world: World) -> None:
    """advisor._operation_signals: « a "not me" freeze is cleared by two advisors, always ». The four-eyes
    decision reads the risk signals of the last 30 days (RISK_WINDOW) only, while the freeze lasts until
    cleared: 31 days later the NOT_ME signal is out of the window and one advisor clears it alone."""
    phone = world.phone(CAMILLE)
    request = start(world, CAMILLE)
    shown = phone.pending()
    assert shown is not None and not_me(world, phone, request.id, shown.text).accepted
    assert world.customer(CAMILLE).frozen_at is not None

    world.clock.advance(days=31)  # the customer comes to the branch a month later (or a colluding advisor waits)
    result = operate(world, "sophie.lambert", "clear_freeze")
    assert result.status == "pending_validation", "a not-me freeze was cleared by a single advisor"


# --- 4. The idle timeout is defeated by live pushes ---------------------------------------------------------


def _tab(session_id: str, sid: str = "socket-1") -> SimpleNamespace:
    """A web tab as SessionMixin sees it: its session reference, bound to its socket."""
    tab = SimpleNamespace(
        _session_id=session_id, _bound_sid=sid, channel_name="web", pushed=0,
        router=SimpleNamespace(session=SimpleNamespace(session_id=sid, client_token="token-1")),
        get_full_name=lambda: "reflex___state____state.secure_phone___ui___states___web____web_state",
        _clear_screens=lambda: None, principal_kind="customer",
    )
    tab._principal = lambda touch=True: SessionMixin._principal(tab, touch)
    tab._end_session = lambda message="": SessionMixin._end_session(tab, message)

    def pushed(principal: object) -> None:
        tab.pushed += 1

    tab._pushed = pushed
    return tab


def test_a_tab_nobody_uses_is_not_kept_alive_by_other_clients_pushes(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """§12.2: sessions end after 5 minutes *of inactivity*, on the server's timer. A push (another client's
    event: the customer's phone, an advisor, a second tab) runs SessionMixin._on_push → _principal →
    auth.authenticate, which counts as activity and moves last_seen_at. A web session left open on a shared
    computer stays valid for as long as the customer keeps using the app elsewhere (up to the 8 h max)."""
    monkeypatch.setenv("REFLEX_DB_URL", world.url)
    monkeypatch.setattr(runtime, "now", world.clock)
    forgotten = login(world)  # on a library computer; nobody touches it again
    tab = _tab(forgotten)
    for _ in range(10):  # ten minutes of the customer using the app on her phone: one push a minute
        world.clock.advance(minutes=1)
        SessionMixin._on_push(tab)
    # The pushes refreshed the tab while its session lived (not activity of its own), then found it idle.
    assert tab.pushed == 4 and tab.logged_in is False and tab.login_error == "session.expired"
    assert not live(world, forgotten), "ten minutes without any activity of its own, the session is still live"


# --- 5. Per-address throttling: one IPv6 client is 2^64 addresses ------------------------------------------


def _fail(world: World, identifier: str, ip: str) -> str:
    with pytest.raises(Refused) as refused:
        auth.login_customer(world.uow(), identifier, "wrong-password", channel="web",
                            actor=Actor(kind="anonymous", channel="web", ip=ip, user_agent="spray"))
    return refused.value.code


def test_failures_from_one_ipv6_prefix_are_throttled_like_one_address(world: World) -> None:
    """§12.2: failures are throttled per client address "so nobody can lock them all from one place". The
    counter key is the exact address text: an IPv6 client (one /64 per household, per VPS) takes a fresh
    address per attempt and is never throttled; here one /64 locks five accounts with 25 guesses."""
    identifiers = [CAMILLE, JULIEN, INES, HUGO, PAUL]
    # One IPv4 address is throttled after policy.login_failures_per_address (20) failures…
    codes = [_fail(world, identifiers[i % 5], "198.51.100.7") for i in range(21)]
    assert codes[-1] == auth.THROTTLED
    world.clock.advance(minutes=40)  # a new window
    # …one IPv6 /64, one address per guess, never is.
    codes = [_fail(world, identifiers[i % 5], f"2001:db8:42:7::{i + 1:x}") for i in range(25)]
    locked = [world.customer(i).locked_until is not None and world.customer(i).locked_until > world.clock.now
              for i in identifiers]
    assert auth.THROTTLED in codes, f"25 failures from one /64, never throttled; accounts locked: {locked}"


# --- 6. « not me » made worthless by the fraudster cancelling first -----------------------------------------


@pytest.mark.parametrize("fraudster_move", ["cancel", "supersede"])
def test_a_signed_not_me_freezes_even_when_the_fraudster_moved_first(world: World, fraudster_move: str) -> None:
    """§12.2: « not me » freezes online changes and ends the fraudster's session. refuse() only accepts it on
    a request still pending: the fraudster, watching his « Validation Sécur'Pass » screen, cancels it (J3
    « Annuler ») or supersedes it with a new one the moment he is not approved, and the victim's signed
    report from her enrolled phone is refused (not_pending): no freeze, no fraud alert, his session goes on.
    (As a race — run_together(start_request, refuse) — the same happens whenever the fraudster's call
    commits first: both lock the customer row, so it is this sequence.)"""
    phone = world.phone(CAMILLE)
    fraudster = login(world, ip="203.0.113.99")
    victims_app = phone.login(CAMILLE)
    request = start(world, CAMILLE, fraudster)
    shown = phone.pending()
    assert shown is not None  # the victim reads it and taps « Refuser » → « Je ne suis pas à l'origine… »
    cid = world.cid(CAMILLE)
    if fraudster_move == "cancel":
        change.cancel_request(world.uow(), cid, request.id, actor=customer_actor(cid))
    else:
        start(world, CAMILLE, fraudster, raw=OTHER_RAW)
    result = not_me(world, phone, request.id, shown.text, session_id=victims_app)

    assert world.audit(CAMILLE, "fraud_alert"), f"the signed « not me » raised no fraud alert ({result.rejection})"
    assert world.customer(CAMILLE).frozen_at is not None, "online changes are not frozen"
    assert not live(world, fraudster)


# --- 7. The mule rule is not applied when the second advisor validates ---------------------------------------


def test_the_second_advisors_validation_refuses_a_number_another_customer_just_released(world: World) -> None:
    """§12.2 mule numbers: a number that was another customer's secure number within 12 months is refused.
    advisor_change checks it when the first advisor enters the change; validate_change (up to 2 h later)
    and complete_change only check who holds the number *now*. Julien takes the number meanwhile and
    releases it: the validation gives Camille a number that was Julien's minutes ago."""
    sophie, nadia = world.advisor_id("sophie.lambert"), world.advisor_id("nadia.benali")
    camille_phone = world.phone(CAMILLE)
    start(world, CAMILLE)
    assert camille_phone.approve_pending(code=WRONG_CODE).rejection == "wrong_code"  # a risk signal: four eyes
    entered = advisor.advisor_change(world.uow(), sophie, CAMILLE, raw_number=THIRD_RAW, region="FR",
                                     document_type="cni",
                                     document_number=DOCUMENT, in_branch=True, actor=adv("sophie.lambert"))
    assert entered.status == "pending_validation"
    julien_phone = world.phone(JULIEN)
    start(world, JULIEN, raw=THIRD_RAW)  # the same number, online: nothing stops him (the advisor's is pending)
    assert julien_phone.approve_pending().status == "completed"
    world.clock.advance(minutes=5)
    start(world, JULIEN, raw=OTHER_RAW)
    assert julien_phone.approve_pending().status == "completed"  # …and released
    # The online path now refuses that number to Camille (control):
    cid = world.cid(CAMILLE)
    with pytest.raises(Exception, match="unavailable"):
        change.check_new_number(world.uow(), cid, THIRD_RAW, "FR", actor=customer_actor(cid))

    world.clock.advance(minutes=5)
    status = advisor.validate_change(world.uow(), nadia, entered.request_id, actor=adv("nadia.benali"))
    assert world.customer(CAMILLE).secure_phone_e164 != THIRD_E164, (
        f"validation gave Camille a number Julien held 5 minutes ago (status {status})")


# --- 8. Refusals that leave no trace in the audit ---------------------------------------------------------------


def test_an_advisor_trying_a_change_or_an_operation_outside_the_branch_is_audited(world: World) -> None:
    """§8/§9/§12.2: "never on the strength of a phone call"; every step audited. advisor_change and
    request_operation raise in_branch_required / document_required before anything is recorded: an advisor
    who tries it (social engineering on the phone) leaves no entry on the customer's timeline."""
    sophie = world.advisor_id("sophie.lambert")
    before = len(world.audit(CAMILLE))
    with pytest.raises(Refused, match="in_branch_required"):
        advisor.advisor_change(world.uow(), sophie, CAMILLE, raw_number=THIRD_RAW, region="FR", document_type="cni",
                               document_number=DOCUMENT, in_branch=False, actor=adv("sophie.lambert"))
    with pytest.raises(Refused, match="document_required"):
        advisor.advisor_change(world.uow(), sophie, CAMILLE, raw_number=THIRD_RAW, region="FR", document_type="cni",
                               document_number="", in_branch=True, actor=adv("sophie.lambert"))
    with pytest.raises(Refused, match="in_branch_required"):
        operate(world, "sophie.lambert", "unblock_securpass", in_branch=False)
    assert len(world.audit(CAMILLE)) >= before + 3, (
        f"three refused advisor attempts, audit entries added: {world.audit_pairs(CAMILLE)[before:]}")


def test_a_j4_aimed_at_a_phone_that_is_not_new_is_audited(world: World) -> None:
    """§6/§12.2: every failure is audited. send_activation_code and activate raise
    activation.not_possible (the device is enrolled, another customer's, unknown) with no audit entry:
    a fraudster probing device ids with J4 leaves nothing for the advisor."""
    cid = world.cid(CAMILLE)
    camille_phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    before = len(world.audit(CAMILLE))
    for device_id in (camille_phone.device_id, julien_phone.device_id, "0" * 32):
        with pytest.raises(Refused, match="not_possible"):
            activation.send_activation_code(world.uow(), cid, device_id, actor=customer_actor(cid, "app"))
        with pytest.raises(Refused, match="not_possible"):
            activation.activate(world.uow(), cid, device_id, sms_code="12345678", securpass_code="1357", signature="x",
                                lang="fr", actor=customer_actor(cid, "app"))
    assert len(world.audit(CAMILLE)) >= before + 6, (
        f"six refused activation attempts, audit entries added: {world.audit_pairs(CAMILLE)[before:]}")


def test_an_advisor_of_another_agency_validating_is_audited(world: World) -> None:
    """An advisor of Lyon tries to validate a Paris operation or change: « not found », nothing recorded."""
    phone = world.phone(CAMILLE)
    request = start(world, CAMILLE)
    shown = phone.pending()
    assert shown is not None and not_me(world, phone, request.id, shown.text).accepted
    pending = operate(world, "sophie.lambert", "clear_freeze")
    karim = world.advisor_id("karim.haddad")
    before = len(world.audit())
    with pytest.raises(Refused, match="advisor.not_found"):
        advisor.validate_operation(world.uow(), karim, pending.operation_id, actor=adv("karim.haddad"))
    assert len(world.audit()) > before, "a cross-agency validation attempt left no audit entry"


# --- 9. Four eyes skipped for an unblock despite forged-approval evidence ------------------------------------


def test_an_unblock_after_forged_approvals_needs_a_second_advisor(world: World) -> None:
    """_operation_signals drops SECURPASS_FAILED for an unblock ("the wrong codes that caused the block"),
    but that signal also stands for approvals with a bad signature or from a wrong device — a forger
    trying to approve without the phone's key, which is not what the block answers."""
    phone = world.phone(CAMILLE)
    # The fraudster (password + device id, see test 1) approves with a key of his own.
    forger = SoftPhone(world, phone.device_id, world.cid(CAMILLE))
    start(world, CAMILLE)
    shown = forger.pending()
    assert shown is not None
    assert forger.approve(shown.request_id, forger.sign(shown.text)).rejection == "bad_signature"
    # Then the customer mistypes her code three times.
    for _ in range(3):
        phone.approve_pending(code=WRONG_CODE)
    assert world.customer(CAMILLE).securpass_status == "blocked"
    signals = advisor.sheet(world.uow(), world.advisor_id("sophie.lambert"), CAMILLE).signals
    assert "securpass_failed" in signals
    bad_signature = [e for e in world.audit(CAMILLE, "approval") if details(e).get("rejection") == "bad_signature"]
    assert bad_signature
    result = operate(world, "sophie.lambert", "unblock_securpass")
    assert result.status == "pending_validation", "forged approvals on record, one advisor unblocked alone"


# --- 10. An operation validated after the situation it was requested for has changed --------------------------


def test_a_clear_freeze_requested_before_a_new_not_me_does_not_clear_the_new_freeze(world: World) -> None:
    """A second « clear freeze » for the same customer is refused while one waits (a colleague's, or a double
    submit): it could otherwise outlive the first and clear a later freeze. And an operation whose freeze was
    renewed meanwhile (another « not me ») is stale: its identity check never looked at the new one."""
    phone = world.phone(CAMILLE)
    fraudster = login(world, ip="203.0.113.99")
    earlier = start(world, CAMILLE, fraudster)
    earlier_text = world.current_text(earlier.id)
    request = start(world, CAMILLE, fraudster, raw=OTHER_RAW)  # the first one superseded by a second try
    shown = phone.pending()
    assert shown is not None and not_me(world, phone, request.id, shown.text).accepted
    first = operate(world, "sophie.lambert", "clear_freeze")
    assert first.status == "pending_validation"
    with pytest.raises(Refused, match="adv.op.already_pending"):
        operate(world, "nadia.benali", "clear_freeze")
    assert details(world.audit(CAMILLE, "advisor_operation")[-1])["problem"] == "adv.op.already_pending"
    with pytest.raises(Refused, match="ineligible.frozen"):  # frozen: the fraudster cannot even ask
        start(world, CAMILLE, login(world, ip="203.0.113.99"), raw="07 55 44 33 21")

    # Before anyone validates, the customer also reports the earlier request « not me »: a new freeze.
    world.clock.advance(minutes=10)
    assert not_me(world, phone, earlier.id, earlier_text).accepted  # superseded, within the window: it counts
    refrozen_at = world.customer(CAMILLE).frozen_at
    assert refrozen_at == world.clock.now

    world.clock.advance(minutes=5)
    with pytest.raises(Refused, match="adv.op.stale"):
        advisor.validate_operation(world.uow(), world.advisor_id("nadia.benali"), first.operation_id,
                                   actor=adv("nadia.benali"))
    assert world.customer(CAMILLE).frozen_at == refrozen_at, (
        "an operation entered before the second « not me » cleared the new freeze")


# --- 11. The alert to the previous number depends on the order of the J4 refusal checks ----------------------


def test_a_j4_refused_right_after_a_change_tells_the_previous_number_even_when_also_frozen(world: World) -> None:
    """§12.2: within 72 h of a change of number a J4 is refused *and the previous number is told*.
    securpass_move_refusal checks the freeze (and the block) first: when the customer is also frozen, the
    refusal is « frozen », and neither the SMS to the previous number nor the email nor the advisor's
    « securpass_move_refused » signal happens. Here the victim approved a change to the fraudster's number
    (fake-adviser call), then refused his next request with « not me »; his J4, with the SMS code his SIM now
    receives, is refused silently."""
    changed_number(world, CAMILLE, "07 98 76 54 32")  # the fraudster's number now
    phone = world.phone(CAMILLE)
    request = start(world, CAMILLE, raw=OTHER_RAW)
    shown = phone.pending()
    assert shown is not None and not_me(world, phone, request.id, shown.text).accepted
    fraudster_phone = new_phone(world)
    cid = world.cid(CAMILLE)
    with pytest.raises(Refused):
        activation.send_activation_code(world.uow(), cid, fraudster_phone.device_id, actor=customer_actor(cid, "app"))
    assert {o.recipient for o in _move_refused_rows(world, CAMILLE)} == {"camille.martin@example.fr", CAMILLE_OLD}, (
        "a Sécur'Pass move refused 1 minute after a change of number was told to nobody")
