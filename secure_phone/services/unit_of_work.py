"""The unit of work every use case runs in, and the one way a use case refuses.

A :class:`UnitOfWork` carries what a use case needs from outside the domain — the database, MySys, the clock
(one ``now`` for the whole use case), the policy — so that no service takes a URL, a MySys or a clock of its
own, and tests hand in theirs (cosmicpython's ``service_layer/unit_of_work.py`` is the model). A use case
opens one or more transactions with :meth:`UnitOfWork.write` (or reads with :meth:`UnitOfWork.read`); MySys,
another system, is called between two of them.

Inside a transaction the service works through a :class:`Tx`: ``tx.session`` for the rows, ``tx.record`` for
the audit trail (with the transaction's actor and time), ``tx.notify`` to queue a notification in the outbox,
``tx.changed`` to announce that a customer's screens must follow. The announcements are published once the
transaction commits (:mod:`secure_phone.services.events`), never before, never for a rolled-back one.

:class:`Refused` is the one way to refuse: raised inside ``uow.write``, it records its audit entry (when it
names an ``action``), commits that record together with what the transaction already did that must stay (a
failure counter, a lockout), publishes, and reaches the caller with the i18n ``code`` to show. Any other
exception rolls everything back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from secure_phone.adapters import db, notifications
from secure_phone.adapters.mysys import MySys, get_mysys
from secure_phone.adapters.operator import Operator, get_operator
from secure_phone.domain.phone import NumberProblem, NumberRejected
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.services import audit, events
from secure_phone.services.audit import SYSTEM, Actor
from secure_phone.settings import new_number_proof, operator_fail_open


def utcnow() -> datetime:
    return datetime.now(UTC)


def configured_policy() -> Policy:
    """The app's policy: the specified figures, with the switches the configuration sets (§12.3's proof, §12.4's
    fail-open)."""
    proof, closed = new_number_proof(), not operator_fail_open()
    if (proof, closed) == (DEFAULT_POLICY.new_number_proof, DEFAULT_POLICY.operator_fail_closed):
        return DEFAULT_POLICY
    return replace(DEFAULT_POLICY, new_number_proof=proof, operator_fail_closed=closed)


class Refused(Exception):
    """A use case's refusal: ``code`` is the i18n key the customer or advisor is shown.

    ``action`` / ``outcome`` / ``customer_id`` / ``request_id`` / ``details`` are the audit entry recorded when
    it is raised inside :meth:`UnitOfWork.write` (none when ``action`` is None: a refusal with nothing to
    record, e.g. « not found » before anything is known). ``tries_left`` tells a wrong code's remaining tries.
    ``announce``: the customer's screens must follow the refusal too (an advisor's open sheet shows it).
    """

    def __init__(self, code: str, *, action: str | None = None, outcome: str = "refused",
                 customer_id: int | None = None, request_id: str | None = None, tries_left: int | None = None,
                 announce: bool = False, **details: Any) -> None:
        Exception.__init__(self, code)  # not the next class's: a NumberRefused is also a NumberRejected
        self.code = code
        self.action = action
        self.outcome = outcome
        self.customer_id = customer_id
        self.request_id = request_id
        self.tries_left = tries_left
        self.announce = announce
        self.details = details


class NumberRefused(Refused, NumberRejected):
    """A new number refused by the rules of §5.1 (the domain's :class:`NumberRejected`), as a refusal."""

    def __init__(self, problem: NumberProblem, /, *, regions: tuple[str, ...] = (), **audit: Any) -> None:
        Refused.__init__(self, f"number.{problem.value}", **audit)
        self.problem = problem
        self.regions = regions


class Tx:
    """One transaction of a unit of work: its session, and what it records, queues and announces."""

    def __init__(self, uow: UnitOfWork, session: Session, actor: Actor) -> None:
        self.uow = uow
        self.session = session
        self.actor = actor
        self.events: list[events.Event] = []
        self._audit: list[audit.Entry] = []

    @property
    def now(self) -> datetime:
        return self.uow.now

    def record(self, action: str, outcome: str, *, customer_id: int | None = None, request_id: str | None = None,
               actor: Actor | None = None, **details: Any) -> None:
        """Add an audit entry (this transaction's actor and time unless told otherwise): chained to the trail, in
        the order recorded, when the transaction commits (:meth:`append_audit`)."""
        self._audit.append(audit.entry(actor or self.actor, action, outcome, now=self.now, customer_id=customer_id,
                                       request_id=request_id, **details))
        if customer_id is not None:
            self.events.append(events.AuditRecorded(customer_id))

    def append_audit(self) -> None:
        """Chain what :meth:`record` kept, just before the commit: the trail's head, which every writer locks, is
        then held for these statements and the commit only, not for the whole transaction."""
        entries, self._audit = self._audit, []
        audit.append(self.session, entries)

    def notify(self, **message: Any) -> None:
        """Queue a notification in the outbox (``notifications.enqueue``'s arguments but the session and now)."""
        notifications.enqueue(self.session, now=self.now, **message)
        self.events.append(events.OutboxHasWork())

    def waiting_for_mysys(self) -> None:
        """An approved change is left for the repair to finish (MySys did not answer): wake it once this
        commits, in this process and in a separate dispatcher."""
        notifications.wake_dispatchers(self.session)
        self.events.append(events.ChangeWaiting())

    def changed(self, customer_id: int | None) -> None:
        """The customer's screens (their tabs, the advisors' sheets) must follow, once this commits."""
        if customer_id is not None:
            self.events.append(events.CustomerChanged(customer_id))


class UnitOfWork:
    """What one use case needs from outside: database, MySys, the operator, clock, policy (see the module).

    ``now`` is read once, when the unit of work is made: every transaction, audit entry and rule of the use
    case sees the same instant. ``url`` None means the app's database; ``mysys`` None the process's MySys.
    """

    def __init__(self, url: str | None = None, *, now: datetime | None = None,
                 clock: Callable[[], datetime] | None = None, policy: Policy | None = None,
                 mysys: MySys | None = None, operator: Operator | None = None) -> None:
        self.url = url
        self.now = now if now is not None else (clock or utcnow)()
        if self.now.tzinfo is None:
            raise ValueError("a unit of work's clock must be timezone-aware")
        self.policy = policy or configured_policy()
        self._mysys = mysys
        self._operator = operator

    @property
    def mysys(self) -> MySys:
        return self._mysys or get_mysys(self.url)

    @property
    def operator(self) -> Operator:
        """The mobile operator's APIs (§12.4): the configured operator, or the app's simulator."""
        return self._operator or get_operator(self.url)

    @contextlib.contextmanager
    def write(self, actor: Actor = SYSTEM) -> Iterator[Tx]:
        """One transaction: committed (then its announcements published) when the block ends, or when it raises
        :class:`Refused` (after recording the refusal); rolled back on anything else."""
        with db.transaction(self.url) as session:
            tx = Tx(self, session, actor)
            try:
                yield tx
                tx.append_audit()
            except Refused as refused:
                if refused.action is not None:
                    tx.record(refused.action, refused.outcome, customer_id=refused.customer_id,
                              request_id=refused.request_id, **refused.details)
                if refused.announce:
                    tx.changed(refused.customer_id)
                tx.append_audit()
                session.commit()
                events.publish(tx.events)
                raise
        events.publish(tx.events)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for one read-only Core statement built once (hot reads), without an ORM session (on
        PostgreSQL in autocommit: several statements would each see their own snapshot — use :meth:`read`)."""
        with db.reading(self.url) as connection:
            yield connection

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it does not take the write lock)."""
        with db.read_only(self.url) as session:
            yield session
