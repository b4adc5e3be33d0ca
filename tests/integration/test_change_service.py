"""The change of secure number through the services, on SQLite and PostgreSQL (spec §5, §6, §7, §10).

Every test drives the real use cases (check_new_number → start_request → pending_approval →
approve/refuse/cancel → MySys → outbox) with a software phone that signs what the server shows,
and asserts on the rows: ChangeRequest, Customer, MySys contact and history, Outbox, AuditEntry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import ChangeRequest, Customer, Device
from secure_phone.domain.change_request import Channel, RefusalReason
from secure_phone.domain.phone import NumberProblem, NumberRejected
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import change, customers, devices, status
from secure_phone.services.audit import verify_chain
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    CODE,
    HUGO,
    INES,
    JULIEN,
    JULIEN_NUMBER,
    LEA,
    MARC,
    NEW_E164,
    NEW_MASKED_LAST_TWO,
    NEW_RAW,
    OTHER_E164,
    OTHER_RAW,
    PARIS_OPERA_PHONE,
    SARL,
    THIRD_E164,
    SoftPhone,
    World,
    customer_actor,
    details,
    device_actor,
    number_forms,
    run_together,
    world,  # noqa: F401  (fixture)
)

WRONG_CODE = "1111"


# --- assertion helpers --------------------------------------------------------------------------


def assert_nothing_applied(world: World, identifier: str = CAMILLE, number: str = CAMILLE_OLD) -> None:
    """No change reached the customer record, MySys or the outbox."""
    customer = world.customer(identifier)
    assert customer.secure_phone_e164 == number
    assert customer.number_changed_at is None
    assert customer.cooling_off_until is None
    assert world.history(identifier) == []
    assert world.mysys_contact(identifier).secure_phone_e164 == number
    assert [row for row in world.outbox() if row.customer_id == customer.id] == []


def last_approval_audit(world: World, identifier: str = CAMILLE, action: str = "approval") -> dict[str, Any]:
    entries = world.audit(identifier, action)
    assert entries, f"no {action} audited"
    entry = entries[-1]
    return {"outcome": entry.outcome, "request_id": entry.request_id, **details(entry)}


def is_subsequence(wanted: list[tuple[str, str]], got: list[tuple[str, str]]) -> bool:
    it = iter(got)
    return all(item in it for item in wanted)


# --- 1. nominal ---------------------------------------------------------------------------------


def test_nominal_change_is_applied_everywhere_once(world: World) -> None:
    cid = world.cid(CAMILLE)
    phone = world.phone(CAMILLE)
    actor = customer_actor(cid)
    t_start = world.clock.now

    number = change.check_new_number(world.uow(), cid, NEW_RAW, "FR", actor=actor)
    assert number.e164 == NEW_E164
    view = change.start_request(world.uow(), cid, number.e164, channel=Channel.WEB, actor=actor)
    assert view.status == "pending_approval"
    assert view.new_national == NEW_RAW
    assert view.expires_at == t_start + DEFAULT_POLICY.approval_ttl
    [row] = world.requests(CAMILLE)
    assert (row.id, row.status, row.old_e164, row.new_e164) == (view.id, "pending_approval", CAMILLE_OLD, NEW_E164)

    # Only Camille's enrolled phone is shown the request.
    assert change.pending_approval(world.uow(), cid, None, lang="fr") is None
    assert world.phone(JULIEN).pending(customer_id=cid) is None
    unenrolled = SoftPhone(world, devices.NEW_PHONE, None)
    new_device = unenrolled.pick_up()
    assert not new_device.enrolled
    assert change.pending_approval(world.uow(), cid, new_device.id, lang="fr") is None
    approval = phone.pending()
    assert approval is not None
    assert approval.request_id == view.id
    assert approval.new_national == NEW_RAW
    assert approval.customer_name == "Camille MARTIN"
    for shown in (NEW_RAW, "Camille MARTIN", view.id, approval.nonce):
        assert shown in approval.text

    world.clock.advance(seconds=40)
    t_done = world.clock.now
    result = phone.approve(view.id, phone.sign(approval.text), code=CODE)

    assert (result.accepted, result.rejection, result.status) == (True, None, "completed")
    request = world.request(view.id)
    assert request.status == "completed"
    assert request.completed_at == t_done
    assert request.device_id == phone.device_id
    customer = world.customer(CAMILLE)
    assert customer.secure_phone_e164 == NEW_E164
    assert customer.number_changed_at == t_done
    assert customer.cooling_off_until == t_done + timedelta(hours=72)
    assert customer.securpass_wrong_codes == 0
    assert approval.nonce in {n.nonce for n in world.used_nonces()}

    # MySys: the new number, exactly one history row for this operation.
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == NEW_E164
    [entry] = world.history(CAMILLE)
    assert (entry.operation_id, entry.old_e164, entry.new_e164, entry.source) == (view.id, CAMILLE_OLD, NEW_E164, "web")

    # Outbox: email, SMS to the OLD number, welcome SMS to the new one — and nothing else.
    outbox = world.outbox()
    assert len(outbox) == 3
    by_key = {row.key: row for row in outbox}
    assert set(by_key) == {f"{view.id}:email", f"{view.id}:sms-old", f"{view.id}:sms-new"}
    email, sms_old, sms_new = by_key[f"{view.id}:email"], by_key[f"{view.id}:sms-old"], by_key[f"{view.id}:sms-new"]
    assert (email.channel, email.recipient) == ("email", customer.email)
    assert (sms_old.channel, sms_old.recipient) == ("sms", CAMILLE_OLD)
    assert (sms_new.channel, sms_new.recipient) == ("sms", NEW_E164)
    assert all(row.status == "pending" and row.customer_id == cid for row in outbox)
    for row in (email, sms_old):
        assert NEW_MASKED_LAST_TWO in row.body
        assert "l'espace client web" in row.body  # the channel
        assert PARIS_OPERA_PHONE in row.body  # what to do if it was not them
        for form in number_forms(NEW_E164):
            assert form not in row.body
    assert sms_new.body  # the welcome SMS

    # Audit: the steps, in order, and a chain that verifies.
    assert is_subsequence(
        [("number_entered", "ok"), ("change_requested", "ok"), ("approval", "ok"), ("change_completed", "ok")],
        world.audit_pairs(CAMILLE),
    ), world.audit_pairs(CAMILLE)
    with read_only(world.url) as s:
        assert verify_chain(s) is None

    # The request is gone from the phone and cannot be approved again.
    assert phone.pending() is None


def test_change_from_the_app_by_an_emancipated_minor(world: World) -> None:
    phone = world.phone(INES)
    view = world.start(INES, NEW_RAW, channel=Channel.APP)
    result = phone.approve_pending()
    assert (result.accepted, result.status) == (True, "completed")
    assert world.customer(INES).secure_phone_e164 == NEW_E164
    [entry] = world.history(INES)
    assert (entry.operation_id, entry.source) == (view.id, "app")
    sms_old = next(r for r in world.outbox() if r.key == f"{view.id}:sms-old")
    assert "l'application mobile" in sms_old.body


# --- 2. number rules and eligibility --------------------------------------------------------------


NUMBER_RULES = [
    ("06 12 34 56 78", NumberProblem.SAME_AS_CURRENT),
    ("+33 6 23 45 67 89", NumberProblem.UNAVAILABLE),  # Julien's secure number
    ("01 42 68 00 00", NumberProblem.LANDLINE),
    ("bonjour", NumberProblem.NOT_A_NUMBER),
    ("06 12 34", NumberProblem.INVALID),
]


def test_number_rules_through_the_service(world: World) -> None:
    cid = world.cid(CAMILLE)
    actor = customer_actor(cid)
    for raw, problem in NUMBER_RULES:
        with pytest.raises(NumberRejected) as rejected:
            change.check_new_number(world.uow(), cid, raw, "FR", actor=actor)
        assert rejected.value.problem is problem, raw
        with pytest.raises(Refused) as refused:
            change.start_request(world.uow(), cid, raw, channel=Channel.WEB, actor=actor)
        assert refused.value.code == f"number.{problem.value}", raw

        assert world.requests() == [], raw
        assert_nothing_applied(world)
        assert world.customer(JULIEN).secure_phone_e164 == JULIEN_NUMBER
        entered = last_approval_audit(world, action="number_entered")
        assert (entered["outcome"], entered["problem"]) == ("refused", problem.value), raw
        requested = last_approval_audit(world, action="change_requested")
        assert (requested["outcome"], requested["problem"]) == ("refused", f"number.{problem.value}"), raw
    assert [e.outcome for e in world.audit(CAMILLE)] == ["refused"] * 2 * len(NUMBER_RULES)


def test_another_customers_number_is_refused_generically_with_a_risk_signal(world: World) -> None:
    cid = world.cid(CAMILLE)
    with pytest.raises(NumberRejected) as rejected:
        change.check_new_number(world.uow(), cid, "06 23 45 67 89", "FR", actor=customer_actor(cid))
    # The same answer as any unusable number: nothing says it belongs to someone.
    assert rejected.value.problem is NumberProblem.UNAVAILABLE
    [entry] = world.audit(CAMILLE, "number_entered")
    assert entry.outcome == "refused"
    assert details(entry) == {"problem": "unavailable", "risk_signal": "number_shared"}
    # A refusal for any other reason carries no risk signal.
    with pytest.raises(NumberRejected):
        change.check_new_number(world.uow(), cid, "01 42 68 00 00", "FR", actor=customer_actor(cid))
    assert details(world.audit(CAMILLE, "number_entered")[-1]).get("risk_signal") is None


INELIGIBLE = [(LEA, "minor"), (HUGO, "no_securpass"), (SARL, "legal_person"), (MARC, "protected_adult")]


def test_ineligible_personas_cannot_start(world: World) -> None:
    for identifier, reason in INELIGIBLE:
        cid = world.cid(identifier)
        before = world.customer(identifier)
        audit_before = len(world.audit())

        with pytest.raises(Refused) as refused:
            change.check_new_number(world.uow(), cid, NEW_RAW, "FR", actor=customer_actor(cid))
        assert refused.value.code == f"ineligible.{reason}", identifier

        assert world.requests() == [], identifier
        assert_nothing_applied(world, identifier, before.secure_phone_e164)  # type: ignore[arg-type]
        new_entries = world.audit()[audit_before:]
        assert [(e.action, e.outcome, e.customer_id) for e in new_entries] == [("number_entered", "refused", cid)]
        assert details(new_entries[0]) == {"problem": f"ineligible.{reason}"}

        # start_request checks again (a client that skips step 2 gets the same answer).
        with pytest.raises(Refused) as again:
            change.start_request(world.uow(), cid, NEW_E164, channel=Channel.WEB, actor=customer_actor(cid))
        assert again.value.code == f"ineligible.{reason}", identifier
        assert world.requests() == [], identifier
        assert world.audit(identifier, "change_requested")[-1].outcome == "refused"
    assert world.outbox() == [] and world.history() == []


# --- 3. attacks -----------------------------------------------------------------------------------


def test_replayed_approval_is_refused(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    signature = phone.sign(approval.text)
    assert phone.approve(view.id, signature).accepted

    world.clock.advance(seconds=5)
    replay = phone.approve(view.id, signature)

    assert replay.accepted is False
    assert replay.rejection == "not_pending"
    assert len(world.history(CAMILLE)) == 1
    assert len(world.outbox()) == 3
    assert world.request(view.id).status == "completed"
    audited = last_approval_audit(world)
    assert audited["outcome"] == "refused" and audited["rejection"] == "not_pending"


def test_replay_of_a_refused_attempt_cannot_approve(world: World) -> None:
    """A signature captured from a failed attempt (wrong code) is worthless afterwards."""
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    captured = phone.sign(approval.text)
    assert phone.approve(view.id, captured, code=WRONG_CODE).rejection == "wrong_code"

    replay = phone.approve(view.id, captured, code=CODE)

    assert replay.accepted is False
    assert replay.rejection == "bad_signature"
    assert_nothing_applied(world)
    assert world.request(view.id).status == "pending_approval"
    assert last_approval_audit(world)["rejection"] == "bad_signature"


def test_approval_by_another_customers_device_is_refused(world: World) -> None:
    cid = world.cid(CAMILLE)
    camille_phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    view = world.start(CAMILLE)
    approval = camille_phone.pending()
    assert approval is not None

    # Julien's phone, Julien's key, signing Camille's request text, presented for Camille.
    result = julien_phone.approve(view.id, julien_phone.sign(approval.text), customer_id=cid)
    assert (result.accepted, result.rejection) == (False, "wrong_device")
    # Julien's key presented as if it were Camille's phone.
    forged = camille_phone.approve(view.id, julien_phone.sign(approval.text))
    assert (forged.accepted, forged.rejection) == (False, "bad_signature")

    assert_nothing_applied(world)
    assert world.request(view.id).status == "pending_approval"
    assert world.customer(CAMILLE).securpass_wrong_codes == 0
    refusals = world.audit(CAMILLE, "approval")
    assert [(e.outcome, details(e)["rejection"], details(e)["device"]) for e in refusals] == [
        ("refused", "wrong_device", julien_phone.device_id),
        ("refused", "bad_signature", camille_phone.device_id),
    ]


def test_another_customers_device_cannot_spend_the_victims_nonce(world: World) -> None:
    """An approval signed by a device that is not the customer's enrolled phone must not touch the request.

    The server may only act on a signature that "verifies with the enrolled key of that customer"
    (§6); a foreign device's refused attempt must leave the victim's pending approval as it was, so
    that the genuine phone can still approve what it shows.
    """
    cid = world.cid(CAMILLE)
    camille_phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    view = world.start(CAMILLE)
    approval = camille_phone.pending()
    assert approval is not None

    refused = julien_phone.approve(view.id, julien_phone.sign(approval.text), customer_id=cid)
    assert refused.rejection == "wrong_device"

    assert world.request(view.id).nonce == approval.nonce, "a foreign device's refused attempt rotated the nonce"
    assert approval.nonce not in {n.nonce for n in world.used_nonces()}, "a foreign device spent the nonce"
    genuine = camille_phone.approve(view.id, camille_phone.sign(approval.text))
    assert (genuine.accepted, genuine.status) == (True, "completed")


def test_approval_of_another_customers_request_is_not_found(world: World) -> None:
    camille_phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    view = world.start(CAMILLE)
    approval = camille_phone.pending()
    assert approval is not None
    jid = world.cid(JULIEN)

    theirs = julien_phone.approve(view.id, julien_phone.sign(approval.text), customer_id=jid)
    missing = julien_phone.approve("0" * 32, julien_phone.sign(approval.text), customer_id=jid)

    # The same answer whether the request is someone else's or does not exist.
    assert theirs == missing
    assert (theirs.accepted, theirs.rejection, theirs.status, theirs.tries_left) == (False, "not_found", None, None)
    assert world.request(view.id).status == "pending_approval"
    assert world.request(view.id).nonce == approval.nonce
    assert_nothing_applied(world)
    assert_nothing_applied(world, JULIEN, JULIEN_NUMBER)
    audited = world.audit(JULIEN, "approval")
    assert [(e.outcome, details(e)["rejection"]) for e in audited] == [("refused", "not_found")] * 2
    # Reading or cancelling it is refused the same way.
    with pytest.raises(Refused, match="sp.gone"):
        change.request_status(world.uow(), jid, view.id)
    with pytest.raises(Refused, match="sp.gone"):
        change.cancel_request(world.uow(), jid, view.id, actor=customer_actor(jid))
    assert world.request(view.id).status == "pending_approval"


def test_the_phone_is_shown_the_newest_pending_request_only_while_it_holds_its_key(world: World) -> None:
    """What the phone reads at every push (one statement since issue 13): the newest request waiting for it, the
    text it signs the one the approval checks — and nothing once the enrolled phone has no key."""
    phone = world.phone(CAMILLE)
    world.start(CAMILLE, NEW_RAW)
    world.clock.advance(minutes=1)
    newest = world.start(CAMILLE, "07 81 22 33 44")
    shown = phone.pending()
    assert shown is not None and shown.request_id == newest.id and shown.new_national == "07 81 22 33 44"
    assert shown.customer_name == "Camille MARTIN" and shown.text == world.current_text(newest.id)
    with transaction(world.url) as s:
        device = s.get(Device, phone.device_id)
        assert device is not None
        device.public_jwk = None
        s.add(device)
        s.commit()
    assert phone.pending() is None


def test_expired_request_cannot_be_approved(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    signature = phone.sign(approval.text)

    world.clock.now = view.expires_at  # valid 5 minutes: at expires_at it is over
    assert phone.pending() is None
    result = phone.approve(view.id, signature)

    assert (result.accepted, result.rejection) == (False, "expired")
    assert world.request(view.id).status == "expired"
    assert_nothing_applied(world)
    audited = last_approval_audit(world)
    assert audited["outcome"] == "refused" and audited["rejection"] == "expired"


def test_approval_just_before_expiry_is_accepted(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    world.clock.now = view.expires_at - timedelta(seconds=1)
    assert phone.approve(view.id, phone.sign(approval.text)).accepted


def test_superseded_request_cannot_be_approved(world: World) -> None:
    phone = world.phone(CAMILLE)
    first = world.start(CAMILLE, NEW_RAW)
    first_approval = phone.pending()
    assert first_approval is not None
    first_signature = phone.sign(first_approval.text)

    world.clock.advance(seconds=30)
    second = world.start(CAMILLE, OTHER_RAW)
    assert world.request(first.id).status == "superseded"
    shown = phone.pending()
    assert shown is not None and shown.request_id == second.id

    result = phone.approve(first.id, first_signature)
    assert (result.accepted, result.rejection) == (False, "superseded")
    assert world.request(first.id).status == "superseded"
    assert_nothing_applied(world)
    assert last_approval_audit(world)["rejection"] == "superseded"
    assert world.audit(CAMILLE, "change_superseded")[-1].request_id == first.id

    # The newer request is the one that can be approved, and it applies its own number.
    assert phone.approve(second.id, phone.sign(shown.text)).accepted
    assert world.customer(CAMILLE).secure_phone_e164 == OTHER_E164
    assert [h.operation_id for h in world.history(CAMILLE)] == [second.id]


def test_cancelled_request_cannot_be_approved(world: World) -> None:
    cid = world.cid(CAMILLE)
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    signature = phone.sign(approval.text)

    cancelled = change.cancel_request(world.uow(), cid, view.id, actor=customer_actor(cid))
    assert cancelled.status == "cancelled"
    assert phone.pending() is None
    result = phone.approve(view.id, signature)

    assert (result.accepted, result.rejection) == (False, "not_pending")
    assert world.request(view.id).status == "cancelled"
    assert_nothing_applied(world)
    assert ("change_cancelled", "ok") in world.audit_pairs(CAMILLE)
    assert last_approval_audit(world)["rejection"] == "not_pending"


def test_signature_over_a_different_text_is_refused(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    tampered = approval.text.replace(NEW_RAW, OTHER_RAW)
    assert tampered != approval.text

    for signature in (phone.sign(tampered), phone.sign(approval.text + " "), "A" * 86, "not base64!", ""):
        result = phone.approve(view.id, signature)
        assert (result.accepted, result.rejection) == (False, "bad_signature")

    assert world.request(view.id).status == "pending_approval"
    assert world.request(view.id).nonce == approval.nonce  # an invalid signature spends nothing
    assert world.customer(CAMILLE).securpass_wrong_codes == 0
    assert_nothing_applied(world)
    assert [details(e)["rejection"] for e in world.audit(CAMILLE, "approval")] == ["bad_signature"] * 5
    # The genuine approval still works.
    assert phone.approve(view.id, phone.sign(approval.text)).accepted


def test_three_wrong_codes_block_securpass(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)

    tries = []
    for _ in range(3):
        result = phone.approve_pending(code=WRONG_CODE)
        assert (result.accepted, result.rejection) == (False, "wrong_code")
        tries.append(result.tries_left)
        world.clock.advance(seconds=10)
    assert tries == [2, 1, 0]  # warned before the last try

    customer = world.customer(CAMILLE)
    assert customer.securpass_status == "blocked"
    assert world.request(view.id).status == "blocked"
    assert phone.pending() is None
    assert ("securpass_blocked", "ok") in world.audit_pairs(CAMILLE)
    assert [details(e)["rejection"] for e in world.audit(CAMILLE, "approval")] == ["wrong_code"] * 3

    # Even the right code with a valid signature over the current text is refused now.
    right = phone.approve(view.id, phone.sign(world.current_text(view.id)), code=CODE)
    assert right.accepted is False
    assert world.customer(CAMILLE).securpass_status == "blocked"
    assert_nothing_applied(world)
    assert last_approval_audit(world)["outcome"] == "refused"
    # And no new request can be started online.
    with pytest.raises(Refused) as refused:
        world.start(CAMILLE, OTHER_RAW)
    assert refused.value.code == "ineligible.securpass_blocked"


def test_two_wrong_codes_then_the_right_one_is_accepted_and_resets_the_counter(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    assert phone.approve_pending(code=WRONG_CODE).tries_left == 2
    assert phone.approve_pending(code="0000").tries_left == 1
    assert world.customer(CAMILLE).securpass_wrong_codes == 2

    result = phone.approve_pending(code=CODE)

    assert (result.accepted, result.status) == (True, "completed")
    customer = world.customer(CAMILLE)
    assert customer.securpass_wrong_codes == 0
    assert customer.securpass_status == "active"
    assert customer.secure_phone_e164 == NEW_E164
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]


def test_wrong_code_rotates_the_nonce(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    first = phone.pending()
    assert first is not None
    assert phone.approve(view.id, phone.sign(first.text), code=WRONG_CODE).rejection == "wrong_code"

    fresh = phone.pending()
    assert fresh is not None and fresh.request_id == view.id
    assert fresh.nonce != first.nonce and fresh.text != first.text
    assert first.nonce in {n.nonce for n in world.used_nonces()}

    stale = phone.approve(view.id, phone.sign(first.text), code=CODE)
    assert (stale.accepted, stale.rejection) == (False, "bad_signature")
    assert world.customer(CAMILLE).securpass_wrong_codes == 1  # a bad signature is not a wrong code
    assert_nothing_applied(world)

    good = phone.approve(view.id, phone.sign(fresh.text), code=CODE)
    assert (good.accepted, good.status) == (True, "completed")


def test_at_most_three_requests_per_rolling_24_hours(world: World) -> None:
    cid = world.cid(CAMILLE)
    t0 = world.clock.now
    for raw in (NEW_RAW, OTHER_RAW, "07 55 44 33 21"):
        world.start(CAMILLE, raw)
        world.clock.advance(minutes=1)

    with pytest.raises(Refused) as limited:
        change.start_request(world.uow(), cid, NEW_E164, channel=Channel.WEB, actor=customer_actor(cid))
    assert limited.value.code == "limit.requests"
    assert len(world.requests(CAMILLE)) == 3
    assert world.audit(CAMILLE, "change_requested")[-1].outcome == "rate_limited"
    # Still limited just before the oldest request leaves the window.
    world.clock.now = t0 + timedelta(hours=24) - timedelta(seconds=1)
    with pytest.raises(Refused, match="limit.requests"):
        world.start(CAMILLE, NEW_RAW)

    world.clock.now = t0 + timedelta(hours=24) + timedelta(seconds=1)
    view = world.start(CAMILLE, NEW_RAW)
    assert view.status == "pending_approval"
    statuses = [r.status for r in world.requests(CAMILLE)]
    assert len(statuses) == 4 and statuses.count("pending_approval") == 1
    assert world.phone(CAMILLE).approve_pending().accepted


def test_refusal_not_me_raises_a_fraud_alert(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None

    result = phone.refuse(view.id, RefusalReason.NOT_ME, phone.sign(approval.text + "\nnot_me"))

    assert (result.accepted, result.status) == (True, "refused")
    request = world.request(view.id)
    assert (request.status, request.refusal_reason, request.device_id) == ("refused", "not_me", phone.device_id)
    assert_nothing_applied(world)
    pairs = world.audit_pairs(CAMILLE)
    assert ("refusal", "ok") in pairs
    [alert] = world.audit(CAMILLE, "fraud_alert")
    assert (alert.outcome, alert.request_id, details(alert)["signal"]) == ("raised", view.id, "not_me")
    # A refused request cannot be approved afterwards.
    late = phone.approve(view.id, phone.sign(world.current_text(view.id)))
    assert (late.accepted, late.rejection) == (False, "not_pending")
    assert_nothing_applied(world)


def test_refusal_changed_mind_raises_no_fraud_alert(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    result = phone.refuse(view.id, RefusalReason.CHANGED_MIND, phone.sign(approval.text + "\nchanged_mind"))
    assert result.accepted
    assert world.request(view.id).refusal_reason == "changed_mind"
    assert world.audit(CAMILLE, "fraud_alert") == []


def test_refusal_with_a_bad_signature_is_refused(world: World) -> None:
    phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None

    attempts = [
        phone.sign(approval.text),  # the reason is not signed
        phone.sign(approval.text + "\nchanged_mind"),  # another reason than the one sent
        julien_phone.sign(approval.text + "\nnot_me"),  # another phone's key
    ]
    for signature in attempts:
        result = phone.refuse(view.id, RefusalReason.NOT_ME, signature)
        assert (result.accepted, result.rejection) == (False, "bad_signature")
    # Another customer's device cannot refuse it either.
    foreign = julien_phone.refuse(view.id, RefusalReason.NOT_ME, julien_phone.sign(approval.text + "\nnot_me"),
                                  customer_id=world.cid(CAMILLE))
    assert (foreign.accepted, foreign.rejection) == (False, "not_found")

    assert world.request(view.id).status == "pending_approval"
    assert world.audit(CAMILLE, "fraud_alert") == []
    assert [(e.outcome, details(e)["rejection"]) for e in world.audit(CAMILLE, "refusal")] == [
        ("refused", "bad_signature")] * 3 + [("refused", "wrong_device")]
    # The genuine phone can still approve.
    assert phone.approve(view.id, phone.sign(approval.text)).accepted


# --- 4. MySys faults ------------------------------------------------------------------------------


def test_mysys_error_leaves_the_change_applying_then_a_retry_completes_it_once(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)

    result = phone.approve_pending(mysys=world.faulty_mysys(error_rate=1.0))

    assert (result.accepted, result.status) == (True, "applying")
    request = world.request(view.id)
    assert (request.status, request.mysys_attempts) == ("applying", 1)
    assert world.outbox() == []
    assert world.history(CAMILLE) == []
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert ("mysys_update", "error") in world.audit_pairs(CAMILLE)

    t_retry = world.clock.advance(minutes=1)
    assert change.retry_applying(world.uow(now=t_retry)) == 1

    request = world.request(view.id)
    assert (request.status, request.completed_at) == ("completed", t_retry)
    customer = world.customer(CAMILLE)
    assert customer.secure_phone_e164 == NEW_E164
    assert customer.cooling_off_until == t_retry + timedelta(hours=72)
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]
    assert len(world.outbox()) == 3
    # Nothing left to retry; running it again changes nothing.
    assert change.retry_applying(world.uow(now=world.clock.advance(minutes=1))) == 0
    assert len(world.history(CAMILLE)) == 1 and len(world.outbox()) == 3
    assert [e.outcome for e in world.audit(CAMILLE, "change_completed")] == ["ok"]


def test_mysys_timeout_after_applying_is_completed_by_a_retry_without_applying_twice(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)

    result = phone.approve_pending(mysys=world.faulty_mysys(timeout_rate=1.0))

    assert (result.accepted, result.status) == (True, "applying")
    # MySys applied it but the answer was lost: the app has not completed anything yet.
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.outbox() == []

    assert change.retry_applying(world.uow(now=world.clock.advance(minutes=1))) == 1

    assert world.request(view.id).status == "completed"
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == NEW_E164
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]
    assert len(world.outbox()) == 3


def test_complete_change_twice_changes_nothing_more(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    assert phone.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"

    first = change.complete_change(world.uow(now=world.clock.advance(seconds=5)), view.id)
    second = change.complete_change(world.uow(now=world.clock.advance(seconds=5)), view.id)
    third = change.complete_change(world.uow(now=world.clock.advance(seconds=5)), view.id)

    assert (first, second, third) == ("completed", "completed", "completed")
    assert len(world.outbox()) == 3
    assert len(world.history(CAMILLE)) == 1
    assert len(world.audit(CAMILLE, "change_completed")) == 1


def test_valider_commits_the_approval_mysys_and_the_completion_and_nothing_more(world: World) -> None:
    """Issue 13: « Valider » when MySys answers at once is three commits — the approval (which checks that the
    change still applies), the simulated MySys's own record (it shares the database here), the completion; the
    completion's checks are not read again in a transaction of their own."""
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    commits: list[str] = []

    def count(connection: sqlalchemy.Connection) -> None:
        commits.append(str(connection.engine.url))

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "commit", count)
    try:
        result = phone.approve(view.id, phone.sign(approval.text), code=CODE)
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "commit", count)

    assert (result.accepted, result.status) == (True, "completed")
    assert len(commits) == 3, commits
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    assert len(world.history(CAMILLE)) == 1
    assert len(world.outbox()) == 3


def test_an_approval_whose_number_is_taken_before_mysys_fails_without_reaching_it(world: World) -> None:
    """The approval's own checks are the ones MySys relies on: Julien holds the new number already, so
    Camille's « Valider » is refused in its transaction and MySys is never told."""
    camille = world.phone(CAMILLE)
    world.start(CAMILLE, "07 55 44 33 21")
    with transaction(world.url) as session:  # e.g. an advisor's in-branch change of Julien's number
        julien = session.exec(select(Customer).where(Customer.identifier == JULIEN)).one()
        julien.secure_phone_e164 = THIRD_E164
        session.add(julien)

    refused = camille.approve_pending()

    assert (refused.accepted, refused.rejection) == (False, "number_changed")
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.history(CAMILLE) == []


def test_mysys_down_for_good_fails_the_change_cleanly(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    down = world.faulty_mysys(error_rate=1.0)
    assert phone.approve_pending(mysys=down).status == "applying"

    outcome = "applying"
    for _ in range(change.MYSYS_MAX_ATTEMPTS + 5):
        world.clock.advance(minutes=1)
        change.retry_applying(world.uow(mysys=down))
        outcome = world.request(view.id).status
        if outcome != "applying":
            break

    request = world.request(view.id)
    assert (request.status, request.failure_reason) == ("failed", "mysys_unavailable")
    assert request.mysys_attempts == change.MYSYS_MAX_ATTEMPTS
    assert_nothing_applied(world)
    # A later healthy MySys does not resurrect a failed change.
    assert change.retry_applying(world.uow(now=world.clock.advance(minutes=1))) == 0
    assert_nothing_applied(world)


def test_a_late_retry_never_overwrites_a_newer_change(world: World) -> None:
    """A change stuck in 'applying' must not land on top of a newer change completed meanwhile.

    Either the second request is refused while the first is in flight, or the stale one fails when
    retried; what must never happen is the older number silently replacing the newer one (a lost
    change, §10) with an "old number" in its notifications that is no longer the customer's.
    """
    phone = world.phone(CAMILLE)
    first = world.start(CAMILLE, NEW_RAW)
    assert phone.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"

    world.clock.advance(minutes=2)
    try:
        world.start(CAMILLE, OTHER_RAW)
    except Refused:
        pass  # refusing a second change while one is being applied is a correct answer too
    else:
        assert phone.approve_pending().accepted

    world.clock.advance(minutes=2)
    change.retry_applying(world.uow())

    completed = sorted((r for r in world.requests(CAMILLE) if r.status == "completed"),
                       key=lambda r: r.completed_at)  # type: ignore[arg-type,return-value]
    assert completed, "nothing was completed"
    expected_old = CAMILLE_OLD
    for request in completed:
        assert request.old_e164 == expected_old, (
            f"request {request.id} ({request.old_e164} → {request.new_e164}) completed on top of {expected_old}"
        )
        expected_old = request.new_e164
    assert world.customer(CAMILLE).secure_phone_e164 == expected_old
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == expected_old
    assert first.id in {r.id for r in world.requests(CAMILLE)}


# --- 5. concurrency -------------------------------------------------------------------------------



def test_two_simultaneous_approvals_apply_exactly_one_change(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    approval = phone.pending()
    assert approval is not None
    signatures = [phone.sign(approval.text), phone.sign(approval.text)]
    assert signatures[0] != signatures[1]  # two valid signatures over the same text and nonce

    results = run_together(*(lambda sig=sig: phone.approve(view.id, sig) for sig in signatures))

    assert not any(isinstance(r, BaseException) for r in results), results
    assert sorted(r.accepted for r in results) == [False, True]
    loser = next(r for r in results if not r.accepted)
    assert loser.rejection in {"not_pending", "nonce_reused"}
    assert world.request(view.id).status == "completed"
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]
    assert len(world.outbox()) == 3
    assert [e.outcome for e in world.audit(CAMILLE, "approval")].count("ok") == 1
    assert len(world.audit(CAMILLE, "change_completed")) == 1
    with read_only(world.url) as s:
        assert verify_chain(s) is None


def test_two_simultaneous_completions_apply_once(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    assert phone.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"
    now = world.clock.advance(minutes=1)

    results = run_together(*(
        lambda: change.complete_change(world.uow(now=now), view.id) for _ in range(2)
    ))

    assert results == ["completed", "completed"], results
    assert [h.operation_id for h in world.history(CAMILLE)] == [view.id]
    assert len(world.outbox()) == 3
    assert len(world.audit(CAMILLE, "change_completed")) == 1


def test_two_simultaneous_starts_leave_one_pending_request(world: World) -> None:
    cid = world.cid(CAMILLE)
    now = world.clock.now

    def start(e164: str) -> Callable[[], change.RequestView]:
        return lambda: change.start_request(world.uow(now=now), cid, e164, channel=Channel.WEB,
                                            actor=customer_actor(cid))

    results = run_together(start(NEW_E164), start(OTHER_E164))

    assert not any(isinstance(r, BaseException) for r in results), results
    rows = world.requests(CAMILLE)
    assert len(rows) == 2
    assert sorted(r.status for r in rows) == ["pending_approval", "superseded"]
    with read_only(world.url) as s:
        pending = s.exec(select(ChangeRequest).where(ChangeRequest.status == "pending_approval")).all()
        assert len(pending) == 1
        assert verify_chain(s) is None
    # The one left pending is the one the phone shows, and it can be approved.
    phone = world.phone(CAMILLE)
    shown = phone.pending()
    assert shown is not None and shown.request_id == pending[0].id
    assert phone.approve(shown.request_id, phone.sign(shown.text)).accepted
    assert world.customer(CAMILLE).secure_phone_e164 == pending[0].new_e164


def test_two_customers_changing_to_the_same_number_at_once_only_one_gets_it(world: World) -> None:
    camille, julien = world.phone(CAMILLE), world.phone(JULIEN)
    world.start(CAMILLE, "07 55 44 33 21")
    world.start(JULIEN, "07 55 44 33 21")

    results = run_together(camille.approve_pending, julien.approve_pending)

    assert not any(isinstance(r, BaseException) for r in results), results
    holders = [i for i in (CAMILLE, JULIEN) if world.customer(i).secure_phone_e164 == THIRD_E164]
    assert len(holders) == 1
    statuses = sorted(r.status for r in world.requests())
    assert statuses.count("completed") == 1


# --- 8. status API service ------------------------------------------------------------------------


def test_status_during_and_after_the_cooling_off(world: World) -> None:
    before = status.secure_phone_status(world.uow(), CAMILLE)
    assert before is not None
    assert before["secure_phone_masked"] == "06 •• •• •• 78"
    assert before["last_changed_at"] is None and before["cooling_off_until"] is None
    assert status.secure_phone_status(world.uow(), "9999999999") is None

    phone = world.phone(CAMILLE)
    world.start(CAMILLE)
    t_done = world.clock.advance(seconds=20)
    assert phone.approve_pending().status == "completed"

    during = status.secure_phone_status(world.uow(now=world.clock.advance(hours=1)), CAMILLE)
    assert during is not None
    assert during["identifier"] == CAMILLE
    assert during["secure_phone_masked"] == "07 •• •• •• 32"
    assert during["last_changed_at"] == t_done.isoformat()
    assert during["cooling_off_until"] == (t_done + timedelta(hours=72)).isoformat()
    for form in number_forms(NEW_E164):
        assert form not in str(during)
    almost = status.secure_phone_status(world.uow(now=t_done + timedelta(hours=72) - timedelta(seconds=1)), CAMILLE)
    assert almost is not None and almost["cooling_off_until"] is not None

    after = status.secure_phone_status(world.uow(now=t_done + timedelta(hours=72)), CAMILLE)
    assert after is not None
    assert after["cooling_off_until"] is None
    assert after["secure_phone_masked"] == "07 •• •• •• 32"
    assert after["last_changed_at"] == t_done.isoformat()


@pytest.mark.parametrize(
    ("e164", "masked", "first", "last"),
    [
        ("+33612345678", "06 •• •• •• 78", "06", "78"),
        ("+447400123456", "07••• ••••56", "07", "56"),  # at most a third of the digits shown
        ("+687751234", "•• •• 34", "", "34"),  # no leading digit shown: the screen reader says so
    ],
)
def test_the_overview_and_the_status_show_the_masked_form_and_its_visible_digits(
    world: World, e164: str, masked: str, first: str, last: str
) -> None:
    with transaction(world.url) as s:
        row = s.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
        row.secure_phone_e164 = e164
        s.add(row)
        s.commit()
        customer_id = row.id
    view = customers.overview(world.uow(), customer_id)
    assert (view.masked, view.masked_first, view.masked_last_two) == (masked, first, last)
    answer = status.secure_phone_status(world.uow(), CAMILLE)
    assert answer is not None and answer["secure_phone_masked"] == masked


def test_device_actor_and_customer_actor_are_distinct_in_the_audit(world: World) -> None:
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)
    assert phone.approve_pending().accepted
    requested = world.audit(CAMILLE, "change_requested")[-1]
    approved = world.audit(CAMILLE, "approval")[-1]
    assert (requested.actor_kind, requested.actor_id, requested.channel) == (
        "customer", str(world.cid(CAMILLE)), "web")
    assert (approved.actor_kind, approved.actor_id, approved.request_id) == ("device", phone.device_id, view.id)
    assert device_actor(phone.device_id).ip == approved.ip


def test_a_number_being_applied_is_reserved(world: World) -> None:
    """Camille's approved change waits for MySys; Julien cannot be given the same number meanwhile,
    and Camille's change then completes: MySys and the bank's record agree for both."""
    camille, julien = world.phone(CAMILLE), world.phone(JULIEN)
    mine = world.start(CAMILLE, "07 55 44 33 21")
    world.start(JULIEN, "07 55 44 33 21")
    assert camille.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"
    refused = julien.approve_pending()
    assert not refused.accepted and refused.rejection == "number_changed"
    assert world.customer(JULIEN).secure_phone_e164 != THIRD_E164
    assert world.history(JULIEN) == []

    change.retry_applying(world.uow(now=world.clock.advance(minutes=1)))

    assert world.request(mine.id).status == "completed"
    assert world.customer(CAMILLE).secure_phone_e164 == THIRD_E164
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == THIRD_E164
    assert len(world.history(CAMILLE)) == 1


def test_number_taken_while_applying_leaves_mysys_consistent(world: World) -> None:
    """If the number became someone else's by another path while Camille's change waited for MySys,
    her change fails cleanly (§7: "nothing is half-done") and nothing reaches MySys."""
    camille = world.phone(CAMILLE)
    mine = world.start(CAMILLE, "07 55 44 33 21")
    assert camille.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"
    with transaction(world.url) as session:  # e.g. an advisor's in-branch change of Julien's number
        julien = session.exec(select(Customer).where(Customer.identifier == JULIEN)).one()
        julien.secure_phone_e164 = THIRD_E164
        session.add(julien)

    change.retry_applying(world.uow(now=world.clock.advance(minutes=1)))

    request = world.request(mine.id)
    assert request.status == "failed" and request.failure_reason == "number_unavailable"
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert [e.outcome for e in world.audit(CAMILLE, "change_completed")] == ["failed"]
    assert [r.recipient for r in world.outbox() if r.customer_id == world.cid(CAMILLE)] == []
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.history(CAMILLE) == []
