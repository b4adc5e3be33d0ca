"""The operator's fraud signals (PRODUCT.md §12.4), asked at each point where the mobile network knows better.

* at a change of secure number, online (:func:`guard_change`, from ``change.start_request``) and in branch
  (``advisor.advisor_change``): SIM Swap on the current and the new number, Call Forwarding Signal and KYC Match
  on the new one;
* at J4, before the SMS code of a Sécur'Pass move goes to the current number (:func:`guard_activation`);
* at J7, before the « verify your number » code goes to it: Number Recycling (:func:`guard_recycling`) — a
  recycled number gets no SMS any more and must be verified again with the advisor;
* before an advisor calls a customer back (:func:`check_callback`): Call Forwarding Signal on the number.

The operator is another system: it is asked between transactions, never inside one. Then, in one transaction,
every answer (or its absence) is stored (``operator_check``: operator, API, correlator, time, latency, purpose,
result, error) and audited in the hash-chained trail (``operator_check``, with the correlators), and the domain's
verdict (:mod:`secure_phone.domain.operator`) stops the online path — a :class:`Refused` whose code says why —
or lets it go on.

Every local rule comes first (the callers': eligibility, the number rules, one change at a time, the daily
limits…): a request they refuse never costs an operator call. Then the operator is spared twice more (the limits
in ``Policy``). The same questions (same purpose, same numbers, same names) asked again within
``policy.operator_answer_reuse`` after answers that stopped the journey (or warned the advisor) get those answers
again, audited ``operator_check_reused``: a replayed, refused « Confirmer » asks nothing. A clean answer is always
asked again (a SIM swapped a minute later must be seen); the local limits bound those replays. Beyond
``policy.operator_checks_per_customer`` assessments of one customer, or ``policy.operator_checks_per_advisor`` of
one advisor, within ``policy.operator_check_window``, nothing is asked and the verdict is that of no answer,
failing closed whatever the no-answer policy (audited ``operator_check`` ``rate_limited``). The answers are HTTP
calls: the UI runs these use cases off the event loop (``ui.runtime.operator_call``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from secure_phone.adapters.models import Advisor, AuditEntry, ContactRequest, Customer, OperatorCheck
from secure_phone.adapters.operator import Call, Operator
from secure_phone.adapters.operator_sim import get_simulator
from secure_phone.domain.operator import (
    Answers,
    Check,
    Reason,
    Verdict,
    assess_activation,
    assess_callback,
    assess_change,
    assess_recycling,
)
from secure_phone.domain.phone import NumberRejected, parse_new_number, phone_from_e164
from secure_phone.domain.policy import Policy
from secure_phone.services.audit import Actor
from secure_phone.services.customers import local_time
from secure_phone.services.inputs import NUMBER_LIMIT, key
from secure_phone.services.rows import lock_customer
from secure_phone.services.unit_of_work import Refused, Tx, UnitOfWork
from secure_phone.settings import demo_mode, derived_key

log = logging.getLogger(__name__)

REFUSALS = {
    Reason.CURRENT_SIM_SWAP: "operator.current_sim_swap",
    Reason.RECYCLED: "operator.recycled",
    Reason.NEW_SIM_SWAP: "operator.new_number",
    Reason.NEW_FORWARDING: "operator.new_number",
    Reason.KYC_MISMATCH: "operator.new_number",
    Reason.UNAVAILABLE: "operator.unavailable",
}
"""The i18n key the customer is shown (and the contact request's reason) for the verdict's first reason."""

CONTACT_REASONS = {
    "operator.current_sim_swap": "operator_sim_swap",
    "operator.new_number": "operator_new_number",
    "operator.unavailable": "operator_unavailable",
    "operator.recycled": "operator_recycled",
}
"""The contact request's reason (``contact.REASONS``) for each refusal: the advisor sees why the customer came."""

SHEET_LIMIT = 12
REUSE_LOOKBACK = 8
"""How many of the customer's latest assessments (within the reuse window) are looked at for the same questions."""
ASKED, REUSED, LIMITED = "asked", "reused", "rate_limited"
RESERVED = "operator_ask"  # the audit action of an assessment about to ask the operator (the cap counts them)
DEMO_SIGNAL_ACTION = "demo_operator_signal"


@dataclass(frozen=True)
class Asked:
    """One question put to the operator, about one of the customer's numbers, and its answer."""

    check: Check
    subject: str  # current | new | callback
    e164: str
    call: Call


def _masked(e164: str) -> str:
    try:
        return phone_from_e164(e164).masked
    except ValueError:
        return "•••"


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _answers(asked: list[Asked]) -> Answers:
    """The domain's view of the answers; an error, or an answer that does not have the API's shape, is a
    missing answer (``unanswered``)."""
    values: dict[str, Any] = {}
    unanswered: set[Check] = set()
    for item in asked:
        body = item.call.body
        try:
            if not item.call.ok or not isinstance(body, dict):
                raise ValueError(item.call.error)
            if item.check in (Check.CURRENT_SIM_SWAP, Check.NEW_SIM_SWAP):
                if "latestSimChange" not in body:
                    raise ValueError("shape")
                name = "current_sim_changed_at" if item.check is Check.CURRENT_SIM_SWAP else "new_sim_changed_at"
                values[name] = _when(body["latestSimChange"])
            elif item.check in (Check.NEW_FORWARDING, Check.FORWARDING):
                if not isinstance(body.get("active"), bool):
                    raise ValueError("shape")
                values["new_forwarding" if item.check is Check.NEW_FORWARDING else "forwarding"] = body["active"]
            elif item.check is Check.KYC_MATCH:
                found = {body.get("givenNameMatch"), body.get("familyNameMatch")}
                values["kyc_name_match"] = False if "false" in found else (True if found == {"true"} else None)
            elif item.check is Check.RECYCLING:
                if not isinstance(body.get("phoneNumChanged"), bool):
                    raise ValueError("shape")
                values["recycled"] = body["phoneNumChanged"]
        except (ValueError, TypeError):
            unanswered.add(item.check)
    return Answers(unanswered=frozenset(unanswered), **values)


@dataclass(frozen=True)
class Question:
    """One question to put to the operator: ``ask`` puts it; ``detail`` is what else it carries (the names, a
    date) — with the purpose, the check and the number, what a stored answer must have answered to be reused."""

    check: Check
    subject: str  # current | new | callback
    e164: str
    ask: Callable[[Operator], Call]
    detail: str = ""


def _tag(purpose: str, questions: list[Question]) -> str:
    """The questions' fingerprint, keyed (the audit keeps it, never the numbers or the names)."""
    material = json.dumps([purpose, [[q.check.value, q.subject, q.e164, q.detail] for q in questions]])
    return hmac.new(derived_key("operator-questions"), material.encode(), hashlib.sha256).hexdigest()[:32]


def _stored_call(row: OperatorCheck) -> Call:
    answered = row.error is None and row.result is not None
    return Call(row.operator, row.api, row.correlator, row.at, row.latency_ms, row.attempts,
                200 if answered else None, json.loads(row.result) if answered and row.result else None, row.error)


def _recent_answers(session: Session, uow: UnitOfWork, customer_id: int, purpose: str, tag: str,
                    questions: list[Question]) -> tuple[list[Asked], int] | None:
    """The answers stored for the very same questions within ``policy.operator_answer_reuse`` (and the audit entry
    that recorded them), when they stopped the journey or warned the advisor — a clean answer is never reused (a
    SIM swapped a minute after it must still be seen) — unless the demo control changed what the simulated
    operator says since."""
    since = uow.now - uow.policy.operator_answer_reuse
    entries = session.exec(select(AuditEntry).where(
        AuditEntry.customer_id == customer_id, AuditEntry.action == "operator_check",
        AuditEntry.outcome != LIMITED, AuditEntry.at >= since)
        .order_by(col(AuditEntry.id).desc()).limit(REUSE_LOOKBACK)).all()
    for entry in entries:
        try:
            details = json.loads(entry.details or "{}")
            correlators = [str(c["correlator"]) for c in details.get("calls") or []]
        except (ValueError, TypeError, KeyError):
            continue
        if details.get("purpose") != purpose or details.get("tag") != tag or len(correlators) != len(questions):
            continue
        if not (entry.outcome == "stopped" or (purpose == "callback" and entry.outcome == "signal")):
            return None  # the latest answer to these questions let the journey go on: ask again
        if session.exec(select(AuditEntry.id).where(AuditEntry.action == DEMO_SIGNAL_ACTION,
                                                    AuditEntry.at >= entry.at)).first() is not None:
            return None  # the simulated operator was told to say something else since: ask it again
        rows = {row.correlator: row for row in session.exec(select(OperatorCheck).where(
            OperatorCheck.customer_id == customer_id, col(OperatorCheck.correlator).in_(correlators))).all()}
        if set(rows) != set(correlators):
            return None
        return [Asked(q.check, q.subject, q.e164, _stored_call(rows[c])) for q, c in zip(questions, correlators,
                                                                                      strict=True)], entry.id or 0
    return None


def _over_the_limit(session: Session, uow: UnitOfWork, customer_id: int, actor: Actor) -> bool:
    """The customer's (and the asking advisor's) assessments within ``policy.operator_check_window`` reached the
    policy's cap: nothing more is asked of the operator for them until the window moves on. What counts is the
    reservation each one writes before asking, under the customer's lock (:func:`_reserve`), not its answers
    stored afterwards: simultaneous requests cannot all pass the cap while each waits for the operator."""
    policy = uow.policy
    made = select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == RESERVED, AuditEntry.at > uow.now - policy.operator_check_window)
    if session.exec(made.where(AuditEntry.customer_id == customer_id)).one() >= policy.operator_checks_per_customer:
        return True
    if actor.kind != "advisor" or not actor.id:
        return False
    by_advisor = made.where(AuditEntry.actor_kind == "advisor", AuditEntry.actor_id == actor.id)
    return session.exec(by_advisor).one() >= policy.operator_checks_per_advisor


@dataclass(frozen=True)
class Assessment:
    """The operator's answers to a set of questions: asked now, reused (``reused_from``: the audit entry of the
    answers), or not asked at all (``rate_limited``: beyond the policy's cap)."""

    asked: list[Asked]
    answers: Answers
    source: str
    tag: str
    reused_from: int | None = None

    def policy(self, policy: Policy) -> Policy:
        """The policy the verdict is made under: beyond the cap nothing was asked, and that fails closed."""
        return replace(policy, operator_fail_closed=True) if self.source == LIMITED else policy


def _known(session: Session, uow: UnitOfWork, customer_id: int, purpose: str, questions: list[Question],
           actor: Actor) -> Assessment | None:
    """What is known without asking, read in the caller's transaction: the answers just given to the same
    questions (reused), or nothing to ask beyond the cap (rate-limited); None when the operator must be asked."""
    tag = _tag(purpose, questions)
    recent = _recent_answers(session, uow, customer_id, purpose, tag, questions)
    if recent is not None:
        return Assessment(recent[0], _answers(recent[0]), REUSED, tag, recent[1])
    if _over_the_limit(session, uow, customer_id, actor):
        return Assessment([], Answers(unanswered=frozenset(q.check for q in questions)), LIMITED, tag)
    return None


def _reserve(tx: Tx, customer_id: int, purpose: str, questions: list[Question]) -> Assessment | None:
    """In the caller's transaction, which holds the customer's lock: what is known without asking
    (:func:`_known`); else a reservation of one assessment under the cap, audited ``operator_ask`` before the
    operator is asked (what :func:`_over_the_limit` counts)."""
    known = _known(tx.session, tx.uow, customer_id, purpose, questions, tx.actor)
    if known is None:
        tx.record(RESERVED, "ok", customer_id=customer_id, purpose=purpose, tag=_tag(purpose, questions))
    return known


def _ask(uow: UnitOfWork, purpose: str, questions: list[Question], known: Assessment | None) -> Assessment:
    """Outside any transaction: what is known, or the operator's answers to the questions now."""
    if known is not None:
        return known
    operator = uow.operator
    asked = [Asked(q.check, q.subject, q.e164, q.ask(operator)) for q in questions]
    return Assessment(asked, _answers(asked), ASKED, _tag(purpose, questions))


def _assess(uow: UnitOfWork, customer_id: int, purpose: str, questions: list[Question], actor: Actor) -> Assessment:
    """Ask the questions — or reuse the answers just given to the same ones, or ask nothing beyond the cap."""
    with uow.write(actor) as tx:
        lock_customer(tx.session, customer_id)
        known = _reserve(tx, customer_id, purpose, questions)
    return _ask(uow, purpose, questions, known)


def _store(tx: Tx, customer_id: int | None, purpose: str, assessment: Assessment, verdict: Verdict,
           request_id: str | None = None) -> None:
    """Every answer asked in ``operator_check``, and one audit entry for the whole assessment (hash-chained):
    ``operator_check`` (``rate_limited`` when nothing was asked), or ``operator_check_reused``."""
    asked = assessment.asked
    if assessment.source == ASKED:
        for item in asked:
            call = item.call
            tx.session.add(OperatorCheck(
                customer_id=customer_id, operator=call.operator, api=call.api, correlator=call.correlator, at=call.at,
                latency_ms=call.latency_ms, attempts=call.attempts, purpose=purpose, subject=item.subject,
                number=_masked(item.e164), result=call.result, error=call.error))
    outcome = "stopped" if verdict.stopped else ("signal" if verdict.signals else "ok")
    action = "operator_check_reused" if assessment.source == REUSED else "operator_check"
    tx.record(action, LIMITED if assessment.source == LIMITED else outcome, customer_id=customer_id,
              request_id=request_id, purpose=purpose, tag=assessment.tag, reused_from=assessment.reused_from,
              signal=verdict.signals[0].value if verdict.signals else None,
              signals=[r.value for r in verdict.signals] or None,
              operator=asked[0].call.operator if asked else None,
              calls=[{"api": a.call.api, "correlator": a.call.correlator, "subject": a.subject,
                      "error": a.call.error, "latency_ms": a.call.latency_ms} for a in asked])
    tx.changed(customer_id)


def _change_questions(customer: Customer, new_e164: str) -> list[Question]:
    questions = []
    if customer.secure_phone_e164:
        current = customer.secure_phone_e164
        questions.append(Question(Check.CURRENT_SIM_SWAP, "current", current, lambda op: op.sim_swap_date(current)))
    names = json.dumps([customer.first_name, customer.last_name])
    return [*questions,
            Question(Check.NEW_SIM_SWAP, "new", new_e164, lambda op: op.sim_swap_date(new_e164)),
            Question(Check.NEW_FORWARDING, "new", new_e164, lambda op: op.unconditional_forwarding(new_e164)),
            Question(Check.KYC_MATCH, "new", new_e164,
                     lambda op: op.kyc_match(new_e164, customer.first_name, customer.last_name), names)]


def _customer(uow: UnitOfWork, customer_id: int) -> Customer:
    with uow.read() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise Refused("error.generic")
        session.expunge(customer)
        return customer


@dataclass(frozen=True)
class ChangeCheck:
    """The operator's questions about a change of secure number, prepared inside the caller's transaction
    (:func:`prepare_change`), asked outside any (:func:`ask_change`), answered and recorded in the next
    (:func:`record_change`)."""

    customer_id: int
    purpose: str
    questions: list[Question]
    known: Assessment | None
    new_e164: str


def prepare_change(tx: Tx, customer: Customer, new_e164: str, *, purpose: str = "change") -> ChangeCheck:
    """In the caller's transaction, which holds the customer's lock (after its local rules): the questions, and
    whether their answers are known without asking (reused, or beyond the cap) — else the reservation under the
    cap (:func:`_reserve`)."""
    customer_id = customer.id or 0
    questions = _change_questions(customer, new_e164)
    return ChangeCheck(customer_id, purpose, questions, _reserve(tx, customer_id, purpose, questions), new_e164)


def ask_change(uow: UnitOfWork, check: ChangeCheck) -> Assessment:
    """Outside any transaction (the operator is another system, §12.4)."""
    return _ask(uow, check.purpose, check.questions, check.known)


def _store_change(tx: Tx, check: ChangeCheck, assessment: Assessment) -> Verdict:
    """The verdict on a change's answers, and the answers stored with it."""
    verdict = assess_change(assessment.answers, tx.now, assessment.policy(tx.uow.policy))
    _store(tx, check.customer_id, check.purpose, assessment, verdict)
    return verdict


def record_change(tx: Tx, check: ChangeCheck, assessment: Assessment, customer: Customer | None = None) -> Verdict:
    """In the next transaction: the answers stored and audited, and the verdict. Online (``purpose`` change) a
    stopping verdict is a refusal — ``operator.current_sim_swap``, ``operator.new_number`` or
    ``operator.unavailable``, the customer goes to the advisor (J6) with that reason — committed with the
    answers; in branch (``advisor_change``) it is returned, and the recorded signal calls for a second advisor.

    ``customer``, locked by this transaction: the answers are about it only if the questions asked still describe
    it (its number and names did not change while the operator answered); else the request is refused
    (``error.generic``) after the answers are stored, and the next « Confirmer » asks about the customer as it is."""
    verdict = _store_change(tx, check, assessment)
    if customer is not None and _tag(check.purpose, _change_questions(customer, check.new_e164)) != assessment.tag:
        raise Refused("error.generic", action="change_requested", customer_id=check.customer_id,
                      problem="operator.questions_changed")
    if verdict.stopped and check.purpose == "change":
        assert verdict.primary is not None
        raise Refused(REFUSALS[verdict.primary], customer_id=check.customer_id,
                      reasons=[r.value for r in verdict.reasons])
    return verdict


def keep_answers(uow: UnitOfWork, check: ChangeCheck, assessment: Assessment, actor: Actor) -> None:
    """The answers stored in a transaction of their own, when the one meant to store them failed (an error, not a
    refusal: the caller re-raises it). At best: if this fails too, the error is logged by its type and the
    caller's stands — the reservation already counts against the cap."""
    try:
        with uow.write(actor) as tx:
            _store_change(tx, check, assessment)
    except Exception as exc:
        log.error("the operator's answers could not be stored (%s)", type(exc).__name__)


def guard_change(uow: UnitOfWork, customer_id: int, new_e164: str, *, actor: Actor,
                 purpose: str = "change") -> Verdict:
    """Ask the operator about a change of secure number to ``new_e164`` and record its answers, in transactions
    of its own (:func:`record_change` says what the verdict does)."""
    customer = _customer(uow, customer_id)
    questions = _change_questions(customer, new_e164)
    assessment = _assess(uow, customer_id, purpose, questions, actor)
    with uow.write(actor) as tx:
        return record_change(tx, ChangeCheck(customer_id, purpose, questions, None, new_e164), assessment)


def guard_activation(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> str | None:
    """J4: before an SMS code of a Sécur'Pass move goes to the current number, is its SIM a new one? None, or the
    i18n key of the refusal (recorded; the customer goes to the advisor)."""
    customer = _customer(uow, customer_id)
    if not customer.secure_phone_e164:
        return None
    current = customer.secure_phone_e164
    assessment = _assess(uow, customer_id, "activation", [
        Question(Check.CURRENT_SIM_SWAP, "current", current, lambda op: op.sim_swap_date(current))], actor)
    verdict = assess_activation(assessment.answers, uow.now, assessment.policy(uow.policy))
    with uow.write(actor) as tx:
        _store(tx, customer_id, "activation", assessment, verdict)
    return REFUSALS[verdict.primary] if verdict.primary else None


def guard_recycling(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> None:
    """J7 asks Number Recycling first: has the number changed hands since the customer last confirmed it? Then
    no SMS goes to it any more (``number_recycled_at``) and the customer must verify it with the advisor
    (``operator.recycled``); without an answer, fail closed (``operator.unavailable``) or go on."""
    customer = _customer(uow, customer_id)
    if not customer.secure_phone_e164:
        return
    since: date = (customer.number_confirmed_at or customer.number_changed_at or uow.now).date()
    current = customer.secure_phone_e164
    assessment = _assess(uow, customer_id, "stale_number", [
        Question(Check.RECYCLING, "current", current, lambda op: op.number_recycled(current, since),
                 since.isoformat())], actor)
    verdict = assess_recycling(assessment.answers, assessment.policy(uow.policy))
    with uow.write(actor) as tx:
        _store(tx, customer_id, "stale_number", assessment, verdict)
        if verdict.primary is Reason.RECYCLED:
            locked = lock_customer(tx.session, customer_id)
            if locked.secure_phone_e164 == customer.secure_phone_e164:
                locked.number_recycled_at = tx.now
                tx.session.add(locked)
        if verdict.primary is not None:
            raise Refused(REFUSALS[verdict.primary], customer_id=customer_id)


# --- the advisor's side ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallbackCheck:
    """Before calling the customer back: ``forwarded`` (calls to the number reach another phone), or
    ``unknown`` (the operator did not answer)."""

    forwarded: bool
    unknown: bool
    at: str
    operator: str


def _agency_customer(session: Session, advisor_id: int, identifier: str) -> Customer:
    advisor = session.get(Advisor, advisor_id)
    customer = session.exec(select(Customer).where(Customer.identifier == key(identifier))).first() if advisor else None
    if advisor is None or customer is None or customer.agency_id != advisor.agency_id:
        raise Refused("advisor.not_found")
    session.expunge(customer)
    return customer


def check_callback(uow: UnitOfWork, advisor_id: int, identifier: str, *, actor: Actor,
                   lang: str = "fr") -> CallbackCheck | None:
    """Call Forwarding Signal on the customer's secure number, before an advisor calls them back (« Être
    rappelé »): stored and audited; the sheet warns while it says the calls are forwarded."""
    with uow.read() as session:
        customer = _agency_customer(session, advisor_id, identifier)
    if not customer.secure_phone_e164:
        return None
    number = customer.secure_phone_e164
    assessment = _assess(uow, customer.id or 0, "callback", [
        Question(Check.FORWARDING, "callback", number, lambda op: op.unconditional_forwarding(number))], actor)
    verdict = assess_callback(assessment.answers)
    with uow.write(actor) as tx:
        _store(tx, customer.id, "callback", assessment, verdict)
    first = assessment.asked[0].call if assessment.asked else None
    return CallbackCheck(forwarded=Reason.FORWARDING in verdict.noted,
                         unknown=Check.FORWARDING in assessment.answers.unanswered,
                         at=local_time(first.at if first else uow.now, lang),
                         operator=first.operator if first else uow.operator.name)


def has_open_callback(uow: UnitOfWork, advisor_id: int, identifier: str) -> bool:
    """The customer asked to be called back (« Être rappelé ») and nobody has closed it yet."""
    with uow.read() as session:
        customer = _agency_customer(session, advisor_id, identifier)
        return session.exec(select(ContactRequest.id).where(
            ContactRequest.customer_id == customer.id, ContactRequest.status != "closed")).first() is not None


@dataclass(frozen=True)
class AnswerView:
    """One answer of the operator as the advisor's sheet shows it: ``summary`` is an i18n key whose ``{n}`` is
    ``n`` (« SIM changée il y a {n} h »); ``error`` the operator's error, when there was no answer."""

    at: str
    operator: str
    api: str
    purpose: str
    subject: str
    number: str
    summary: str
    n: str
    error: str
    latency_ms: int
    correlator: str


def _summary(row: OperatorCheck, now: datetime) -> tuple[str, str]:
    if row.error or row.result is None:
        return "op.answer.none", ""
    body = json.loads(row.result)
    if row.api.startswith("sim-swap/"):
        changed = _when(body.get("latestSimChange")) if isinstance(body, dict) else None
        if changed is None:
            return "op.sim.unchanged", ""
        hours = max(0, int((now - changed).total_seconds() // 3600))
        return ("op.sim.changed.hours", str(hours)) if hours < 48 else ("op.sim.changed.days", str(hours // 24))
    if row.api.startswith("call-forwarding-signal/"):
        return ("op.fwd.active" if isinstance(body, dict) and body.get("active") else "op.fwd.inactive"), ""
    if row.api.startswith("kyc-match/"):
        found = set(body.values()) if isinstance(body, dict) else set()
        return ("op.kyc.mismatch" if "false" in found else "op.kyc.match" if found == {"true"}
                else "op.kyc.unknown"), ""
    if row.api.startswith("number-recycling/"):
        return ("op.recycled.yes" if isinstance(body, dict) and body.get("phoneNumChanged") else "op.recycled.no"), ""
    return "op.answer.other", ""


def sheet_answers(uow: UnitOfWork, advisor_id: int, identifier: str, *, lang: str = "fr") -> list[AnswerView]:
    """The operator's latest answers about this customer, newest first (the sheet's own section)."""
    with uow.read() as session:
        customer = _agency_customer(session, advisor_id, identifier)
        rows = session.exec(select(OperatorCheck).where(OperatorCheck.customer_id == customer.id)
                            .order_by(col(OperatorCheck.at).desc(), col(OperatorCheck.id).desc())
                            .limit(SHEET_LIMIT)).all()
    views = []
    for row in rows:
        summary, n = _summary(row, uow.now)
        views.append(AnswerView(local_time(row.at, lang), row.operator, row.api, row.purpose, row.subject, row.number,
                                summary, n, row.error or "", row.latency_ms, row.correlator))
    return views


def latest_callback(uow: UnitOfWork, advisor_id: int, identifier: str, *, lang: str = "fr") -> CallbackCheck | None:
    """The last call-forwarding check before a call-back, if any (what the sheet's warning says)."""
    with uow.read() as session:
        customer = _agency_customer(session, advisor_id, identifier)
        row = session.exec(select(OperatorCheck).where(OperatorCheck.customer_id == customer.id,
                                                       OperatorCheck.purpose == "callback")
                           .order_by(col(OperatorCheck.at).desc(), col(OperatorCheck.id).desc())).first()
    if row is None:
        return None
    summary, _ = _summary(row, uow.now)
    return CallbackCheck(forwarded=summary == "op.fwd.active", unknown=summary == "op.answer.none",
                         at=local_time(row.at, lang), operator=row.operator)


# --- the demo control (demo mode only, §12.1) --------------------------------------------------------------

DEMO_SIGNALS = ("sim_swap", "forwarding", "forwarding_off", "recycled")


def _refuse_signal(uow: UnitOfWork, actor: Actor, **details: Any) -> None:
    with uow.write(actor):
        raise Refused("demo.op.invalid", action=DEMO_SIGNAL_ACTION, outcome="refused", demo=demo_mode(), **details)


def demo_set_signal(uow: UnitOfWork, advisor_id: int, raw_number: str, signal: str, *, actor: Actor) -> str:
    """For a live demonstration: make the simulated operator report ``signal`` on any number from now on (a SIM
    changed now, an unconditional forwarding on or off, the number given to a new subscriber today). Demo mode
    and an advisor only; the number as the change form reads it. The masked number; ``Refused`` otherwise.
    Audited (``demo_operator_signal``), refused attempts too; the operator's answers stored before it are not
    reused after it (the simulator says something else now)."""
    with uow.read() as session:
        if session.get(Advisor, advisor_id) is None:
            raise Refused("advisor.not_found")
    named = signal if signal in DEMO_SIGNALS else "other"
    if not demo_mode() or signal not in DEMO_SIGNALS:
        _refuse_signal(uow, actor, signal=named, problem="signal" if demo_mode() else "demo_off")
    try:
        number = parse_new_number(key(raw_number, NUMBER_LIMIT), "FR", current_e164=None, policy=uow.policy)
    except NumberRejected:
        _refuse_signal(uow, actor, signal=named, problem="number")
        raise  # not reached: _refuse_signal raises
    simulator = get_simulator(uow.url)
    if signal == "sim_swap":
        simulator.swap_sim(number.e164, at=uow.now)
    elif signal in ("forwarding", "forwarding_off"):
        simulator.forward_calls(number.e164, active=signal == "forwarding")
    else:
        simulator.recycle(number.e164, since=uow.now.date())
    with uow.write(actor) as tx:
        tx.record(DEMO_SIGNAL_ACTION, "ok", signal=signal, number=number.masked)
    return number.masked
