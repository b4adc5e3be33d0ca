"""8-digit SMS codes through ``services.sms_codes`` on SQLite and PostgreSQL (spec §4 J4/J7, §5.3, §7).

The code is read where the customer gets it — the SMS delivered to the demo inbox (the world runs in
demo mode) — and every assertion is on the rows: SmsCode, Outbox, Customer, and every table at once
where no code may be readable (PRODUCT.md §12.2).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import AuditEntry, Customer, DemoMessage, Outbox, SmsCode
from secure_phone.adapters.notifications import REDACTED, DemoGateway, Dispatcher, LogGateway, unseal
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.domain.sms_code import hash_sms_code
from secure_phone.services import sms_codes
from secure_phone.services.unit_of_work import Refused
from secure_phone.settings import secret_key
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    NEW_E164,
    PAUL,
    World,
    database_dump,
    world,  # noqa: F401  (fixture)
)

ACTIVATION = "activation"
CONFIRM = "confirm_number"
EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")


# --- helpers -------------------------------------------------------------------------------------


def code_in(body: str) -> str:
    """The 8-digit code of an SMS body, as the customer reads it."""
    found = EIGHT_DIGITS.findall(body)
    assert len(found) == 1, f"expected exactly one 8-digit code in the SMS: {body!r}"
    return found[0]


def wrong(code: str) -> str:
    """Another well-formed 8-digit code."""
    return f"{(int(code) + 1) % 10**8:08d}"


def issue(world: World, identifier: str, purpose: str = CONFIRM, *, at: datetime | None = None) -> Outbox:
    """Issue a code in its own transaction; the one SMS it queued."""
    with world.uow(now=at).write() as tx:
        customer = tx.session.get(Customer, world.cid(identifier))
        assert customer is not None
        row = sms_codes.send_code(tx, customer, purpose, action="test_code_sent")
        row_id = row.id
    sms = [o for o in world.outbox() if o.key == f"sms-code:{row_id}"]
    assert len(sms) == 1, "one SMS queued per code"
    return sms[0]


def send(world: World, identifier: str, purpose: str = CONFIRM, *, at: datetime | None = None) -> tuple[str, str]:
    """Issue a code in its own transaction: (SmsCode id, code read from the SMS the customer received)."""
    sms = issue(world, identifier, purpose, at=at)
    return sms.key.removeprefix("sms-code:"), code_in(world.sms_received(sms.key, at=at))


def sealed_text(sms: Outbox) -> str:
    """The full text of a queued SMS, opened with the server's key (the test holds the environment)."""
    assert sms.sealed_body is not None
    return unseal(sms.sealed_body, key=sms.key, channel=sms.channel, recipient=sms.recipient)


def readable(world: World, secret: str) -> list[tuple[str, str]]:
    """Where ``secret`` can be read in a copy of the database: (table, column) of every value showing it.

    On SQLite, the database files themselves are read too (free pages and journals included)."""
    found = [(table, column) for table, column, value in database_dump(world.url) if secret in value]
    if world.url.startswith("sqlite:///"):
        path = world.url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-journal"):
            if Path(path + suffix).exists() and secret.encode() in Path(path + suffix).read_bytes():
                found.append((f"file{suffix or ' (main)'}", "bytes"))
    return found


def check(world: World, identifier: str, code: str, purpose: str = CONFIRM, *,
          at: datetime | None = None) -> Refused | None:
    """Enter a code; the refusal (its counting committed, as the services do) or None when accepted."""
    with world.uow(now=at).write() as tx:
        customer = tx.session.get(Customer, world.cid(identifier))
        assert customer is not None
        try:
            sms_codes.check_code(tx, customer, purpose, code, action="test_code_checked")
        except Refused as error:
            return error
    return None


def rows(world: World, identifier: str, purpose: str | None = None) -> list[SmsCode]:
    with read_only(world.url) as s:
        query = select(SmsCode).where(SmsCode.customer_id == world.cid(identifier)).order_by(SmsCode.issued_at)
        if purpose is not None:
            query = query.where(SmsCode.purpose == purpose)
        return list(s.exec(query))


def row(world: World, row_id: str) -> SmsCode:
    with read_only(world.url) as s:
        found = s.get(SmsCode, row_id)
    assert found is not None
    return found


def code_sms(world: World, identifier: str) -> list[Outbox]:
    return [o for o in world.outbox() if o.key.startswith("sms-code:") and o.customer_id == world.cid(identifier)]


# --- storage --------------------------------------------------------------------------------------


def test_only_a_keyed_hash_of_the_code_is_stored(world: World) -> None:
    row_id, code = send(world, PAUL)

    stored = row(world, row_id)
    for column in SmsCode.model_fields:
        assert code not in str(getattr(stored, column)), f"the code appears in SmsCode.{column}"
    assert stored.code_hash == hash_sms_code(secret_key(), f"{world.cid(PAUL)}:{CONFIRM}", code)
    assert re.fullmatch(r"[0-9a-f]{64}", stored.code_hash)
    assert (stored.purpose, stored.failures, stored.used_at, stored.revoked_at) == (CONFIRM, 0, None, None)
    assert stored.issued_at == world.clock.now
    # Nor anywhere else but the SMS itself (the audit trail, for one): in demo mode, the demo inbox.
    with read_only(world.url) as s:
        assert all(code not in e.details for e in s.exec(select(AuditEntry)))
    assert {(table, column) for table, column, value in database_dump(world.url) if code in value} == {
        (DemoMessage.__tablename__, "body")}
    sms = code_sms(world, PAUL)
    assert [(o.channel, o.status) for o in sms] == [("sms", "sent")]  # queued, then delivered to the phone


def test_no_copy_of_the_database_shows_the_code_before_or_after_delivery(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An attacker who copied the data folder (not the environment, not the keys folder) reads no code."""
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    sms = issue(world, PAUL)
    text = sealed_text(sms)
    code = code_in(text)
    assert row(world, sms.key.removeprefix("sms-code:")).code_hash == hash_sms_code(
        secret_key(), f"{world.cid(PAUL)}:{CONFIRM}", code)  # the sealed text carries the real code

    # Before delivery: the outbox shows the text with the code redacted.
    assert sms.body == text.replace(code, REDACTED) and REDACTED in sms.body
    assert readable(world, code) == []

    dispatcher = Dispatcher(world.url)  # demo mode off: the provider's stand-in, no demo inbox
    assert type(dispatcher.gateways["sms"]) is LogGateway
    with caplog.at_level(logging.DEBUG):
        assert dispatcher.run_once(world.clock.now) == 1

    # After delivery: the seal is gone too, and no demo inbox received a copy.
    [delivered] = code_sms(world, PAUL)
    assert (delivered.status, delivered.sealed_body, delivered.body) == ("sent", None, sms.body)
    with read_only(world.url) as s:
        assert s.exec(select(DemoMessage)).all() == []
    assert readable(world, code) == []
    assert code not in caplog.text and sms.key in caplog.text


def test_in_demo_mode_the_demo_inbox_alone_keeps_the_code(world: World) -> None:
    sms = issue(world, PAUL)
    code = code_in(sealed_text(sms))
    assert readable(world, code) == []  # not even in demo mode before delivery

    dispatcher = Dispatcher(world.url)
    assert type(dispatcher.gateways["sms"]) is DemoGateway
    assert dispatcher.run_once(world.clock.now) == 1

    with read_only(world.url) as s:
        [message] = s.exec(select(DemoMessage).where(DemoMessage.outbox_key == sms.key)).all()
    assert message.body == sealed_text(sms) and message.recipient == "+33678901234"
    assert {where for where in readable(world, code) if not where[0].startswith("file")} == {
        (DemoMessage.__tablename__, "body")}
    assert [s.sealed_body for s in code_sms(world, PAUL)] == [None]


# --- checking ---------------------------------------------------------------------------------------


def test_the_right_code_is_accepted_and_marked_used(world: World) -> None:
    row_id, code = send(world, PAUL)
    now = world.clock.advance(minutes=2)

    assert check(world, PAUL, code) is None

    stored = row(world, row_id)
    assert stored.used_at == now
    assert stored.failures == 0
    assert stored.revoked_at is None


def test_the_code_is_accepted_with_spaces(world: World) -> None:
    row_id, code = send(world, PAUL)
    assert check(world, PAUL, f"{code[:4]} {code[4:]}") is None
    assert row(world, row_id).used_at == world.clock.now


def test_a_wrong_code_counts_a_failure_and_says_how_many_tries_are_left(world: World) -> None:
    row_id, code = send(world, PAUL)

    first = check(world, PAUL, wrong(code))
    assert first is not None and (first.code, first.tries_left) == ("sms.wrong", 2)
    assert row(world, row_id).failures == 1
    second = check(world, PAUL, "not a code")
    assert second is not None and (second.code, second.tries_left) == ("sms.wrong", 1)
    assert row(world, row_id).failures == 2

    # The right code is still accepted on the last try.
    assert check(world, PAUL, code) is None
    stored = row(world, row_id)
    assert stored.used_at == world.clock.now and stored.failures == 2


def test_three_wrong_codes_then_even_the_right_one_is_refused(world: World) -> None:
    row_id, code = send(world, PAUL)

    results = [check(world, PAUL, wrong(code)) for _ in range(3)]

    assert [(r.code, r.tries_left) for r in results if r] == [("sms.wrong", 2), ("sms.wrong", 1),
                                                              ("sms.too_many_tries", 0)]
    assert row(world, row_id).failures == 3
    refused = check(world, PAUL, code)
    assert refused is not None and refused.code == "sms.too_many_tries"
    stored = row(world, row_id)
    assert stored.used_at is None and stored.failures == 3
    # No new code either: the failures are the customer's, not the code's.
    with pytest.raises(Refused) as no_more:
        send(world, PAUL, at=world.clock.advance(minutes=1))
    assert no_more.value.code == "sms.too_many_tries"
    assert len(rows(world, PAUL)) == 1
    assert len(code_sms(world, PAUL)) == 1


def test_a_resend_does_not_reset_the_failures(world: World) -> None:
    first_id, first = send(world, PAUL)
    assert check(world, PAUL, wrong(first)).code == "sms.wrong"  # type: ignore[union-attr]
    assert check(world, PAUL, wrong(first)).code == "sms.wrong"  # type: ignore[union-attr]

    second_id, second = send(world, PAUL, at=world.clock.advance(minutes=1))

    assert row(world, second_id).failures == 2  # carried by the new code
    last = check(world, PAUL, wrong(second))
    assert last is not None and (last.code, last.tries_left) == ("sms.too_many_tries", 0)
    refused = check(world, PAUL, second)
    assert refused is not None and refused.code == "sms.too_many_tries"
    assert row(world, second_id).used_at is None
    assert row(world, first_id).revoked_at is not None


def test_a_fourth_code_within_24_hours_is_refused_then_allowed_after_the_rolling_window(world: World) -> None:
    start = world.clock.now
    for hours in (0, 1, 2):
        send(world, PAUL, at=start + timedelta(hours=hours))

    with pytest.raises(Refused) as limited:
        send(world, PAUL, at=start + timedelta(hours=23, minutes=59))
    assert limited.value.code == "sms.daily_limit"
    assert len(rows(world, PAUL)) == 3
    assert len(code_sms(world, PAUL)) == 3  # no SMS for the refused one

    # 24 hours after the first code, it leaves the rolling window: one more code can be sent...
    row_id, code = send(world, PAUL, at=start + timedelta(hours=24, seconds=1))
    assert len(rows(world, PAUL)) == 4
    assert check(world, PAUL, code, at=start + timedelta(hours=24, minutes=1)) is None
    assert row(world, row_id).used_at is not None
    # ...but not two (the 2nd and 3rd codes are still in the window).
    with pytest.raises(Refused) as again:
        send(world, PAUL, at=start + timedelta(hours=24, minutes=2))
    assert again.value.code == "sms.daily_limit"


def test_the_daily_limit_is_per_purpose(world: World) -> None:
    for minutes in (0, 1, 2):
        send(world, PAUL, CONFIRM, at=world.clock.now + timedelta(minutes=minutes))
    with pytest.raises(Refused):
        send(world, PAUL, CONFIRM, at=world.clock.now + timedelta(minutes=3))
    send(world, PAUL, ACTIVATION, at=world.clock.now + timedelta(minutes=3))
    assert len(rows(world, PAUL, ACTIVATION)) == 1


def test_a_code_expires_after_ten_minutes(world: World) -> None:
    issued = world.clock.now
    row_id, code = send(world, PAUL, at=issued)

    expired = check(world, PAUL, code, at=issued + DEFAULT_POLICY.sms_code_ttl)

    assert DEFAULT_POLICY.sms_code_ttl == timedelta(minutes=10)
    assert expired is not None and expired.code == "sms.expired"
    stored = row(world, row_id)
    assert stored.used_at is None and stored.failures == 0  # an expired code is not a wrong one

    # A new code, entered one second before its expiry, is accepted.
    fresh_at = issued + timedelta(minutes=11)
    fresh_id, fresh = send(world, PAUL, at=fresh_at)
    assert check(world, PAUL, fresh, at=fresh_at + timedelta(minutes=10) - timedelta(seconds=1)) is None
    assert row(world, fresh_id).used_at is not None


def test_a_used_code_cannot_be_used_again(world: World) -> None:
    row_id, code = send(world, PAUL)
    first_use = world.clock.advance(minutes=1)
    assert check(world, PAUL, code) is None

    again = check(world, PAUL, code, at=world.clock.advance(minutes=1))

    assert again is not None and again.code == "sms.used"
    stored = row(world, row_id)
    assert stored.used_at == first_use and stored.failures == 0


def test_a_resend_revokes_the_previous_code(world: World) -> None:
    first_id, first = send(world, PAUL)
    resent_at = world.clock.advance(minutes=1)
    second_id, second = send(world, PAUL)

    assert row(world, first_id).revoked_at == resent_at
    if first != second:  # (1 chance in 10^8 that both codes are the same)
        refused = check(world, PAUL, first)
        assert refused is not None and refused.code == "sms.wrong"
        assert row(world, first_id).used_at is None
    assert check(world, PAUL, second) is None
    assert row(world, second_id).used_at == resent_at
    assert [o.recipient for o in code_sms(world, PAUL)] == ["+33678901234", "+33678901234"]


def test_a_code_for_one_purpose_does_not_unlock_the_other(world: World) -> None:
    activation_id, activation_code = send(world, PAUL, ACTIVATION)
    confirm_id, confirm_code = send(world, PAUL, CONFIRM)

    if activation_code != confirm_code:
        crossed = check(world, PAUL, activation_code, CONFIRM)
        assert crossed is not None and crossed.code == "sms.wrong"
        crossed = check(world, PAUL, confirm_code, ACTIVATION)
        assert crossed is not None and crossed.code == "sms.wrong"
    assert row(world, activation_id).used_at is None and row(world, confirm_id).used_at is None
    # The hashes are bound to the purpose: even the same digits would not match across purposes.
    assert row(world, activation_id).code_hash != hash_sms_code(
        secret_key(), f"{world.cid(PAUL)}:{CONFIRM}", activation_code)
    # Each code still works for its own purpose.
    assert check(world, PAUL, activation_code, ACTIVATION) is None
    assert check(world, PAUL, confirm_code, CONFIRM) is None


def test_a_purpose_with_no_code_sent_refuses_any_code(world: World) -> None:
    _, code = send(world, PAUL, CONFIRM)
    refused = check(world, PAUL, code, ACTIVATION)
    assert refused is not None and refused.code == "sms.expired"


def test_the_sms_goes_to_the_current_secure_number_and_a_change_revokes_pending_codes(world: World) -> None:
    pending_id, pending_code = send(world, CAMILLE)
    assert code_sms(world, CAMILLE)[-1].recipient == CAMILLE_OLD

    # Camille changes her number (J1): the pending code dies with the change (§7).
    world.clock.advance(minutes=1)
    phone = world.phone(CAMILLE)
    world.start(CAMILLE)
    assert phone.approve_pending().status == "completed"
    changed_at = world.clock.now
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    assert row(world, pending_id).revoked_at == changed_at
    refused = check(world, CAMILLE, pending_code)
    assert refused is not None and refused.code == "sms.expired"

    # The next code goes to the new number, never to the old one.
    world.clock.advance(minutes=1)
    new_id, new_code = send(world, CAMILLE)
    assert code_sms(world, CAMILLE)[-1].recipient == NEW_E164
    assert check(world, CAMILLE, new_code) is None
    assert row(world, new_id).used_at == world.clock.now
