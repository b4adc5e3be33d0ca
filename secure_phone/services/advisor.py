"""The advisor back-office (spec §8): every function is limited to the advisor's own agency.

A customer of another agency is « not found », exactly like a customer who does not exist. An advisor change of
a secure number requires an in-branch identity check, and a second advisor of the same agency when a risk
signal is present; it then goes through the same completion as the online path (MySys, notifications,
cooling-off, audit). So do the in-branch operations on a customer's Sécur'Pass and freeze (§12.2). Every
refusal of an advisor's write is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from secure_phone import i18n
from secure_phone.adapters.models import (
    Advisor,
    AdvisorOperation,
    Agency,
    AuditEntry,
    ChangeRequest,
    ContactRequest,
    Customer,
    IdentityCheck,
    Outbox,
    UserSession,
)
from secure_phone.domain.change_request import Action, Channel, Status
from secure_phone.domain.phone import (
    NumberRejected,
    PhoneNumber,
    parse_new_number,
    phone_from_e164,
    reject_unavailable,
)
from secure_phone.domain.risk import RISK_WINDOW, Event, RiskSignal, requires_second_advisor, risk_signals
from secure_phone.services import operator, sms_codes
from secure_phone.services.audit import Actor
from secure_phone.services.auth import end_sessions
from secure_phone.services.change.applying import complete_change
from secure_phone.services.customers import local_time
from secure_phone.services.inputs import DOCUMENT_LIMIT, NUMBER_LIMIT, QUERY_LIMIT, free_text, key
from secure_phone.services.rows import (
    claimed_by_other,
    enrolled_device,
    expire_if_due,
    lock_customer,
    lock_request,
    move,
    number_holder,
    other_change_applying,
    supersede_pending,
)
from secure_phone.services.unit_of_work import NumberRefused, Refused, Tx, UnitOfWork
from secure_phone.settings import secret_key

DOCUMENT_TYPES = ("cni", "passeport", "titre_sejour")
TIMELINE_LIMIT = 60
OPERATIONS = ("unblock_securpass", "clear_freeze")


@dataclass(frozen=True)
class AdvisorView:
    id: int
    name: str
    agency_id: int
    agency_name: str


@dataclass(frozen=True)
class CustomerRow:
    identifier: str
    name: str
    masked: str


@dataclass(frozen=True)
class TimelineItem:
    """One audit entry on the sheet: ``action`` and ``outcome`` name catalogue keys (``tl.*``, ``result.*``);
    ``detail_key`` is the catalogue key of its reason (``""`` when none), ``detail_text`` a masked number."""

    at: str
    action: str
    outcome: str
    detail_key: str = ""
    detail_text: str = ""


@dataclass(frozen=True)
class Sheet:
    customer_id: int
    identifier: str
    name: str
    masked: str
    last_confirmed: str
    securpass: str
    device: str
    cooling_off_until: str
    changes: list[TimelineItem] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    failed_notifications: int = 0
    frozen_since: str = ""  # online changes frozen after a « not me » refusal, since then
    live_sessions: int = 0


@dataclass(frozen=True)
class ContactView:
    id: str
    identifier: str
    name: str
    reason: str
    channel: str
    created: str
    status: str
    advisor: str
    note: str
    last_request_id: str


@dataclass(frozen=True)
class ValidationView:
    request_id: str
    identifier: str
    name: str
    new_national: str  # empty for an operation that is not a change of number
    requested_by: str
    signals: list[str]
    kind: str = "change"  # change | unblock_securpass | clear_freeze


def _advisor(session: Session, advisor_id: int) -> Advisor:
    advisor = session.get(Advisor, advisor_id)
    if advisor is None:
        raise Refused("advisor.not_found")
    return advisor


def _customer(session: Session, advisor: Advisor, identifier: str, lock: bool = False) -> Customer:
    """The customer, only if they belong to the advisor's agency: else « not found »."""
    query = select(Customer).where(Customer.identifier == key(identifier), Customer.agency_id == advisor.agency_id)
    customer = session.exec(query.with_for_update() if lock else query).first()
    if customer is None:
        raise Refused("advisor.not_found")
    return customer


def _customer_for(tx: Tx, advisor: Advisor, identifier: str, action: str) -> Customer:
    """The customer of a write, locked; another agency's or an unknown one is « not found », audited."""
    try:
        return _customer(tx.session, advisor, identifier, lock=True)
    except Refused:
        raise Refused("advisor.not_found", action=action, problem="advisor.not_found",
                      identifier=key(identifier, 20)) from None


def _checked_document(tx: Tx, action: str, customer: Customer, document_type: str, document_number: str,
                      in_branch: bool) -> str:
    """The identity document checked in branch (never on the strength of a phone call), or an audited refusal."""
    document = "".join(ch for ch in key(document_number, DOCUMENT_LIMIT) if ch.isalnum()).upper()[:30]
    for code, wrong in (("advisor.change.in_branch_required", not in_branch),
                        ("advisor.change.document_required", document_type not in DOCUMENT_TYPES or len(document) < 6)):
        if wrong:
            raise Refused(code, action=action, customer_id=customer.id, problem=code)
    return document


def _masked_document(document: str) -> str:
    return "•" * max(0, len(document) - 4) + document[-4:]


def _document_hash(number: str) -> str:
    return hmac.new(secret_key(), b"identity:" + number.encode(), hashlib.sha256).hexdigest()


def profile(uow: UnitOfWork, advisor_id: int) -> AdvisorView:
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        agency = session.get(Agency, advisor.agency_id)
    return AdvisorView(advisor.id or 0, f"{advisor.first_name} {advisor.last_name}", advisor.agency_id,
                       agency.name if agency else "")


def search(uow: UnitOfWork, advisor_id: int, query: str) -> list[CustomerRow]:
    """By identifier (or its start) or by name, in the advisor's agency only."""
    text = key(query, QUERY_LIMIT).strip()
    if len(text) < 2:
        return []
    pattern = f"%{text.replace('%', '').replace('_', '')}%"
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        rows = session.exec(
            select(Customer).where(
                Customer.agency_id == advisor.agency_id,
                or_(col(Customer.identifier).startswith(text, autoescape=True), col(Customer.last_name).ilike(pattern),
                    col(Customer.first_name).ilike(pattern)),
            ).order_by(Customer.last_name).limit(20)
        ).all()
    return [CustomerRow(c.identifier, f"{c.first_name} {c.last_name}",
                        phone_from_e164(c.secure_phone_e164).masked if c.secure_phone_e164 else "") for c in rows]


def _events(session: Session, customer_id: int) -> list[AuditEntry]:
    return list(session.exec(
        select(AuditEntry).where(AuditEntry.customer_id == customer_id)
        .order_by(col(AuditEntry.id).desc()).limit(TIMELINE_LIMIT)
    ))


def _signals(session: Session, customer: Customer, now: datetime) -> list[RiskSignal]:
    """From every event of the risk window: later activity never pushes a signal out of sight."""
    rows = session.exec(select(AuditEntry).where(AuditEntry.customer_id == customer.id,
                                                 AuditEntry.at >= now - RISK_WINDOW)).all()
    events = [Event(e.at, e.action, e.outcome, json.loads(e.details or "{}")) for e in rows]
    return risk_signals(events, now=now, cooling_off_until=customer.cooling_off_until,
                        securpass_moved_at=customer.securpass_moved_at,
                        securpass_blocked=customer.securpass_status == "blocked")


def customer_signals(session: Session, customer: Customer, now: datetime) -> list[RiskSignal]:
    """The « Point de vigilance » signals a customer's sheet shows now (the demo's « behind the scenes » pane
    shows them too)."""
    return _signals(session, customer, now)


DETAIL_FIELDS = ("reason", "rejection", "problem", "signal")
"""The audit details the timeline explains (the first one present), each a code of the services or the domain."""


def detail_key(code: str, name: str = "") -> str:
    """The catalogue key that says ``code`` (of the detail ``name``) in words: its label for that detail
    (``detail.<name>.<code>``), its own ``detail.*`` label, the key it already is (an i18n code a refusal
    carries), a contact reason; ``detail.other`` otherwise — never the raw code on a screen."""
    for candidate in (f"detail.{name}.{code}", f"detail.{code}", code, f"reason.{code}"):
        if candidate in i18n.MESSAGES[i18n.DEFAULT_LANG]:
            return candidate
    return "detail.other"


def _detail(entry: AuditEntry) -> tuple[str, str]:
    details = json.loads(entry.details or "{}")
    for name in DETAIL_FIELDS:
        if details.get(name):
            return detail_key(str(details[name]), name), ""
    return "", str(details.get("number") or "")  # recorded masked (``number.masked``)


def sheet(uow: UnitOfWork, advisor_id: int, identifier: str, *, lang: str = "fr") -> Sheet:
    now = uow.now
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        customer = _customer(session, advisor, identifier)
        device = enrolled_device(session, customer.id or 0)
        events = _events(session, customer.id or 0)
        changes = session.exec(select(ChangeRequest).where(ChangeRequest.customer_id == customer.id)
                               .order_by(col(ChangeRequest.created_at).desc()).limit(20)).all()
        signals = _signals(session, customer, now)
        failed = len(session.exec(select(Outbox.id).where(Outbox.customer_id == customer.id,
                                                          Outbox.status == "failed")).all())
        live_sessions = len(session.exec(select(UserSession.id).where(
            UserSession.principal_kind == "customer", UserSession.principal_id == customer.id,
            col(UserSession.ended_at).is_(None), UserSession.expires_at > now)).all())
    cooling = customer.cooling_off_until if customer.cooling_off_until and customer.cooling_off_until > now else None
    return Sheet(
        customer_id=customer.id or 0,
        identifier=customer.identifier,
        name=f"{customer.first_name} {customer.last_name}",
        masked=phone_from_e164(customer.secure_phone_e164).masked if customer.secure_phone_e164 else "",
        last_confirmed=local_time(customer.number_confirmed_at, lang) if customer.number_confirmed_at else "",
        securpass=customer.securpass_status,
        device=device.label if device else "",
        cooling_off_until=local_time(cooling, lang) if cooling else "",
        changes=[TimelineItem(local_time(c.created_at, lang), f"channel.{c.channel}", c.status,
                              detail_text=phone_from_e164(c.new_e164).masked) for c in changes],
        timeline=[TimelineItem(local_time(e.at, lang), e.action, e.outcome, *_detail(e)) for e in events],
        signals=[s.value for s in signals],
        failed_notifications=failed,
        frozen_since=local_time(customer.frozen_at, lang) if customer.frozen_at else "",
        live_sessions=live_sessions,
    )


def reveal_number(uow: UnitOfWork, advisor_id: int, identifier: str, *, actor: Actor) -> str:
    """The full secure number, for the advisor who asks: audited."""
    with uow.write(actor) as tx:
        customer = _customer(tx.session, _advisor(tx.session, advisor_id), identifier)
        tx.record("advisor_reveal_number", "ok", customer_id=customer.id)
        return phone_from_e164(customer.secure_phone_e164).national if customer.secure_phone_e164 else ""


# --- contact requests --------------------------------------------------------------------------


def queue(uow: UnitOfWork, advisor_id: int, *, lang: str = "fr") -> list[ContactView]:
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        rows = session.exec(
            select(ContactRequest, Customer).join(Customer,
                                                  col(ContactRequest.customer_id) == Customer.id)
            .where(Customer.agency_id == advisor.agency_id, ContactRequest.status != "closed")
            .order_by(col(ContactRequest.created_at))
        ).all()
        names = {a.id: f"{a.first_name} {a.last_name}" for a in session.exec(select(Advisor)).all()}
    return [ContactView(r.id, c.identifier, f"{c.first_name} {c.last_name}", r.reason, r.channel,
                        local_time(r.created_at, lang), r.status, names.get(r.advisor_id, "") if r.advisor_id else "",
                        r.note or "", r.last_request_id or "") for r, c in rows]


def _contact(session: Session, advisor: Advisor, contact_id: str) -> ContactRequest:
    row = session.exec(select(ContactRequest).where(ContactRequest.id == key(contact_id)).with_for_update()).first()
    customer = session.get(Customer, row.customer_id) if row else None
    if row is None or customer is None or customer.agency_id != advisor.agency_id:
        raise Refused("advisor.not_found")
    return row


def take(uow: UnitOfWork, advisor_id: int, contact_id: str, *, actor: Actor) -> None:
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        row = _contact(tx.session, advisor, contact_id)
        if row.status == "closed":
            raise Refused("advisor.contact.closed")
        row.status, row.advisor_id, row.taken_at = "taken", advisor.id, tx.now
        tx.session.add(row)
        tx.record("contact_taken", "ok", customer_id=row.customer_id, contact=row.id)
        tx.changed(row.customer_id)


def close(uow: UnitOfWork, advisor_id: int, contact_id: str, note: str, *, actor: Actor) -> None:
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        row = _contact(tx.session, advisor, contact_id)
        row.note = free_text(note) or row.note
        row.status, row.closed_at = "closed", tx.now
        row.advisor_id = row.advisor_id or advisor.id
        tx.session.add(row)
        tx.record("contact_closed", "ok", customer_id=row.customer_id, contact=row.id)
        tx.changed(row.customer_id)


# --- advisor change (« process hors espace client ») -------------------------------------------


@dataclass(frozen=True)
class AdvisorChangeResult:
    request_id: str
    status: str  # pending_proof | completed | applying | pending_validation | failed
    new_national: str = ""  # the number entered (pending_proof: the customer reads out the code it received)


def _advisor_change_rules(tx: Tx, advisor_id: int, identifier: str, *, raw_number: str, region: str,
                          document_type: str, document_number: str, in_branch: bool,
                          ) -> tuple[Advisor, Customer, str, PhoneNumber]:
    """The in-branch change's local rules, each refusal recorded: the advisor's agency, the identity document,
    the number rules and another customer's number, one change at a time, the new number's code may be sent."""
    policy = tx.uow.policy
    advisor = _advisor(tx.session, advisor_id)
    customer = _customer_for(tx, advisor, identifier, "advisor_change")
    document = _checked_document(tx, "advisor_change", customer, document_type, document_number, in_branch)
    try:
        number = parse_new_number(key(raw_number, NUMBER_LIMIT), key(region, 8) or "FR",
                                  current_e164=customer.secure_phone_e164, policy=policy)
        holder = number_holder(tx.session, number.e164, customer.id, tx.now, policy)
        if holder is not None:
            claimed_by_other(tx, holder, customer.id)
            reject_unavailable()
    except NumberRejected as rejected:
        raise NumberRefused(rejected.problem, action="advisor_change", customer_id=customer.id, announce=True,
                            problem=rejected.problem.value,
                            risk_signal="number_shared" if rejected.problem.value == "unavailable" else None) \
            from rejected
    if other_change_applying(tx.session, customer.id or 0) is not None:
        raise Refused("advisor.validation.in_progress", action="advisor_change", customer_id=customer.id,
                      problem="change.in_progress")  # the advisor's words: « another change of this customer »
    if policy.new_number_proof and (refusal := sms_codes.sending_refusal(tx, customer, sms_codes.NEW_NUMBER)):
        raise Refused(refusal, action="advisor_change", customer_id=customer.id, problem=refusal)
    return advisor, customer, document, number


def advisor_change(uow: UnitOfWork, advisor_id: int, identifier: str, *, raw_number: str, region: str,
                   document_type: str, document_number: str, in_branch: bool, actor: Actor) -> AdvisorChangeResult:
    """Change a customer's secure number in branch, after checking an identity document. With the new
    number's proof (§12.3) a code goes to the new number first: the customer, in front of the advisor, reads it
    out (:func:`prove_advisor_change`); then, as without the proof, a second advisor validates under a risk
    signal, or the change is applied. The operator is asked once the local rules let the change through (§12.4): a
    SIM change, a forwarding or a name that is not the customer's is a risk signal (``operator_signal``): a second
    advisor validates."""
    policy = uow.policy

    def rules(tx: Tx) -> tuple[Advisor, Customer, str, PhoneNumber]:
        return _advisor_change_rules(tx, advisor_id, identifier, raw_number=raw_number, region=region,
                                     document_type=document_type, document_number=document_number,
                                     in_branch=in_branch)

    with uow.write(actor) as tx:  # every local rule first: a change they refuse never costs an operator call
        _, customer, _, number = rules(tx)
    operator.guard_change(uow, customer.id or 0, number.e164, actor=actor, purpose="advisor_change")
    with uow.write(actor) as tx:  # and again: the operator's answers took time
        advisor, customer, document, number = rules(tx)
        proof = policy.new_number_proof
        supersede_pending(tx, customer.id or 0, online_only=False)
        signals = _signals(tx.session, customer, tx.now)
        request = ChangeRequest(
            customer_id=customer.id or 0, channel=Channel.ADVISOR.value, old_e164=customer.secure_phone_e164,
            new_e164=number.e164, status=(Status.PENDING_PROOF if proof else Status.PENDING_APPROVAL).value,
            nonce=secrets.token_urlsafe(16), created_at=tx.now,
            expires_at=tx.now + (policy.sms_code_ttl if proof else policy.advisor_validation_ttl),
            advisor_id=advisor.id, risk_signals=json.dumps([s.value for s in signals]) if signals else None,
        )
        tx.session.add(request)
        tx.session.flush()
        tx.session.add(IdentityCheck(change_request_id=request.id, advisor_id=advisor.id or 0,
                                     document_type=document_type, document_number_masked=_masked_document(document),
                                     document_number_hash=_document_hash(document), checked_at=tx.now))
        tx.record("advisor_change", "requested", customer_id=customer.id, request_id=request.id, number=number.masked,
                  document_type=document_type, signals=[s.value for s in signals], proof=proof or None)
        tx.changed(customer.id)
        if proof:
            sms_codes.send_code(tx, customer, sms_codes.NEW_NUMBER, action="proof_code_sent", request_id=request.id,
                                recipient=number.e164, body="sms.body.new_number.branch")
            tx.record("proof_code_sent", "ok", customer_id=customer.id, request_id=request.id, number=number.masked)
            return AdvisorChangeResult(request.id, Status.PENDING_PROOF.value, number.national)
        status = _after_the_proof(tx, request, signals)
    return _applied(uow, request.id, status, number.national)


def _after_the_proof(tx: Tx, request: ChangeRequest, signals: list[RiskSignal]) -> str:
    """Four eyes under a risk signal (the request waits for a second advisor), else approved at once."""
    if requires_second_advisor(signals):
        return "pending_validation"
    move(request, Action.APPROVE, tx.now)
    tx.session.add(request)
    return Status.APPLYING.value


def _applied(uow: UnitOfWork, request_id: str, status: str, national: str) -> AdvisorChangeResult:
    if status == Status.APPLYING.value:
        status = complete_change(uow, request_id)
    return AdvisorChangeResult(request_id, status, national)


def _proof_request(tx: Tx, advisor: Advisor, request_id: str, action: str) -> tuple[ChangeRequest, Customer]:
    """The in-branch request this advisor entered, still waiting for the new number's code (locked in the
    order customer, then request); « not found » or « gone » otherwise, recorded."""
    found = tx.session.get(ChangeRequest, key(request_id))
    customer = tx.session.get(Customer, found.customer_id) if found else None
    if found is None or customer is None or customer.agency_id != advisor.agency_id \
            or found.channel != Channel.ADVISOR.value or found.advisor_id != advisor.id:
        raise Refused("advisor.not_found", action=action, problem="advisor.not_found",
                      customer_id=customer.id if customer and customer.agency_id == advisor.agency_id else None,
                      request_id=key(request_id) or None)
    customer = lock_customer(tx.session, customer.id)
    request = tx.session.exec(select(ChangeRequest).where(ChangeRequest.id == found.id).with_for_update()).one()
    expire_if_due(tx.session, request, tx.now)
    if Status(request.status) is not Status.PENDING_PROOF:
        raise Refused("sp.gone", action=action, problem="sp.gone", customer_id=customer.id, request_id=request.id)
    return request, customer


def prove_advisor_change(uow: UnitOfWork, advisor_id: int, request_id: str, code: str, *,
                         actor: Actor) -> AdvisorChangeResult:
    """The code the customer received on the new number, read out in the branch and typed by the advisor who
    entered the change. Wrong: counted with the customer's other SMS codes; the last wrong try ends the
    request. Right: on to the second advisor (risk signal) or to MySys."""
    policy = uow.policy
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        request, customer = _proof_request(tx, advisor, request_id, "advisor_change_proof")
        # One change at a time (under the customer's lock, taken above): the customer's online change may have
        # been approved while the code was awaited in branch; refused before the code is spent.
        if other_change_applying(tx.session, customer.id or 0, excluding=request.id) is not None:
            raise Refused("advisor.validation.in_progress", action="advisor_change_proof",
                          problem="change.in_progress", customer_id=customer.id, request_id=request.id)
        try:
            sms_codes.check_code(tx, customer, sms_codes.NEW_NUMBER, code, action="advisor_change_proof",
                                 request_id=request.id)
            if number_holder(tx.session, request.new_e164, customer.id, tx.now, policy) is not None:
                raise Refused("number.unavailable", action="advisor_change_proof", customer_id=customer.id,
                              request_id=request.id, problem="number.unavailable")
        except Refused as refused:
            if refused.code in ("sms.too_many_tries", "number.unavailable"):
                move(request, Action.FAIL, tx.now)
                request.failure_reason = "proof_failed" if refused.code == "sms.too_many_tries" else refused.code
                tx.session.add(request)
                refused.announce = True
            raise
        move(request, Action.PROVE, tx.now)
        request.expires_at = tx.now + policy.advisor_validation_ttl
        tx.session.add(request)
        tx.record("advisor_change_proof", "ok", customer_id=customer.id, request_id=request.id)
        tx.changed(customer.id)
        signals = [RiskSignal(s) for s in json.loads(request.risk_signals or "[]")]
        status = _after_the_proof(tx, request, signals)
        national = phone_from_e164(request.new_e164).national
    return _applied(uow, request.id, status, national)


def resend_advisor_proof(uow: UnitOfWork, advisor_id: int, request_id: str, *, actor: Actor) -> AdvisorChangeResult:
    """« Renvoyer le code » in the branch: a new code to the new number (limits as online)."""
    policy = uow.policy
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        request, customer = _proof_request(tx, advisor, request_id, "proof_code_sent")
        sms_codes.send_code(tx, customer, sms_codes.NEW_NUMBER, action="proof_code_sent", request_id=request.id,
                            recipient=request.new_e164, body="sms.body.new_number.branch")
        request.expires_at = tx.now + policy.sms_code_ttl
        tx.session.add(request)
        tx.record("proof_code_sent", "ok", customer_id=customer.id, request_id=request.id, resent=True)
        return AdvisorChangeResult(request.id, request.status, phone_from_e164(request.new_e164).national)


def pending_validations(uow: UnitOfWork, advisor_id: int) -> list[ValidationView]:
    """Advisor changes and operations of this agency waiting for a second advisor (only another advisor may
    validate them: ``validate_change`` / ``validate_operation`` refuse the one who entered them)."""
    now = uow.now
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        rows = session.exec(
            select(ChangeRequest, Customer).join(Customer,
                                                 col(ChangeRequest.customer_id) == Customer.id)
            .where(Customer.agency_id == advisor.agency_id, ChangeRequest.channel == Channel.ADVISOR.value,
                   ChangeRequest.status == Status.PENDING_APPROVAL.value, ChangeRequest.expires_at > now)
        ).all()
        operations = session.exec(
            select(AdvisorOperation, Customer).join(Customer,
                                                    col(AdvisorOperation.customer_id) == Customer.id)
            .where(Customer.agency_id == advisor.agency_id, AdvisorOperation.status == "pending_validation",
                   AdvisorOperation.expires_at > now)
        ).all()
        names = {a.id: f"{a.first_name} {a.last_name}" for a in session.exec(select(Advisor)).all()}
    return [ValidationView(r.id, c.identifier, f"{c.first_name} {c.last_name}", phone_from_e164(r.new_e164).national,
                           names.get(r.advisor_id, ""), json.loads(r.risk_signals or "[]")) for r, c in rows] + [
        ValidationView(o.id, c.identifier, f"{c.first_name} {c.last_name}", "", names.get(o.advisor_id, ""),
                       json.loads(o.risk_signals or "[]"), kind=o.kind) for o, c in operations]


def validate_change(uow: UnitOfWork, advisor_id: int, request_id: str, *, actor: Actor) -> str:
    """The second advisor's validation (four eyes): never the advisor who entered the change."""
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        request, customer = lock_request(tx.session, request_id)  # the customer's lock first, as everywhere
        if request is None or customer is None or customer.agency_id != advisor.agency_id \
                or request.channel != Channel.ADVISOR.value:
            raise Refused("advisor.not_found", action="advisor_validation", problem="advisor.not_found",
                          customer_id=customer.id if customer else None, request_id=key(request_id) or None)
        if request.advisor_id == advisor.id:
            raise Refused("advisor.validation.same_advisor", action="advisor_validation", problem="same_advisor",
                          customer_id=customer.id, request_id=request.id)
        if Status(request.status) is not Status.PENDING_APPROVAL or tx.now >= request.expires_at:
            raise Refused("sp.gone", action="advisor_validation", problem="sp.gone", customer_id=customer.id,
                          request_id=request.id)
        # an online one, approved
        if other_change_applying(tx.session, customer.id or 0, excluding=request.id) is not None:
            raise Refused("advisor.validation.in_progress", action="advisor_validation", problem="change.in_progress",
                          customer_id=customer.id, request_id=request.id)
        move(request, Action.APPROVE, tx.now)
        request.validator_id = advisor.id
        tx.session.add(request)
        tx.record("advisor_validation", "ok", customer_id=customer.id, request_id=request.id)
        tx.changed(customer.id)
    return complete_change(uow, request_id)


# --- in-branch operations on Sécur'Pass and the freeze; ending sessions -------------------------------


@dataclass(frozen=True)
class OperationResult:
    operation_id: str
    status: str  # done | pending_validation


def _applicable(kind: str, customer: Customer) -> bool:
    if kind == "unblock_securpass":
        return customer.securpass_status == "blocked"
    return kind == "clear_freeze" and customer.frozen_at is not None


def _subject_at(kind: str, customer: Customer) -> datetime | None:
    """When the block or the freeze an operation answers began."""
    return customer.securpass_blocked_at if kind == "unblock_securpass" else customer.frozen_at


def _operation_signals(session: Session, kind: str, customer: Customer, now: datetime) -> list[RiskSignal]:
    """The signals that call for a second advisor.

    An unblock is not held up by the wrong codes that caused the block (they are what it answers), but every
    other signal counts — approvals with a bad signature or from another device among them: someone tried
    without the phone's key. A « not me » freeze is cleared by two advisors, always, however old it is: the
    customer reported a fraud in progress."""
    if kind == "clear_freeze":
        signals = _signals(session, customer, now)
        return signals if RiskSignal.NOT_ME in signals else [RiskSignal.NOT_ME, *signals]
    rows = session.exec(select(AuditEntry).where(AuditEntry.customer_id == customer.id,
                                                 AuditEntry.at >= now - RISK_WINDOW)).all()
    events = [Event.of(e.at, e.action, e.outcome, e.details) for e in rows]
    events = [e for e in events if e.action != "securpass_blocked"
              and not (e.action == "approval" and e.details.get("rejection") in ("wrong_code", "securpass_blocked"))]
    return risk_signals(events, now=now, cooling_off_until=customer.cooling_off_until,
                        securpass_moved_at=customer.securpass_moved_at, securpass_blocked=False)


def _apply(tx: Tx, operation: AdvisorOperation, customer: Customer) -> None:
    if operation.kind == "unblock_securpass":
        customer.securpass_status, customer.securpass_wrong_codes = "active", 0
        action = "securpass_unblocked"
    else:
        customer.frozen_at = customer.frozen_reason = None
        action = "freeze_cleared"
    operation.status, operation.decided_at = "done", tx.now
    tx.session.add_all([customer, operation])
    tx.record(action, "ok", customer_id=customer.id, operation=operation.id, advisor=operation.advisor_id,
              validator=operation.validator_id)
    tx.changed(customer.id)


def request_operation(uow: UnitOfWork, advisor_id: int, identifier: str, *, kind: str, document_type: str,
                      document_number: str, in_branch: bool, actor: Actor) -> OperationResult:
    """Unblock a blocked Sécur'Pass, or clear a « not me » freeze, in branch after an identity check; with
    a second advisor's validation when a risk signal is present (as for the in-branch change)."""
    if kind not in OPERATIONS:
        raise Refused("advisor.not_found")
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        customer = _customer_for(tx, advisor, identifier, "advisor_operation")
        document = _checked_document(tx, "advisor_operation", customer, document_type, document_number, in_branch)
        if not _applicable(kind, customer):
            raise Refused("adv.op.not_applicable", action="advisor_operation", customer_id=customer.id,
                          problem="adv.op.not_applicable", kind=kind)
        waiting = tx.session.exec(select(AdvisorOperation.id).where(
            AdvisorOperation.customer_id == customer.id, AdvisorOperation.kind == kind,
            AdvisorOperation.status == "pending_validation", AdvisorOperation.expires_at > tx.now)).first()
        if waiting is not None:  # one at a time: a second one could outlive the first and answer a later case
            raise Refused("adv.op.already_pending", action="advisor_operation", customer_id=customer.id,
                          problem="adv.op.already_pending", kind=kind, operation=waiting)
        signals = _operation_signals(tx.session, kind, customer, tx.now)
        operation = AdvisorOperation(
            customer_id=customer.id or 0, kind=kind, status="pending_validation", advisor_id=advisor.id or 0,
            document_type=document_type, document_number_masked=_masked_document(document),
            document_number_hash=_document_hash(document), risk_signals=json.dumps([s.value for s in signals]),
            subject_at=_subject_at(kind, customer), created_at=tx.now,
            expires_at=tx.now + uow.policy.advisor_validation_ttl,
        )
        tx.session.add(operation)
        tx.session.flush()
        tx.record("advisor_operation", "requested", customer_id=customer.id, kind=kind, operation=operation.id,
                  document_type=document_type, signals=[s.value for s in signals])
        tx.changed(customer.id)
        if requires_second_advisor(signals):
            return OperationResult(operation.id, "pending_validation")
        _apply(tx, operation, customer)
        return OperationResult(operation.id, "done")


def validate_operation(uow: UnitOfWork, advisor_id: int, operation_id: str, *, actor: Actor) -> str:
    """The second advisor's validation of an operation: never the advisor who asked for it."""
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        customer_id = tx.session.exec(select(AdvisorOperation.customer_id)
                                      .where(AdvisorOperation.id == key(operation_id))).first()
        customer = lock_customer(tx.session, customer_id) if customer_id else None  # lock order: customer first
        operation = tx.session.exec(select(AdvisorOperation).where(AdvisorOperation.id == key(operation_id))
                                    .with_for_update()).first() if customer else None
        if operation is None or customer is None or customer.agency_id != advisor.agency_id:
            raise Refused("advisor.not_found", action="advisor_validation", problem="advisor.not_found",
                          customer_id=customer.id if customer else None, operation=key(operation_id) or None)
        if operation.advisor_id == advisor.id:
            raise Refused("advisor.validation.same_advisor", action="advisor_validation", problem="same_advisor",
                          customer_id=customer.id, operation=operation.id)
        if operation.status != "pending_validation" or tx.now >= operation.expires_at:
            raise Refused("sp.gone", action="advisor_validation", problem="sp.gone", customer_id=customer.id,
                          operation=operation.id)
        if not _applicable(operation.kind, customer) or _subject_at(operation.kind, customer) != operation.subject_at:
            # Done meanwhile, or a later block or freeze that this operation's identity check never looked at.
            operation.status, operation.decided_at = "expired", tx.now
            tx.session.add(operation)
            raise Refused("adv.op.stale", action="advisor_validation", problem="adv.op.stale",
                          customer_id=customer.id, operation=operation.id)
        operation.validator_id = advisor.id
        tx.record("advisor_validation", "ok", customer_id=customer.id, operation=operation.id)
        _apply(tx, operation, customer)
        return "done"


def end_customer_sessions(uow: UnitOfWork, advisor_id: int, identifier: str, *, actor: Actor) -> int:
    """End every session of the customer (a stolen phone, a session the customer does not recognise).

    Protective, so immediate: it needs neither the branch nor a second advisor. Audited."""
    with uow.write(actor) as tx:
        customer = _customer_for(tx, _advisor(tx.session, advisor_id), identifier, "sessions_ended")
        ended = end_sessions(tx.session, customer.id or 0, reason="advisor", now=tx.now)
        tx.record("sessions_ended", "ok", customer_id=customer.id, count=ended, by="advisor")
        tx.changed(customer.id)
        return ended
