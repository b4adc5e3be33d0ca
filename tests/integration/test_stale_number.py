"""J7: a secure number not confirmed for a year is checked at login (spec §4 J7, §5.3).

Paul Laurent's number was last confirmed 400 days before the seed, Camille's 30 days before. The SMS
code is read from the SMS as delivered to the demo inbox; assertions are on Customer, SmsCode, Outbox, AuditEntry.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Outbox, SmsCode
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import stale
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    PAUL,
    T0,
    World,
    customer_actor,
    details,
    world,  # noqa: F401  (fixture)
)

PAUL_NUMBER = "+33678901234"
PAUL_NEW_E164 = "+33798765432"
EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")


# --- helpers -------------------------------------------------------------------------------------


def prompt(world: World, identifier: str = PAUL) -> tuple[bool, bool]:
    return stale.prompt(world.uow(), world.cid(identifier))


def later(world: World, identifier: str = PAUL) -> None:
    cid = world.cid(identifier)
    stale.later(world.uow(), cid, actor=customer_actor(cid))


def send(world: World, identifier: str = PAUL) -> str:
    """« Oui, c'est mon numéro »: the code as read in the SMS."""
    cid = world.cid(identifier)
    stale.send_confirmation_code(world.uow(), cid, actor=customer_actor(cid))
    found = EIGHT_DIGITS.findall(world.sms_received(code_sms(world, identifier)[-1].key))
    assert len(found) == 1
    return found[0]


def confirm(world: World, code: str, identifier: str = PAUL) -> None:
    cid = world.cid(identifier)
    stale.confirm(world.uow(), cid, code, actor=customer_actor(cid))


def code_sms(world: World, identifier: str) -> list[Outbox]:
    return [o for o in world.outbox() if o.key.startswith("sms-code:") and o.customer_id == world.cid(identifier)]


def sms_codes_of(world: World, identifier: str = PAUL) -> list[SmsCode]:
    with read_only(world.url) as s:
        return list(s.exec(select(SmsCode).where(SmsCode.customer_id == world.cid(identifier))
                           .order_by(SmsCode.issued_at)))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


# --- the prompt ---------------------------------------------------------------------------------------


def test_paul_is_prompted_and_camille_is_not(world: World) -> None:
    assert world.customer(PAUL).number_confirmed_at == T0 - timedelta(days=400)
    assert prompt(world, PAUL) == (True, True)
    assert prompt(world, CAMILLE)[0] is False


def test_the_prompt_starts_after_365_days(world: World) -> None:
    confirmed = world.customer(CAMILLE).number_confirmed_at
    assert confirmed == T0 - timedelta(days=30)
    world.clock.now = confirmed + DEFAULT_POLICY.stale_number_after  # exactly a year: not yet
    assert DEFAULT_POLICY.stale_number_after == timedelta(days=365)
    assert prompt(world, CAMILLE)[0] is False
    world.clock.now = confirmed + timedelta(days=365, seconds=1)
    assert prompt(world, CAMILLE) == (True, True)


def test_later_is_allowed_three_times_then_refused(world: World) -> None:
    for count in (1, 2, 3):
        assert prompt(world) == (True, True)
        later(world)
        assert world.customer(PAUL).stale_prompt_later_count == count
        world.clock.advance(hours=1)

    with pytest.raises(Refused) as exhausted:
        later(world)

    assert exhausted.value.code == "stale.later.exhausted"
    assert world.customer(PAUL).stale_prompt_later_count == 3
    assert prompt(world) == (True, False)  # only « Oui » and « Non » remain
    entries = world.audit(PAUL, "stale_number_later")
    assert [(e.outcome, details(e).get("count")) for e in entries] == [
        ("ok", 1), ("ok", 2), ("ok", 3), ("refused", None)]
    # « Plus tard » does not confirm anything.
    assert world.customer(PAUL).number_confirmed_at == T0 - timedelta(days=400)


# --- « Oui, c'est mon numéro » ---------------------------------------------------------------------------


def test_confirming_with_the_sms_code_records_the_date(world: World) -> None:
    later(world)
    later(world)
    world.clock.advance(minutes=1)

    code = send(world)

    [sms] = code_sms(world, PAUL)
    assert (sms.channel, sms.recipient) == ("sms", PAUL_NUMBER)
    [sent] = sms_codes_of(world)
    assert (sent.purpose, sent.failures, sent.used_at) == ("confirm_number", 0, None)
    assert code not in sent.code_hash
    assert world.audit(PAUL, "stale_code_sent")[-1].outcome == "ok"

    confirmed_at = world.clock.advance(minutes=2)
    confirm(world, code)

    customer = world.customer(PAUL)
    assert customer.number_confirmed_at == confirmed_at
    assert customer.stale_prompt_later_count == 0
    assert customer.secure_phone_e164 == PAUL_NUMBER
    assert sms_codes_of(world)[0].used_at == confirmed_at
    assert [(e.outcome, e.at) for e in world.audit(PAUL, "number_confirmed")] == [("ok", confirmed_at)]
    assert prompt(world) == (False, True)
    # The confirmation holds for a year.
    world.clock.now = confirmed_at + timedelta(days=365)
    assert prompt(world)[0] is False
    world.clock.now = confirmed_at + timedelta(days=366)
    assert prompt(world) == (True, True)


def test_a_wrong_confirmation_code_is_counted(world: World) -> None:
    code = send(world)
    before = world.customer(PAUL).number_confirmed_at

    errors = []
    for _ in range(3):
        with pytest.raises(Refused) as refused:
            confirm(world, wrong(code))
        errors.append((refused.value.code, refused.value.tries_left))
        assert world.customer(PAUL).number_confirmed_at == before
    assert errors == [("sms.wrong", 2), ("sms.wrong", 1), ("sms.too_many_tries", 0)]
    assert sms_codes_of(world)[0].failures == 3
    assert [(e.outcome, details(e)["problem"]) for e in world.audit(PAUL, "number_confirmed")] == [
        ("refused", "sms.wrong"), ("refused", "sms.wrong"), ("refused", "sms.too_many_tries")]

    # The right code is now refused too, and a new code cannot be sent.
    with pytest.raises(Refused) as blocked:
        confirm(world, code)
    assert blocked.value.code == "sms.too_many_tries"
    with pytest.raises(Refused) as no_more:
        send(world)
    assert no_more.value.code == "sms.too_many_tries"
    assert world.audit(PAUL, "stale_code_sent")[-1].outcome == "refused"
    assert world.customer(PAUL).number_confirmed_at == before
    assert prompt(world)[0] is True


def test_an_expired_confirmation_code_is_refused(world: World) -> None:
    code = send(world)
    world.clock.advance(minutes=10)
    with pytest.raises(Refused) as expired:
        confirm(world, code)
    assert expired.value.code == "sms.expired"
    assert world.customer(PAUL).number_confirmed_at == T0 - timedelta(days=400)


def test_at_most_three_confirmation_codes_in_24_hours(world: World) -> None:
    for _ in range(3):
        send(world)
        world.clock.advance(minutes=1)
    with pytest.raises(Refused) as limited:
        send(world)
    assert limited.value.code == "sms.daily_limit"
    assert len(sms_codes_of(world)) == 3
    assert details(world.audit(PAUL, "stale_code_sent")[-1])["problem"] == "sms.daily_limit"


# --- a completed change (J1) -----------------------------------------------------------------------------


def test_a_completed_change_resets_the_confirmation_date(world: World) -> None:
    later(world)
    later(world)
    pending_code = send(world)  # a confirmation code still waiting when Paul changes his number instead
    world.clock.advance(minutes=1)
    phone = world.phone(PAUL)
    world.start(PAUL)

    result = phone.approve_pending()

    assert (result.accepted, result.status) == (True, "completed")
    changed_at = world.clock.now
    customer = world.customer(PAUL)
    assert customer.secure_phone_e164 == PAUL_NEW_E164
    assert customer.number_confirmed_at == changed_at
    assert customer.number_changed_at == changed_at
    assert customer.stale_prompt_later_count == 0
    assert prompt(world) == (False, True)
    # The confirmation code sent to the old number died with the change.
    assert sms_codes_of(world)[0].revoked_at == changed_at
    with pytest.raises(Refused) as dead:
        confirm(world, pending_code)
    assert dead.value.code == "sms.expired"
    assert world.customer(PAUL).number_confirmed_at == changed_at
