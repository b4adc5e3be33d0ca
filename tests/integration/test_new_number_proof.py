"""§12.3: the new number is proven — a code to the NEW number after « Confirmer », before any Sécur'Pass request,
on SQLite and PostgreSQL, online and in branch; and the policy switch back to the seed's journey.

Every test runs the product's default policy (``PROOF``: the proof on); ``world.uow()`` alone is the seed's journey.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import ChangeRequest, Customer, SmsCode
from secure_phone.domain.change_request import Channel
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import advisor, change
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import Refused, UnitOfWork, configured_policy
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    INES,
    JULIEN,
    NEW_E164,
    NEW_RAW,
    OTHER_E164,
    OTHER_RAW,
    World,
    customer_actor,
    database_dump,
    details,
    world,  # noqa: F401  (fixture)
)

PROOF = DEFAULT_POLICY
assert PROOF.new_number_proof, "the product's default proves the new number"
CODE_LINE = re.compile(r"\n\n@(?P<host>[^ ]+) #(?P<code>\d{6})$")


def uow(world: World, **kwargs: object) -> UnitOfWork:
    return world.uow(policy=PROOF, **kwargs)  # type: ignore[arg-type]


def confirm(world: World, identifier: str = CAMILLE, raw: str = NEW_RAW,
            channel: Channel = Channel.WEB) -> change.RequestView:
    """Steps 2 and 3, « Continuer » then « Confirmer », with the proof on."""
    cid = world.cid(identifier)
    actor = customer_actor(cid, channel.value)
    number = change.check_new_number(uow(world), cid, raw, "FR", actor=actor)
    return change.start_request(uow(world), cid, number.e164, channel=channel, actor=actor)


def proof_sms(world: World, identifier: str = CAMILLE) -> list[tuple[str, str]]:
    """(recipient, text as received) of every proof SMS the customer's requests sent, oldest first."""
    with read_only(world.url) as s:
        codes = s.exec(select(SmsCode).where(SmsCode.customer_id == world.cid(identifier),
                                             SmsCode.purpose == "new_number").order_by(SmsCode.issued_at)).all()
    rows = {row.key: row for row in world.outbox()}
    return [(rows[f"sms-code:{c.id}"].recipient, world.sms_received(f"sms-code:{c.id}")) for c in codes]


def code_received(world: World, identifier: str = CAMILLE) -> str:
    recipient, text = proof_sms(world, identifier)[-1]
    match = CODE_LINE.search(text)
    assert match, text
    return match["code"]


def prove(world: World, request_id: str, code: str, identifier: str = CAMILLE) -> change.RequestView:
    cid = world.cid(identifier)
    return change.prove_new_number(uow(world), cid, request_id, code, actor=customer_actor(cid))


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- online: web and app -------------------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.WEB, Channel.APP])
def test_the_code_goes_to_the_new_number_and_the_phone_sees_nothing_until_it_is_typed(
        world: World, channel: Channel) -> None:
    phone = world.phone(CAMILLE)
    view = confirm(world, channel=channel)
    assert view.status == "pending_proof"
    assert phone.pending() is None, "a Sécur'Pass request before the new number was proven"
    [(recipient, text)] = proof_sms(world)
    assert recipient == NEW_E164 and recipient != CAMILLE_OLD  # the NEW number
    match = CODE_LINE.search(text)
    assert match and match["host"] == "localhost"  # origin-bound: phones fill it in for this site only
    assert text.startswith("Ma Banque")

    proved = prove(world, view.id, match["code"])
    assert proved.status == "pending_approval"
    assert world.request(view.id).expires_at == world.clock.now + PROOF.approval_ttl  # 5 minutes from the proof
    shown = phone.pending()
    assert shown is not None and shown.request_id == view.id
    assert phone.approve_pending().status == "completed"
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    pairs = world.audit_pairs(CAMILLE)
    assert pairs.index(("change_requested", "ok")) < pairs.index(("proof_code_sent", "ok")) \
        < pairs.index(("new_number_proof", "ok")) < pairs.index(("approval", "ok"))


def test_the_phone_cannot_approve_a_request_whose_number_is_not_proven(world: World) -> None:
    """Even signing the exact text the server would verify: the request is not pending approval."""
    phone = world.phone(CAMILLE)
    view = confirm(world)
    result = phone.approve(view.id, phone.sign(world.current_text(view.id)))
    assert not result.accepted and result.rejection == "not_pending"
    assert world.request(view.id).status == "pending_proof"
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD


def test_three_wrong_codes_end_the_request_and_no_new_code_or_request_follows(world: World) -> None:
    view = confirm(world)
    code = code_received(world)
    for left in (2, 1):
        with pytest.raises(Refused) as refused:
            prove(world, view.id, wrong(code))
        assert (refused.value.code, refused.value.tries_left) == ("sms.wrong", left)
        assert world.request(view.id).status == "pending_proof"
    with pytest.raises(Refused) as refused:
        prove(world, view.id, wrong(code))
    assert refused.value.code == "sms.too_many_tries"
    request = world.request(view.id)
    assert (request.status, request.failure_reason) == ("failed", "proof_failed")
    with pytest.raises(Refused, match="sp.gone"):
        prove(world, view.id, code)  # the right code, too late
    with pytest.raises(Refused, match="sms.too_many_tries"):
        confirm(world, raw=OTHER_RAW)  # the tries are counted with the other codes: no fresh start today
    assert len(world.requests(CAMILLE)) == 1
    assert [e.outcome for e in world.audit(CAMILLE, "new_number_proof")] == ["refused"] * 4  # 3 wrong, 1 late


def test_a_resend_kills_the_previous_code_keeps_the_tries_and_counts_in_the_daily_limit(world: World) -> None:
    cid = world.cid(CAMILLE)
    view = confirm(world)
    first = code_received(world)
    with pytest.raises(Refused):
        prove(world, view.id, wrong(first))
    world.clock.advance(minutes=9)
    change.resend_proof_code(uow(world), cid, view.id, actor=customer_actor(cid))
    assert proof_sms(world)[-1][0] == NEW_E164
    assert world.request(view.id).expires_at == world.clock.now + PROOF.sms_code_ttl  # 10 more minutes
    change.resend_proof_code(uow(world), cid, view.id, actor=customer_actor(cid))  # the third code today
    with pytest.raises(Refused, match="sms.daily_limit"):
        change.resend_proof_code(uow(world), cid, view.id, actor=customer_actor(cid))
    third = code_received(world)
    if first != third:
        with pytest.raises(Refused) as refused:
            prove(world, view.id, first)  # the first code is dead: a wrong code now
        assert (refused.value.code, refused.value.tries_left) == ("sms.wrong", 1)  # the first wrong try carried
    assert prove(world, view.id, third).status == "pending_approval"


def test_the_code_expires_after_ten_minutes(world: World) -> None:
    view = confirm(world)
    code = code_received(world)
    world.clock.advance(minutes=10)
    with pytest.raises(Refused, match="sp.gone"):
        prove(world, view.id, code)
    assert world.request(view.id).status == "expired"


def test_a_code_proves_only_its_own_request(world: World) -> None:
    first = confirm(world)
    first_code = code_received(world)
    second = confirm(world, raw=OTHER_RAW)  # supersedes the first, a code to the other number
    assert world.request(first.id).status == "superseded"
    assert proof_sms(world)[-1][0] == OTHER_E164
    with pytest.raises(Refused, match="sp.gone"):
        prove(world, first.id, first_code)
    second_code = code_received(world)
    if second_code != first_code:
        with pytest.raises(Refused):
            prove(world, second.id, first_code)
    assert prove(world, second.id, second_code).status == "pending_approval"


def test_another_customer_cannot_prove_or_resend_my_request(world: World) -> None:
    view = confirm(world)
    code = code_received(world)
    julien = world.cid(JULIEN)
    with pytest.raises(Refused, match="sp.gone"):
        change.prove_new_number(uow(world), julien, view.id, code, actor=customer_actor(julien))
    with pytest.raises(Refused, match="sp.gone"):
        change.resend_proof_code(uow(world), julien, view.id, actor=customer_actor(julien))
    assert world.request(view.id).status == "pending_proof"
    assert len(proof_sms(world)) == 1


def test_cancelling_while_the_code_is_awaited_ends_the_request(world: World) -> None:
    cid = world.cid(CAMILLE)
    view = confirm(world)
    code = code_received(world)
    assert change.cancel_request(uow(world), cid, view.id, actor=customer_actor(cid)).status == "cancelled"
    with pytest.raises(Refused, match="sp.gone"):
        prove(world, view.id, code)


def test_a_number_taken_meanwhile_fails_the_proof(world: World) -> None:
    """Between « Confirmer » and the code, the number became another customer's: the proof does not
    resurrect it."""
    view = confirm(world)
    code = code_received(world)
    julien = world.phone(JULIEN)
    world.start(JULIEN)  # the seed's journey for Julien: straight to his phone
    assert julien.approve_pending().status == "completed"
    with pytest.raises(Refused, match="number.unavailable"):
        prove(world, view.id, code)
    request = world.request(view.id)
    assert (request.status, request.failure_reason) == ("failed", "number.unavailable")


def test_the_code_is_never_readable_in_the_database(world: World) -> None:
    confirm(world)
    code = code_received(world)
    assert [(t, c) for t, c, v in database_dump(world.url) if re.search(rf"\b{code}\b", v) and t != "demomessage"] \
        == []


def test_the_code_is_bound_to_the_public_host(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_PUBLIC_URL", "https://www.ma-banque.example:8443/")
    confirm(world)
    match = CODE_LINE.search(proof_sms(world)[-1][1])
    assert match and match["host"] == "www.ma-banque.example"


def test_the_policy_switch_gives_the_seeds_journey(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_NEW_NUMBER_PROOF", "0")
    assert configured_policy().new_number_proof is False
    phone = world.phone(CAMILLE)
    cid = world.cid(CAMILLE)
    seed_journey = UnitOfWork(world.url, now=world.clock.now, mysys=world.mysys)  # the configured policy
    number = change.check_new_number(seed_journey, cid, NEW_RAW, "FR", actor=customer_actor(cid))
    view = change.start_request(seed_journey, cid, number.e164, channel=Channel.WEB, actor=customer_actor(cid))
    assert view.status == "pending_approval" and proof_sms(world) == []
    assert phone.approve_pending().status == "completed"
    monkeypatch.setenv("SECURE_PHONE_NEW_NUMBER_PROOF", "1")
    assert configured_policy().new_number_proof is True


# --- in branch ------------------------------------------------------------------------------------

DOCUMENT = "X4RTBPFW46"


def branch_actor(advisor_id: int) -> Actor:
    return Actor(kind="advisor", id=str(advisor_id), channel="advisor", ip="192.0.2.30", user_agent="pytest")


def branch_change(world: World, login: str = "sophie.lambert", identifier: str = INES,
                  raw: str = NEW_RAW) -> advisor.AdvisorChangeResult:
    advisor_id = world.advisor_id(login)
    return advisor.advisor_change(uow(world), advisor_id, identifier, raw_number=raw, region="FR",
                                  document_type="cni", document_number=DOCUMENT, in_branch=True,
                                  actor=branch_actor(advisor_id))


def test_in_branch_the_customer_reads_out_the_code_received_on_the_new_number(world: World) -> None:
    sophie = world.advisor_id("sophie.lambert")
    entered = branch_change(world)
    assert (entered.status, entered.new_national) == ("pending_proof", "07 98 76 54 32")
    [(recipient, text)] = proof_sms(world, INES)
    assert recipient == NEW_E164
    assert "agence" in text and "@" not in text  # said to the advisor in front of them, not filled in by a site
    assert world.customer(INES).secure_phone_e164 != NEW_E164
    assert advisor.pending_validations(uow(world), world.advisor_id("nadia.benali")) == []  # not proven yet
    code = re.search(r"\b(\d{6})\b", text)[1]  # type: ignore[index]
    with pytest.raises(Refused, match="sms.wrong"):
        advisor.prove_advisor_change(uow(world), sophie, entered.request_id, wrong(code), actor=branch_actor(sophie))
    done = advisor.prove_advisor_change(uow(world), sophie, entered.request_id, code, actor=branch_actor(sophie))
    assert done.status == "completed"
    assert world.customer(INES).secure_phone_e164 == NEW_E164


def test_in_branch_only_the_advisor_who_entered_the_change_can_prove_it(world: World) -> None:
    entered = branch_change(world)
    code = re.search(r"\b(\d{6})\b", proof_sms(world, INES)[-1][1])[1]  # type: ignore[index]
    for login in ("nadia.benali", "karim.haddad"):  # a colleague of the agency; another agency's advisor
        other = world.advisor_id(login)
        with pytest.raises(Refused, match="advisor.not_found"):
            advisor.prove_advisor_change(uow(world), other, entered.request_id, code, actor=branch_actor(other))
        with pytest.raises(Refused, match="advisor.not_found"):
            advisor.resend_advisor_proof(uow(world), other, entered.request_id, actor=branch_actor(other))
    assert world.request(entered.request_id).status == "pending_proof"
    audited = world.audit(action="advisor_change_proof")  # the other agency's try is not on Inès's record
    assert [e.outcome for e in audited] == ["refused", "refused"]
    assert [details(e)["problem"] for e in audited] == ["advisor.not_found"] * 2
    assert [e.customer_id for e in audited] == [world.cid(INES), None]


def test_in_branch_under_a_risk_signal_the_proof_comes_before_the_second_advisor(world: World) -> None:
    sophie, nadia = world.advisor_id("sophie.lambert"), world.advisor_id("nadia.benali")
    cid = world.cid(INES)
    from secure_phone.services import activation

    activation.not_my_number(uow(world), cid, actor=customer_actor(cid, "app"))  # a risk signal
    entered = branch_change(world)
    code = re.search(r"\b(\d{6})\b", proof_sms(world, INES)[-1][1])[1]  # type: ignore[index]
    proved = advisor.prove_advisor_change(uow(world), sophie, entered.request_id, code, actor=branch_actor(sophie))
    assert proved.status == "pending_validation"
    assert [v.request_id for v in advisor.pending_validations(uow(world), nadia)] == [entered.request_id]
    assert advisor.validate_change(uow(world), nadia, entered.request_id, actor=branch_actor(nadia)) == "completed"
    world.clock.advance(seconds=1)
    assert world.customer(INES).secure_phone_e164 == NEW_E164
    assert world.clock.now - world.request(entered.request_id).created_at < timedelta(minutes=1)


def test_in_branch_the_code_is_refused_while_another_change_of_the_customer_is_being_saved(world: World) -> None:
    """One change at a time, at the proof too: while the code was awaited in branch, the customer's online change
    was approved and waits for MySys (``applying``). The advisor's proof is refused before the code is spent and
    before anything reaches MySys (two changes written there could end in a different order in MySys and in the
    bank's record); once that change is over, the same code goes through."""
    sophie = world.advisor_id("sophie.lambert")
    entered = branch_change(world)
    code = re.search(r"\b(\d{6})\b", proof_sms(world, INES)[-1][1])[1]  # type: ignore[index]
    with transaction(world.url) as session:  # as « Valider » on the phone commits it, MySys not answered yet
        ines = session.exec(select(Customer).where(Customer.identifier == INES)).one()
        online = ChangeRequest(customer_id=ines.id, channel="app", old_e164=ines.secure_phone_e164,
                               new_e164=OTHER_E164, status="applying", nonce="online", created_at=world.clock.now,
                               expires_at=world.clock.now + timedelta(minutes=5), decided_at=world.clock.now)
        session.add(online)
        session.flush()
        online_id = online.id

    with pytest.raises(Refused, match="advisor.validation.in_progress"):
        advisor.prove_advisor_change(uow(world), sophie, entered.request_id, code, actor=branch_actor(sophie))

    assert world.request(entered.request_id).status == "pending_proof"
    assert world.request(online_id).status == "applying"
    assert world.customer(INES).secure_phone_e164 not in (NEW_E164, OTHER_E164)
    assert world.history(INES) == []
    refused = world.audit(INES, "advisor_change_proof")[-1]
    assert (refused.outcome, refused.request_id, details(refused)["problem"]) == (
        "refused", entered.request_id, "change.in_progress")
    with read_only(world.url) as s:  # the code was not spent, nor counted as a wrong try
        [sent] = s.exec(select(SmsCode).where(SmsCode.request_id == entered.request_id)).all()
    assert (sent.used_at, sent.failures) == (None, 0)

    with transaction(world.url) as session:  # that change is over (MySys refused it for good, say)
        row = session.get(ChangeRequest, online_id)
        assert row is not None
        row.status = "failed"
        session.add(row)
    done = advisor.prove_advisor_change(uow(world), sophie, entered.request_id, code, actor=branch_actor(sophie))
    assert done.status == "completed"
    assert world.customer(INES).secure_phone_e164 == NEW_E164
