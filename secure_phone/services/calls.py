"""§12.5 « Is my bank calling me? »: the advisor's calls to a customer, what the customer's app shows, the report.

The seed's warning is a fraudster who phones pretending to be the bank. Only the bank knows whether one of its
advisors is on the phone with the customer right now, so the app says it, live: « Sophie Lambert vous appelle »
while a call started from the sheet (« Appeler le client ») is open, and, the rest of the time, that nobody from
the bank is calling — whoever claims to be is not.

* :func:`start_call` — an advisor of the customer's agency, from the sheet; one open call per customer (a second
  advisor is told who is already calling; the same advisor clicking twice gets the same call).
* :func:`end_call` — « Raccrocher »: **only the advisor who started the call** ends it. The call is that
  advisor's statement to the customer (« c'est moi qui vous appelle »), and only that advisor knows when it is
  over; a colleague ending it would tell the customer to hang up on a real call. A call nobody ends ends by
  itself after ``Policy.call_max_duration`` (:meth:`Policy.call_timed_out`): a call still shown after it is over
  would vouch for the next fraudster's call.
* :func:`call_status` — for the customer's screens (app and web): the open call, or None.
* :func:`report_call` — the customer, one tap: during a bank call (« cet appel me semble suspect ») or without one
  (« quelqu'un m'appelle en se présentant comme ma banque »). A fraud alert for the advisors: a risk signal on
  the sheet's « Point de vigilance » (:data:`RiskSignal.CALL_REPORTED`), the timeline, and a call-back request in
  the agency's queue. Repeated taps count once (per call; without one, per ``Policy.call_report_interval``).

Every write is audited (``call_started``, ``call_ended``, ``call_reported``), refusals of an advisor's write
included, and announces the customer (``tx.changed``): the customer's open tabs and the advisors' open sheets
follow live, through the same push as every other change (:mod:`secure_phone.services.events`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from secure_phone.adapters.models import Advisor, Agency, AuditEntry, BankCall, ContactRequest, Customer
from secure_phone.domain.policy import Policy
from secure_phone.domain.risk import RISK_WINDOW
from secure_phone.services.advisor import _advisor, _customer, _customer_for
from secure_phone.services.audit import SYSTEM, Actor
from secure_phone.services.customers import PARIS, local_time
from secure_phone.services.rows import lock_customer
from secure_phone.services.unit_of_work import Refused, Tx, UnitOfWork

REPORTS_SHOWN = 5
SUSPICIOUS_CALL = "suspicious_call"  # the reason of the call-back request a report puts in the agency's queue


@dataclass(frozen=True)
class CallView:
    """An open bank call, as the customer's screens and the advisor's sheet show it."""

    id: str
    advisor_id: int
    advisor_name: str  # « Sophie Lambert »
    agency_name: str
    since: str  # « 18:21 », Paris time
    ends_at: datetime  # when it ends by itself, at the latest (the screens re-read it then)
    reported: bool  # the customer reported this call


@dataclass(frozen=True)
class ReportView:
    at: str
    during_call: bool
    advisor_name: str  # the advisor whose call was reported; empty for a report without a bank call


@dataclass(frozen=True)
class SheetCalls:
    """The calls part of the advisor's sheet: the open call, and the customer's recent reports (newest first)."""

    call: CallView | None
    mine: bool  # the open call is this advisor's (« Raccrocher »)
    reports: list[ReportView] = field(default_factory=list)


@dataclass(frozen=True)
class Reported:
    during_call: bool
    advisor_name: str
    repeated: bool  # a repeat of a report already made (nothing new recorded)


def _names(session: Session, advisor_id: int) -> tuple[str, str]:
    advisor = session.get(Advisor, advisor_id)
    agency = session.get(Agency, advisor.agency_id) if advisor else None
    return (f"{advisor.first_name} {advisor.last_name}" if advisor else "", agency.name if agency else "")


def _call_view(call: Any, advisor_name: str, agency_name: str, policy: Policy) -> CallView:
    """``call``: a :class:`BankCall` or a row of its columns (``id``, ``advisor_id``, ``started_at``,
    ``reported_at``)."""
    return CallView(call.id, call.advisor_id, advisor_name, agency_name,
                    call.started_at.astimezone(PARIS).strftime("%H:%M"), call.started_at + policy.call_max_duration,
                    call.reported_at is not None)


def _view(session: Session, call: BankCall, policy: Policy) -> CallView:
    return _call_view(call, *_names(session, call.advisor_id), policy)


_OPEN = select(BankCall).where(BankCall.customer_id == bindparam("customer_id"), col(BankCall.ended_at).is_(None)) \
    .order_by(col(BankCall.started_at).desc())
_OPEN_CALL = {False: _OPEN, True: _OPEN.with_for_update()}
"""Built once: every home screen asks whether the bank is calling."""


def _open(session: Session, customer_id: int, now: datetime, policy: Policy, *, lock: bool = False) -> BankCall | None:
    """The customer's open call, if one was not ended and is within the policy's limit."""
    call = session.execute(_OPEN_CALL[lock], {"customer_id": customer_id}).scalars().first()
    return call if call is not None and not policy.call_timed_out(call.started_at, now) else None


def _end_timed_out(tx: Tx, customer_id: int) -> None:
    """Calls their advisor forgot to end: ended, at the limit, and audited (inside a write, the customer locked)."""
    rows = tx.session.exec(select(BankCall).where(BankCall.customer_id == customer_id,
                                                  col(BankCall.ended_at).is_(None)).with_for_update()).all()
    for call in rows:
        if tx.uow.policy.call_timed_out(call.started_at, tx.now):
            call.ended_at, call.end_reason = call.started_at + tx.uow.policy.call_max_duration, "expired"
            tx.session.add(call)
            tx.record("call_ended", "expired", customer_id=customer_id, call=call.id, advisor=call.advisor_id,
                      actor=SYSTEM)  # the policy ended it, not whoever's request noticed


def start_call(uow: UnitOfWork, advisor_id: int, identifier: str, *, actor: Actor) -> CallView:
    """« Appeler le client »: the customer's app says, live, that this advisor is calling."""
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        customer = _customer_for(tx, advisor, identifier, "call_started")
        _end_timed_out(tx, customer.id or 0)
        call = _open(tx.session, customer.id or 0, tx.now, uow.policy, lock=True)
        if call is not None and call.advisor_id == advisor.id:  # a double click: the same call
            return _view(tx.session, call, uow.policy)
        if call is not None:
            raise Refused("call.busy", action="call_started", customer_id=customer.id, problem="call.busy",
                          call=call.id, advisor=call.advisor_id)
        call = BankCall(customer_id=customer.id or 0, advisor_id=advisor.id or 0, started_at=tx.now)
        tx.session.add(call)
        tx.session.flush()
        tx.record("call_started", "ok", customer_id=customer.id, call=call.id)
        tx.changed(customer.id)
        return _view(tx.session, call, uow.policy)


def end_call(uow: UnitOfWork, advisor_id: int, identifier: str, *, actor: Actor) -> None:
    """« Raccrocher »: only the advisor who started the call (see the module's documentation)."""
    with uow.write(actor) as tx:
        advisor = _advisor(tx.session, advisor_id)
        customer = _customer_for(tx, advisor, identifier, "call_ended")
        _end_timed_out(tx, customer.id or 0)
        call = _open(tx.session, customer.id or 0, tx.now, uow.policy, lock=True)
        if call is None:
            raise Refused("call.none", action="call_ended", customer_id=customer.id, problem="call.none",
                          announce=True)  # ended meanwhile (by itself): the open sheets follow
        if call.advisor_id != advisor.id:
            raise Refused("call.not_yours", action="call_ended", customer_id=customer.id, problem="call.not_yours",
                          call=call.id, advisor=call.advisor_id)
        call.ended_at, call.end_reason = tx.now, "advisor"
        tx.session.add(call)
        tx.record("call_ended", "ok", customer_id=customer.id, call=call.id,
                  seconds=int((tx.now - call.started_at).total_seconds()))
        tx.changed(customer.id)


_B, _AD, _AG = (Model.__table__ for Model in (BankCall, Advisor, Agency))  # type: ignore[union-attr]
_SHOWN = (
    sa_select(_B.c.id, _B.c.advisor_id, _B.c.started_at, _B.c.reported_at,
              _AD.c.first_name.label("advisor_first"), _AD.c.last_name.label("advisor_last"),
              _AG.c.name.label("agency_name"))
    .select_from(_B.outerjoin(_AD, _AD.c.id == _B.c.advisor_id).outerjoin(_AG, _AG.c.id == _AD.c.agency_id))
    .where(_B.c.customer_id == bindparam("customer_id"), _B.c.ended_at.is_(None))
    .order_by(_B.c.started_at.desc())
    .limit(1)
)
"""The customer's newest call not ended, with what their screens show of it: one Core statement built once (every
push to the customer's screens reads it; a session and three ORM reads showed in the profile)."""


def call_status(uow: UnitOfWork, customer_id: int) -> CallView | None:
    """What the customer's screens say: the bank call in progress, or None (nobody from the bank is calling)."""
    with uow.reading() as connection:
        row = connection.execute(_SHOWN, {"customer_id": customer_id}).first()
    if row is None or uow.policy.call_timed_out(row.started_at, uow.now):
        return None
    name = f"{row.advisor_first} {row.advisor_last}" if row.advisor_first is not None else ""
    return _call_view(row, name, row.agency_name or "", uow.policy)


def sheet_calls(uow: UnitOfWork, advisor_id: int, identifier: str, *, lang: str = "fr") -> SheetCalls:
    """The sheet's calls part (the advisor's agency only, like the sheet): the open call and recent reports."""
    with uow.read() as session:
        advisor = _advisor(session, advisor_id)
        customer = _customer(session, advisor, identifier)
        call = _open(session, customer.id or 0, uow.now, uow.policy)
        view = _view(session, call, uow.policy) if call is not None else None
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.customer_id == customer.id, AuditEntry.action == "call_reported",
                                     AuditEntry.at >= uow.now - RISK_WINDOW)
            .order_by(col(AuditEntry.id).desc()).limit(REPORTS_SHOWN)).all()
        reports = []
        for entry in entries:
            details = _details(entry)
            caller = details.get("advisor")
            reports.append(ReportView(local_time(entry.at, lang), bool(details.get("during_call")),
                                      _names(session, caller)[0] if isinstance(caller, int) else ""))
    return SheetCalls(view, view is not None and view.advisor_id == advisor.id, reports)


def _details(entry: AuditEntry) -> dict:
    try:
        details = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def report_call(uow: UnitOfWork, customer_id: int, *, channel: str, actor: Actor) -> Reported:
    """« Signaler cet appel »: a fraud alert for the advisors (see the module's documentation)."""
    policy = uow.policy
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        _end_timed_out(tx, customer_id)
        call = _open(tx.session, customer_id, tx.now, policy, lock=True)
        advisor_name = _names(tx.session, call.advisor_id)[0] if call is not None else ""
        if call is not None:
            if call.reported_at is not None:
                return Reported(True, advisor_name, repeated=True)
            call.reported_at = tx.now
            tx.session.add(call)
            tx.record("call_reported", "raised", customer_id=customer_id, call=call.id, advisor=call.advisor_id,
                      during_call=True, signal="call_reported", via=channel)
        else:
            last = tx.session.exec(select(AuditEntry.at).where(
                AuditEntry.customer_id == customer_id, AuditEntry.action == "call_reported",
                AuditEntry.at >= tx.now - policy.call_report_interval)
                .order_by(col(AuditEntry.at).desc())).first()
            if policy.call_report_repeated(last, tx.now):
                return Reported(False, "", repeated=True)
            tx.record("call_reported", "raised", customer_id=customer_id, during_call=False,
                      signal="call_reported", via=channel)
        _queue_for_the_agency(tx, customer)
        tx.changed(customer_id)
        return Reported(call is not None, advisor_name, repeated=False)


def _queue_for_the_agency(tx: Tx, customer: Customer) -> None:
    """The report waits in the agency's call-back queue too (one open request with this reason at a time)."""
    already = tx.session.exec(select(ContactRequest.id).where(
        ContactRequest.customer_id == customer.id, ContactRequest.status != "closed",
        ContactRequest.reason == SUSPICIOUS_CALL)).first()
    if already is not None:
        return
    request = ContactRequest(customer_id=customer.id or 0, reason=SUSPICIOUS_CALL, channel=tx.actor.channel or "app",
                             created_at=tx.now)
    tx.session.add(request)
    tx.session.flush()
    tx.record("contact_requested", "ok", customer_id=customer.id, reason=SUSPICIOUS_CALL, contact=request.id)
