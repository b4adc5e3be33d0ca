"""Nobody but the customer moves the number or Sécur'Pass (PRODUCT.md §12.2), on SQLite and PostgreSQL.

Each test plays the attacker's move through the services and checks it is refused, audited, and that the
customer's side (sessions, freeze, risk signals for the advisor) follows the rule:

* « Je ne suis pas à l'origine de cette demande » freezes online changes, ends the other sessions; two
  advisors clear it, in branch;
* a change of number or of Sécur'Pass phone ends the customer's other sessions (the one that did it goes on);
* a number that was another customer's secure number within 12 months is refused like one held now, with a
  risk signal on both customers;
* a blocked Sécur'Pass has a way back (the advisor, in branch), and an advisor can end every session.
"""

from __future__ import annotations

import pytest

from secure_phone.domain.change_request import RefusalReason
from secure_phone.domain.phone import NumberProblem, NumberRejected
from secure_phone.services import activation, advisor, auth, change
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    JULIEN,
    JULIEN_NUMBER,
    NEW_E164,
    OTHER_RAW,
    PASSWORD,
    World,
    customer_actor,
    details,
    device_actor,
    world,  # noqa: F401  (fixture)
)

DOCUMENT = "ZX9Q7W3K8"
WRONG_CODE = "1111"


def login(world: World, identifier: str = CAMILLE, channel: str = "web", device_id: str | None = None) -> str:
    return auth.login_customer(world.uow(), identifier, PASSWORD, channel=channel,
                               actor=customer_actor(world.cid(identifier)),
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


def start(world: World, identifier: str, session_id: str, raw: str = "07 98 76 54 32"):  # noqa: ANN201
    cid = world.cid(identifier)
    number = change.check_new_number(world.uow(), cid, raw, "FR", actor=customer_actor(cid))
    return change.start_request(world.uow(), cid, number.e164, channel=change.Channel.WEB, actor=customer_actor(cid),
                                session_id=session_id)


# --- « not me » -------------------------------------------------------------------------------------


def test_a_not_me_refusal_freezes_online_changes_and_ends_the_other_sessions(world: World) -> None:
    """The fraudster, logged in on the web with the victim's password, asks for a change; the victim refuses
    it on her phone with « not me »: the fraudster's session ends and he cannot push the next request."""
    phone = world.phone(CAMILLE)
    fraudster = login(world)
    victims_phone = phone.login(CAMILLE)
    request = start(world, CAMILLE, fraudster)
    shown = phone.pending()
    assert shown is not None
    result = change.refuse(world.uow(), world.cid(CAMILLE), phone.device_id, request.id, reason=RefusalReason.NOT_ME,
                           signature=phone.sign(shown.text + "\nnot_me"), lang="fr",
                           actor=device_actor(phone.device_id), session_id=victims_phone)
    assert result.accepted

    assert not live(world, fraudster) and auth.end_reason(world.uow(), fraudster) == "not_me"
    assert live(world, victims_phone)  # the phone says so, and goes on
    customer = world.customer(CAMILLE)
    assert customer.frozen_at == world.clock.now and customer.frozen_reason == "not_me"
    [frozen] = world.audit(CAMILLE, "online_changes_frozen")
    assert details(frozen)["sessions_ended"] == 1
    # Logging in again, the fraudster cannot start anything online: neither a number nor a Sécur'Pass move.
    again = login(world)
    cid = world.cid(CAMILLE)
    with pytest.raises(Refused, match="ineligible.frozen"):
        change.check_new_number(world.uow(), cid, OTHER_RAW, "FR", actor=customer_actor(cid))
    with pytest.raises(Refused, match="ineligible.frozen"):
        change.start_request(world.uow(), cid, NEW_E164, channel=change.Channel.WEB, actor=customer_actor(cid),
                             session_id=again)
    assert activation.move_refusal(world.uow(), cid) == "ineligible.frozen"
    # The advisor sees "frozen after a not-me refusal".
    sheet = advisor.sheet(world.uow(), world.advisor_id("sophie.lambert"), CAMILLE)
    assert sheet.frozen_since and sheet.signals[0] == "not_me"


def test_clearing_the_freeze_takes_the_branch_an_identity_document_and_two_advisors(world: World) -> None:
    phone = world.phone(CAMILLE)
    request = world.start(CAMILLE)
    shown = phone.pending()
    assert shown is not None
    assert phone.refuse(request.id, RefusalReason.NOT_ME, phone.sign(shown.text + "\nnot_me")).accepted

    with pytest.raises(Refused, match="in_branch_required"):
        operate(world, "sophie.lambert", "clear_freeze", in_branch=False)  # "she called me, it was a mistake"
    with pytest.raises(Refused, match="document_required"):
        operate(world, "sophie.lambert", "clear_freeze", document_number="")
    with pytest.raises(Refused, match="advisor.not_found"):
        operate(world, "karim.haddad", "clear_freeze")  # another agency
    pending = operate(world, "sophie.lambert", "clear_freeze")
    assert pending.status == "pending_validation"  # « not me » is a risk signal: four eyes, always
    assert world.customer(CAMILLE).frozen_at is not None
    listed = advisor.pending_validations(world.uow(), world.advisor_id("nadia.benali"))
    assert [(v.request_id, v.kind) for v in listed] == [(pending.operation_id, "clear_freeze")]
    with pytest.raises(Refused, match="same_advisor"):
        advisor.validate_operation(world.uow(), world.advisor_id("sophie.lambert"), pending.operation_id,
                                   actor=adv("sophie.lambert"))
    with pytest.raises(Refused, match="advisor.not_found"):
        advisor.validate_operation(world.uow(), world.advisor_id("karim.haddad"), pending.operation_id,
                                   actor=adv("karim.haddad"))
    advisor.validate_operation(world.uow(), world.advisor_id("nadia.benali"), pending.operation_id,
                               actor=adv("nadia.benali"))
    assert world.customer(CAMILLE).frozen_at is None
    [cleared] = world.audit(CAMILLE, "freeze_cleared")
    assert details(cleared)["validator"] == world.advisor_id("nadia.benali")
    assert world.start(CAMILLE, OTHER_RAW).status == "pending_approval"  # online changes are back
    # An operation that does not apply is refused (and audited).
    with pytest.raises(Refused, match="adv.op.not_applicable"):
        operate(world, "sophie.lambert", "clear_freeze")
    with pytest.raises(Refused, match="advisor.not_found"):
        operate(world, "sophie.lambert", "make_me_rich")


# --- factor changes end the other sessions ---------------------------------------------------------------


def test_a_change_of_number_ends_the_other_sessions_but_the_ones_that_did_it(world: World) -> None:
    phone = world.phone(CAMILLE)
    web = login(world)
    other_web = login(world)  # a session elsewhere (a fraudster's, a forgotten computer)
    app = phone.login(CAMILLE)
    named = login(world, channel="app", device_id=phone.device_id)  # names the phone, never proved its key
    julien = login(world, JULIEN)
    start(world, CAMILLE, web)
    assert phone.approve_pending(session_id=app).status == "completed"

    assert live(world, web) and live(world, app) and live(world, julien)
    assert not live(world, other_web) and auth.end_reason(world.uow(), other_web) == "factor_changed"
    assert not live(world, named)


def test_an_advisor_change_ends_every_session_of_the_customer(world: World) -> None:
    web, app = login(world), login(world, channel="app")
    result = advisor.advisor_change(world.uow(), world.advisor_id("sophie.lambert"), CAMILLE,
                                    raw_number="07 98 76 54 32",
                                    region="FR", document_type="cni", document_number=DOCUMENT, in_branch=True,
                                    actor=adv("sophie.lambert"))
    assert result.status == "completed"
    assert not live(world, web) and not live(world, app)


# --- mule numbers: a number released by one customer is not free for the next ------------------------------


def test_a_number_released_within_12_months_is_refused_like_a_number_held_now(world: World) -> None:
    julien_phone = world.phone(JULIEN)
    world.start(JULIEN)  # Julien moves from 06 23 45 67 89 to 07 98 76 54 32
    assert julien_phone.approve_pending().status == "completed"
    world.clock.advance(days=30)
    cid = world.cid(CAMILLE)
    for attempt in (
        lambda: change.check_new_number(world.uow(), cid, "06 23 45 67 89", "FR", actor=customer_actor(cid)),
        lambda: change.start_request(world.uow(), cid, JULIEN_NUMBER, channel=change.Channel.WEB,
                                     actor=customer_actor(cid)),
    ):
        with pytest.raises((NumberRejected, Refused)) as refused:
            attempt()
        error = refused.value
        assert (error.problem is NumberProblem.UNAVAILABLE if isinstance(error, NumberRejected)
                else error.code == "number.unavailable")
    # A risk signal on both customers' sheets; nothing says to Camille whose number it was.
    assert details(world.audit(CAMILLE, "number_entered")[-1])["risk_signal"] == "number_shared"
    claimed = world.audit(JULIEN, "number_claimed_by_other")
    assert claimed and details(claimed[0])["by_customer"] == cid
    sophie = world.advisor_id("sophie.lambert")
    for identifier in (CAMILLE, JULIEN):
        assert "number_shared" in advisor.sheet(world.uow(), sophie, identifier).signals
    # The advisor cannot set it either.
    with pytest.raises(Refused, match="number.unavailable"):
        advisor.advisor_change(world.uow(), sophie, CAMILLE, raw_number="06 23 45 67 89", region="FR",
                               document_type="cni",
                               document_number=DOCUMENT, in_branch=True, actor=adv("sophie.lambert"))
    # Julien may take his own old number back; after 12 months it is anyone's again.
    assert change.check_new_number(world.uow(), world.cid(JULIEN), "06 23 45 67 89", "FR",
                                   actor=customer_actor(world.cid(JULIEN))).e164 == JULIEN_NUMBER
    world.clock.advance(days=336)
    assert change.check_new_number(world.uow(), cid, "06 23 45 67 89", "FR",
                                   actor=customer_actor(cid)).e164 == JULIEN_NUMBER


# --- a blocked Sécur'Pass has a way back; an advisor can end every session ---------------------------------


def block(world: World) -> None:
    phone = world.phone(CAMILLE)
    world.start(CAMILLE)
    for _ in range(3):
        assert phone.approve_pending(code=WRONG_CODE).rejection == "wrong_code"
    assert world.customer(CAMILLE).securpass_status == "blocked"


def test_an_advisor_unblocks_securpass_in_branch(world: World) -> None:
    block(world)
    with pytest.raises(Refused, match="in_branch_required"):
        operate(world, "sophie.lambert", "unblock_securpass", in_branch=False)
    done = operate(world, "sophie.lambert", "unblock_securpass")
    # The wrong codes that caused the block are what the unblock answers: no second advisor for them alone.
    assert done.status == "done"
    customer = world.customer(CAMILLE)
    assert (customer.securpass_status, customer.securpass_wrong_codes) == ("active", 0)
    assert [e.outcome for e in world.audit(CAMILLE, "securpass_unblocked")] == ["ok"]
    phone = world.phone(CAMILLE)
    world.clock.advance(minutes=1)
    world.start(CAMILLE, OTHER_RAW)
    assert phone.approve_pending().status == "completed"


def block_after_a_recent_change(world: World) -> None:
    """Julien changed his number today (a risk signal), then typed three wrong codes."""
    julien_phone = world.phone(JULIEN)
    world.start(JULIEN, OTHER_RAW)
    assert julien_phone.approve_pending().status == "completed"
    world.start(JULIEN, "07 55 44 33 21")
    for _ in range(3):
        julien_phone.approve_pending(code=WRONG_CODE)
    assert world.customer(JULIEN).securpass_status == "blocked"


def test_an_unblock_under_another_risk_signal_needs_a_second_advisor(world: World) -> None:
    block_after_a_recent_change(world)
    pending = operate(world, "sophie.lambert", "unblock_securpass", identifier=JULIEN)
    assert pending.status == "pending_validation"
    assert world.customer(JULIEN).securpass_status == "blocked"
    advisor.validate_operation(world.uow(), world.advisor_id("nadia.benali"), pending.operation_id,
                               actor=adv("nadia.benali"))
    assert world.customer(JULIEN).securpass_status == "active"


def test_an_operation_waiting_too_long_cannot_be_validated(world: World) -> None:
    block_after_a_recent_change(world)
    pending = operate(world, "sophie.lambert", "unblock_securpass", identifier=JULIEN)
    assert pending.status == "pending_validation"
    world.clock.advance(hours=3)
    with pytest.raises(Refused, match="sp.gone"):
        advisor.validate_operation(world.uow(), world.advisor_id("nadia.benali"), pending.operation_id,
                                   actor=adv("nadia.benali"))
    assert world.customer(JULIEN).securpass_status == "blocked"


def test_an_advisor_ends_every_session_of_a_customer(world: World) -> None:
    web, app = login(world), login(world, channel="app")
    julien = login(world, JULIEN)
    with pytest.raises(Refused, match="advisor.not_found"):
        advisor.end_customer_sessions(world.uow(), world.advisor_id("karim.haddad"), CAMILLE, actor=adv("karim.haddad"))
    assert live(world, web)
    assert advisor.end_customer_sessions(world.uow(), world.advisor_id("sophie.lambert"), CAMILLE,
                                         actor=adv("sophie.lambert")) == 2
    assert not live(world, web) and not live(world, app) and live(world, julien)
    assert auth.end_reason(world.uow(), web) == "advisor"
    [entry] = world.audit(CAMILLE, "sessions_ended")
    assert details(entry)["count"] == 2
    assert world.customer(CAMILLE).securpass_status == "active"  # nothing else changed
