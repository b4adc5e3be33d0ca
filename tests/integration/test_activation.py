"""J4: Sécur'Pass moved to a new, unenrolled smartphone by an SMS code (spec §4 J3/J4, §5.2, §5.3).

The new phone is a :class:`SoftPhone` picked up as « Nouveau smartphone »; the 8-digit code is read
from the SMS as delivered to the demo inbox. Every test asserts the rows: Device, Customer, SmsCode,
ChangeRequest, Outbox, AuditEntry.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Device, Outbox, SmsCode
from secure_phone.domain.securpass import hash_code
from secure_phone.services import activation, change, devices
from secure_phone.services.unit_of_work import Refused
from secure_phone.settings import secret_key
from tests.integration.helpers import (
    CAMILLE,
    CHLOE,
    HUGO,
    NEW_E164,
    PARIS_OPERA_PHONE,
    SoftPhone,
    World,
    customer_actor,
    details,
    device_actor,
    world,  # noqa: F401  (fixture)
)

CHLOE_NUMBER = "+33667890123"
CHLOE_EMAIL = "chloe.dubois@example.fr"
HUGO_NUMBER = "+33656789012"
HUGO_EMAIL = "hugo.moreau@example.fr"
NEW_PIN = "1357"
EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")


# --- helpers -------------------------------------------------------------------------------------


def new_phone(world: World) -> SoftPhone:
    """« Nouveau smartphone »: an unenrolled device holding a fresh key."""
    phone = SoftPhone(world, devices.NEW_PHONE, None)
    view = phone.pick_up()
    assert (view.enrolled, view.customer_id) == (False, None)
    phone.device_id = view.id
    return phone


def devices_of(world: World, identifier: str) -> list[Device]:
    with read_only(world.url) as s:
        return list(s.exec(select(Device).where(Device.customer_id == world.cid(identifier))))


def sms_codes_of(world: World, identifier: str) -> list[SmsCode]:
    with read_only(world.url) as s:
        return list(s.exec(select(SmsCode).where(SmsCode.customer_id == world.cid(identifier))
                           .order_by(SmsCode.issued_at)))


def code_sms(world: World, identifier: str) -> list[Outbox]:
    return [o for o in world.outbox() if o.key.startswith("sms-code:") and o.customer_id == world.cid(identifier)]


def send_code(world: World, identifier: str, phone: SoftPhone) -> str:
    """« Recevoir le code par SMS » on the new phone; the code as the customer reads it in the SMS."""
    cid = world.cid(identifier)
    activation.send_activation_code(world.uow(), cid, phone.device_id, actor=customer_actor(cid, "app"))
    found = EIGHT_DIGITS.findall(world.sms_received(code_sms(world, identifier)[-1].key))
    assert len(found) == 1
    return found[0]


def activate(world: World, identifier: str, phone: SoftPhone, sms_code: str, pin: str = NEW_PIN) -> None:
    """« Activer » on the new phone: the phone signs the activation text it shows, with its own key."""
    cid = world.cid(identifier)
    text = activation.challenge(world.uow(), cid, phone.device_id, lang="fr")
    activation.activate(world.uow(), cid, phone.device_id, sms_code=sms_code, securpass_code=pin,
                        signature=phone.sign(text),
                        lang="fr", actor=customer_actor(cid, "app"))
    phone.customer_id = cid


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def can_start(world: World, identifier: str) -> str | None:
    """None when a change can be started now, else the refusal code."""
    try:
        world.start(identifier)
    except Refused as refused:
        return refused.code
    return None


# --- J4 nominal: Chloé ----------------------------------------------------------------------------


def test_chloe_moves_securpass_to_her_new_phone(world: World) -> None:
    cid = world.cid(CHLOE)
    old_phone = world.phone(CHLOE)
    pending = world.start(CHLOE)  # a change waiting for the old phone
    phone = new_phone(world)

    world.clock.advance(minutes=1)
    start = activation.send_activation_code(world.uow(), cid, phone.device_id, actor=customer_actor(cid, "app"))
    assert start.masked_number == "06 •• •• •• 23"
    [sms] = code_sms(world, CHLOE)
    assert (sms.channel, sms.recipient) == ("sms", CHLOE_NUMBER)
    code = EIGHT_DIGITS.findall(world.sms_received(sms.key))[0]
    [sent] = sms_codes_of(world, CHLOE)
    assert (sent.purpose, sent.device_id, sent.failures, sent.used_at) == ("activation", phone.device_id, 0, None)
    assert [(e.outcome, details(e)["device"]) for e in world.audit(CHLOE, "activation_code_sent")] == [
        ("ok", phone.device_id)]

    now = world.clock.advance(minutes=2)
    activate(world, CHLOE, phone, code)

    # The new phone is hers and enrolled, with the code she chose (kept as a keyed hash).
    new = world.device(phone.device_id)
    assert (new.customer_id, new.status, new.enrolled_at) == (cid, "enrolled", now)
    assert new.label == "Smartphone de Chloé Dubois"
    assert new.code_hash == hash_code(secret_key(), new.id, NEW_PIN)
    assert json.loads(new.public_jwk or "{}") == phone.jwk
    # The old binding is revoked.
    old = world.device(old_phone.device_id)
    assert (old.status, old.revoked_at) == ("revoked", now)
    assert [d.id for d in devices_of(world, CHLOE) if d.status == "enrolled"] == [phone.device_id]
    # Customer record: Sécur'Pass active on the new phone, moved now.
    customer = world.customer(CHLOE)
    assert (customer.securpass_status, customer.securpass_wrong_codes, customer.securpass_moved_at) == (
        "active", 0, now)
    assert customer.secure_phone_e164 == CHLOE_NUMBER  # the number itself does not change
    # The SMS code is spent.
    [used] = sms_codes_of(world, CHLOE)
    assert used.used_at == now
    # The request waiting for the old phone is superseded.
    request = world.request(pending.id)
    assert (request.status, request.decided_at) == ("superseded", now)
    # Email and SMS to the secure number.
    notes = [o for o in world.outbox() if o.key.startswith("activation:")]
    assert sorted((o.channel, o.recipient, o.key) for o in notes) == [
        ("email", CHLOE_EMAIL, f"activation:{phone.device_id}:email"),
        ("sms", CHLOE_NUMBER, f"activation:{phone.device_id}:sms"),
    ]
    assert all(PARIS_OPERA_PHONE in o.body for o in notes)
    assert all(o.customer_id == cid and o.status == "pending" for o in notes)
    # Audited.
    [entry] = world.audit(CHLOE, "securpass_activated")
    assert entry.outcome == "ok" and entry.at == now
    assert details(entry)["device"] == phone.device_id
    assert details(entry)["revoked"] == [old_phone.device_id]
    assert details(entry)["moved"] is True
    # The old phone can no longer approve the superseded request.
    assert old_phone.pending() is None
    stale = old_phone.approve(pending.id, old_phone.sign(world.current_text(pending.id)))
    assert stale.accepted is False
    assert world.request(pending.id).status == "superseded"


def test_after_activation_no_change_for_72_hours_then_the_new_phone_approves(world: World) -> None:
    old_phone = world.phone(CHLOE)
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)
    activated_at = world.clock.advance(minutes=1)
    activate(world, CHLOE, phone, code)

    # Within 72 hours: no online change (§5.3), and the refusal is audited with its reason.
    world.clock.now = activated_at + timedelta(hours=71, minutes=59)
    assert can_start(world, CHLOE) == "ineligible.recent_device_change"
    refusal = world.audit(CHLOE, "number_entered")[-1]
    assert (refusal.outcome, details(refusal)["problem"]) == ("refused", "ineligible.recent_device_change")
    assert world.requests(CHLOE) == []

    # After 72 hours: the change can start, only the new phone sees it, and it approves with the new code.
    world.clock.now = activated_at + timedelta(hours=72, minutes=1)
    assert can_start(world, CHLOE) is None
    [request] = world.requests(CHLOE)
    assert old_phone.pending() is None
    assert old_phone.approve(request.id, old_phone.sign(world.current_text(request.id))).accepted is False
    view = phone.pending()
    assert view is not None and view.request_id == request.id
    result = phone.approve(view.request_id, phone.sign(view.text), code=NEW_PIN)
    assert (result.accepted, result.status) == (True, "completed")
    assert world.customer(CHLOE).secure_phone_e164 == NEW_E164
    assert world.request(request.id).device_id == phone.device_id


def test_the_old_demo_pin_no_longer_works_on_the_new_phone(world: World) -> None:
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)
    activated_at = world.clock.advance(minutes=1)
    activate(world, CHLOE, phone, code, pin="2468")
    world.clock.now = activated_at + timedelta(hours=73)
    world.start(CHLOE)

    result = phone.approve_pending(code="4827")

    assert (result.accepted, result.rejection) == (False, "wrong_code")
    assert world.customer(CHLOE).securpass_wrong_codes == 1


# --- refusals --------------------------------------------------------------------------------------


def test_activation_is_refused_on_a_device_that_is_already_enrolled(world: World) -> None:
    cid = world.cid(CHLOE)
    camille_phone = world.phone(CAMILLE)
    chloe_old = world.phone(CHLOE)
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)  # a genuine code, sent for the new phone

    for target in (camille_phone.device_id, chloe_old.device_id, None, "no-such-device"):
        with pytest.raises(Refused) as sending:
            activation.send_activation_code(world.uow(), cid, target, actor=customer_actor(cid, "app"))
        assert sending.value.code == "activation.not_possible"
        with pytest.raises(Refused) as activating:
            activation.activate(world.uow(), cid, target, sms_code=code, securpass_code=NEW_PIN, lang="fr",
                                signature=phone.sign(activation.challenge(world.uow(), cid, phone.device_id,
                                                                          lang="fr")),
                                actor=customer_actor(cid, "app"))
        assert activating.value.code == "activation.not_possible"

    camille_device = world.device(camille_phone.device_id)
    assert (camille_device.customer_id, camille_device.status) == (world.cid(CAMILLE), "enrolled")
    assert world.device(chloe_old.device_id).status == "enrolled"
    assert world.customer(CHLOE).securpass_moved_at is None
    assert len(sms_codes_of(world, CHLOE)) == 1  # only the one sent for the new phone
    assert sms_codes_of(world, CHLOE)[0].used_at is None
    assert world.audit(CHLOE, "securpass_activated") == []
    assert [o for o in world.outbox() if o.key.startswith("activation:")] == []
    # The new phone can still be activated with that code.
    activate(world, CHLOE, phone, code)
    assert world.device(phone.device_id).status == "enrolled"


def test_activation_is_refused_with_a_badly_formed_securpass_code(world: World) -> None:
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)

    for pin in ("123", "12345", "12a4", "", "١٢٣٤", " 1234"):
        with pytest.raises(Refused) as refused:
            activate(world, CHLOE, phone, code, pin=pin)
        assert refused.value.code == "activation.code_format"

    assert world.device(phone.device_id).status == "unenrolled"
    [sent] = sms_codes_of(world, CHLOE)
    assert (sent.used_at, sent.failures) == (None, 0)  # the SMS code is neither spent nor counted
    assert world.customer(CHLOE).securpass_moved_at is None
    activate(world, CHLOE, phone, code)
    assert world.device(phone.device_id).status == "enrolled"


def test_wrong_sms_codes_are_counted_and_three_block_the_activation(world: World) -> None:
    old_phone = world.phone(CHLOE)
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)

    errors = []
    for _ in range(3):
        with pytest.raises(Refused) as refused:
            activate(world, CHLOE, phone, wrong(code))
        errors.append((refused.value.code, refused.value.tries_left))
        world.clock.advance(seconds=20)
    assert errors == [("sms.wrong", 2), ("sms.wrong", 1), ("sms.too_many_tries", 0)]
    assert sms_codes_of(world, CHLOE)[0].failures == 3
    assert [details(e)["problem"] for e in world.audit(CHLOE, "activation")] == [
        "sms.wrong", "sms.wrong", "sms.too_many_tries"]
    assert {e.outcome for e in world.audit(CHLOE, "activation")} == {"refused"}

    # Even the right code is now refused, and no new code can be sent.
    with pytest.raises(Refused) as blocked:
        activate(world, CHLOE, phone, code)
    assert blocked.value.code == "sms.too_many_tries"
    with pytest.raises(Refused) as no_more:
        send_code(world, CHLOE, phone)
    assert no_more.value.code == "sms.too_many_tries"
    assert world.audit(CHLOE, "activation_code_sent")[-1].outcome == "refused"

    # Nothing moved.
    assert world.device(phone.device_id).status == "unenrolled"
    assert world.device(old_phone.device_id).status == "enrolled"
    assert world.customer(CHLOE).securpass_moved_at is None
    assert world.audit(CHLOE, "securpass_activated") == []


def test_a_resend_keeps_the_failures_during_activation(world: World) -> None:
    phone = new_phone(world)
    first = send_code(world, CHLOE, phone)
    for _ in range(2):
        with pytest.raises(Refused):
            activate(world, CHLOE, phone, wrong(first))
    world.clock.advance(minutes=1)
    second = send_code(world, CHLOE, phone)

    with pytest.raises(Refused) as last:
        activate(world, CHLOE, phone, wrong(second))

    assert (last.value.code, last.value.tries_left) == ("sms.too_many_tries", 0)
    with pytest.raises(Refused):
        activate(world, CHLOE, phone, second)
    assert world.device(phone.device_id).status == "unenrolled"


def test_the_activation_code_only_activates_the_phone_it_was_sent_for(world: World) -> None:
    """The code sent for one new phone (SmsCode.device_id) must not enroll another phone."""
    requesting = new_phone(world)
    other = new_phone(world)
    code = send_code(world, CHLOE, requesting)
    assert sms_codes_of(world, CHLOE)[0].device_id == requesting.device_id

    with pytest.raises(Refused):
        activate(world, CHLOE, other, code)

    assert world.device(other.device_id).status == "unenrolled"
    assert world.device(other.device_id).customer_id is None
    assert world.customer(CHLOE).securpass_moved_at is None


def test_a_blocked_securpass_is_not_unblocked_by_activating_a_new_phone(world: World) -> None:
    """§5.3: three wrong Sécur'Pass codes block it, and unblocking goes through the advisor."""
    cid = world.cid(CAMILLE)
    enrolled = world.phone(CAMILLE)
    world.start(CAMILLE)
    for _ in range(3):
        assert enrolled.approve_pending(code="0000").accepted is False
    assert world.customer(CAMILLE).securpass_status == "blocked"

    phone = new_phone(world)
    with pytest.raises(Refused):
        activation.send_activation_code(world.uow(), cid, phone.device_id, actor=customer_actor(cid, "app"))
        code = EIGHT_DIGITS.findall(world.sms_received(code_sms(world, CAMILLE)[-1].key))[0]
        activate(world, CAMILLE, phone, code)

    customer = world.customer(CAMILLE)
    assert customer.securpass_status == "blocked"
    assert customer.securpass_wrong_codes == 3
    assert world.device(phone.device_id).status == "unenrolled"
    assert world.device(enrolled.device_id).status == "enrolled"


# --- Hugo: no Sécur'Pass yet ---------------------------------------------------------------------------


def test_hugo_activates_securpass_on_a_new_phone_and_is_locked_for_72_hours(world: World) -> None:
    cid = world.cid(HUGO)
    assert devices_of(world, HUGO) == []
    assert can_start(world, HUGO) == "ineligible.no_securpass"
    phone = new_phone(world)

    code = send_code(world, HUGO, phone)
    assert code_sms(world, HUGO)[-1].recipient == HUGO_NUMBER
    activated_at = world.clock.advance(minutes=1)
    activate(world, HUGO, phone, code)

    new = world.device(phone.device_id)
    assert (new.customer_id, new.status, new.enrolled_at, new.label) == (
        cid, "enrolled", activated_at, "Smartphone de Hugo Moreau")
    customer = world.customer(HUGO)
    assert (customer.securpass_status, customer.securpass_moved_at) == ("active", activated_at)
    [entry] = world.audit(HUGO, "securpass_activated")
    assert details(entry)["revoked"] == [] and details(entry)["moved"] is False
    notes = sorted((o.channel, o.recipient) for o in world.outbox() if o.key.startswith("activation:"))
    assert notes == [("email", HUGO_EMAIL), ("sms", HUGO_NUMBER)]

    world.clock.now = activated_at + timedelta(hours=1)
    assert can_start(world, HUGO) == "ineligible.recent_device_change"
    world.clock.now = activated_at + timedelta(hours=72, minutes=1)
    assert can_start(world, HUGO) is None
    result = phone.approve_pending(code=NEW_PIN)
    assert (result.accepted, result.status) == (True, "completed")
    assert world.customer(HUGO).secure_phone_e164 == NEW_E164


# --- « Ce n'est plus mon numéro » -------------------------------------------------------------------------


def test_not_my_number_is_audited_and_changes_nothing(world: World) -> None:
    cid = world.cid(CHLOE)
    phone = new_phone(world)
    old_device = world.device_id(CHLOE)

    activation.not_my_number(world.uow(), cid, actor=device_actor(phone.device_id))

    [entry] = world.audit(CHLOE, "not_my_number")
    assert (entry.outcome, entry.at, entry.customer_id) == ("ok", world.clock.now, cid)
    assert (entry.actor_kind, entry.actor_id, entry.channel) == ("device", phone.device_id, "app")
    assert sms_codes_of(world, CHLOE) == []
    assert code_sms(world, CHLOE) == []
    assert world.device(old_device).status == "enrolled"
    assert world.device(phone.device_id).status == "unenrolled"
    assert world.customer(CHLOE).securpass_moved_at is None


def test_a_change_request_cannot_be_pending_on_a_phone_that_is_not_enrolled(world: World) -> None:
    """The new, unenrolled phone sees nothing to approve before activation."""
    phone = new_phone(world)
    world.start(CHLOE)
    assert change.pending_approval(world.uow(), world.cid(CHLOE), phone.device_id, lang="fr") is None


# --- §12.2: nobody but the customer can move Sécur'Pass -----------------------------------------------------


def test_the_activation_must_be_signed_by_the_new_phones_own_key(world: World) -> None:
    """A phone's id is worth nothing: a session that names Chloé's new phone but does not hold its key
    cannot activate it, and no SMS code is even tried (its failures do not move)."""
    cid = world.cid(CHLOE)
    phone = new_phone(world)
    code = send_code(world, CHLOE, phone)
    text = activation.challenge(world.uow(), cid, phone.device_id, lang="fr")
    assert phone.device_id in text and "Chloé DUBOIS" in text and code not in text
    impostor = SoftPhone(world, phone.device_id, None)  # another key, the same device id
    for signature in (impostor.sign(text), "", "A" * 86, phone.sign(text + " ")):
        with pytest.raises(Refused, match="activation.not_possible"):
            activation.activate(world.uow(), cid, phone.device_id, sms_code=code, securpass_code=NEW_PIN,
                                signature=signature,
                                lang="fr", actor=customer_actor(cid, "app"))
    assert sms_codes_of(world, CHLOE)[0].failures == 0 and sms_codes_of(world, CHLOE)[0].used_at is None
    assert world.device(phone.device_id).status == "unenrolled"
    assert [details(e)["problem"] for e in world.audit(CHLOE, "activation")] == ["bad_signature"] * 4
    # The phone that holds the key activates with the same code.
    activate(world, CHLOE, phone, code)
    assert world.device(phone.device_id).status == "enrolled"


def completed_change(world: World, identifier: str = CAMILLE) -> None:
    """The customer approves a change to 07 98 76 54 32 (a fake adviser on the phone talked her into it: F1)."""
    phone = world.phone(identifier)
    world.start(identifier)
    assert phone.approve_pending().status == "completed"
    assert world.customer(identifier).secure_phone_e164 == NEW_E164


def test_no_securpass_move_within_72_hours_of_a_change_of_number(world: World) -> None:
    """F1: Camille was talked into approving a change to the fraudster's number; two minutes later the
    fraudster opens the app on a new phone with her password. The move is refused, no code goes to the new
    number, and the previous number is told by SMS (and the customer by email)."""
    cid = world.cid(CAMILLE)
    completed_change(world)
    world.clock.advance(minutes=2)
    fraudster = new_phone(world)
    before = {o.key for o in world.outbox()}

    refusal = activation.on_new_phone(world.uow(), cid, fraudster.device_id, actor=device_actor(fraudster.device_id))
    assert refusal == "activation.refused.recent_number_change"
    for attempt in (lambda: activation.send_activation_code(world.uow(), cid, fraudster.device_id,
                                                            actor=customer_actor(cid, "app")),
                    lambda: activate(world, CAMILLE, fraudster, "12345678")):
        with pytest.raises(Refused, match="activation.refused.recent_number_change"):
            attempt()
    assert sms_codes_of(world, CAMILLE) == []  # no activation code at all, so none to 07 98 76 54 32
    new = [o for o in world.outbox() if o.key not in before]
    assert sorted((o.channel, o.recipient) for o in new) == [
        ("email", "camille.martin@example.fr"), ("sms", "+33612345678")]  # once per phone, however many tries
    assert not [o for o in new if o.recipient == NEW_E164]
    assert "tenté d'activer Sécur'Pass" in next(o.body for o in new if o.channel == "sms")
    assert world.device(fraudster.device_id).status == "unenrolled"
    assert world.customer(CAMILLE).securpass_status == "active"
    assert {details(e)["problem"] for e in world.audit(CAMILLE, "securpass_move")} == {"recent_number_change"}
    # The advisor sees it.
    from secure_phone.services import advisor
    sheet = advisor.sheet(world.uow(), world.advisor_id("sophie.lambert"), CAMILLE)
    assert "securpass_move_refused" in sheet.signals
    # After 72 hours the move is possible again (and sends its code to the secure number of then).
    world.clock.advance(hours=72)
    assert activation.on_new_phone(world.uow(), cid, fraudster.device_id,
                                   actor=device_actor(fraudster.device_id)) is None
    send_code(world, CAMILLE, fraudster)


def test_no_securpass_move_while_online_changes_are_frozen(world: World) -> None:
    cid = world.cid(CHLOE)
    old = world.phone(CHLOE)
    request = world.start(CHLOE)
    shown = old.pending()
    assert shown is not None
    assert old.refuse(request.id, change.RefusalReason.NOT_ME, old.sign(shown.text + "\nnot_me")).accepted
    phone = new_phone(world)
    assert activation.on_new_phone(world.uow(), cid, phone.device_id,
                                   actor=device_actor(phone.device_id)) == "ineligible.frozen"
    with pytest.raises(Refused, match="ineligible.frozen"):
        activation.send_activation_code(world.uow(), cid, phone.device_id, actor=customer_actor(cid, "app"))
    assert sms_codes_of(world, CHLOE) == []
    world.clear_freeze(CHLOE)
    send_code(world, CHLOE, phone)


def test_moving_securpass_ends_the_customers_other_sessions(world: World) -> None:
    from secure_phone.services import auth

    cid = world.cid(CHLOE)
    web = auth.login_customer(world.uow(), CHLOE, "Demo1234!", channel="web", actor=customer_actor(cid)).session_id
    phone = new_phone(world)
    app = auth.login_customer(world.uow(), CHLOE, "Demo1234!", channel="app", actor=customer_actor(cid, "app"),
                              device_id=phone.device_id).session_id
    code = send_code(world, CHLOE, phone)
    text = activation.challenge(world.uow(), cid, phone.device_id, lang="fr")
    activation.activate(world.uow(), cid, phone.device_id, sms_code=code, securpass_code=NEW_PIN,
                        signature=phone.sign(text),
                        lang="fr", actor=customer_actor(cid, "app"), session_id=app)
    assert auth.authenticate(world.uow(), web) is None
    assert auth.end_reason(world.uow(), web) == "factor_changed"
    assert auth.authenticate(world.uow(), app) is not None  # the one that did it goes on
    assert world.device(phone.device_id).demo is False
